// worker_metrics.cc — Prometheus text exposition of the worker's metrics.
#include "worker/worker_metrics.h"


namespace maas {
namespace {

void line(std::string& out, const std::string& name, const std::string& labels, double v) {
  prom::sample(out, name, labels, v);
}

void help(std::string& out, const std::string& name, const char* type, const char* text) {
  prom::help(out, name, type, text);
}

}  // namespace

WorkerMetrics::WorkerMetrics() = default;

void WorkerMetrics::count_request(int status) {
  if (status < 300) status_2xx_++;
  else if (status < 500) status_4xx_++;
  else status_5xx_++;
}

void WorkerMetrics::count_finish(const std::string& reason) {
  if (reason == "stop") finish_stop_++;
  else if (reason == "length") finish_length_++;
  else if (reason == "cancelled") finish_cancelled_++;
  else finish_error_++;
}

std::string WorkerMetrics::render(const std::string& model, const EngineStats& s, bool ready) const {
  const std::string l = "model_name=\"" + prom::escape_label(model) + "\"";
  std::string out;
  help(out, "vllm:num_requests_running", "gauge", "Requests with sequences in the running batch.");
  line(out, "vllm:num_requests_running", l, s.n_running);
  help(out, "vllm:num_requests_waiting", "gauge", "Requests waiting to be scheduled.");
  line(out, "vllm:num_requests_waiting", l, s.n_waiting);
  help(out, "vllm:kv_cache_usage_perc", "gauge", "Fraction of KV-cache blocks in use (0 to 1).");
  line(out, "vllm:kv_cache_usage_perc", l, s.n_kv_blocks_total ? double(s.n_kv_blocks_used) / s.n_kv_blocks_total : 0.0);
  help(out, "vllm:prompt_tokens_total", "counter", "Prompt tokens computed.");
  line(out, "vllm:prompt_tokens_total", l, double(s.prompt_tokens_total));
  help(out, "vllm:generation_tokens_total", "counter", "Tokens generated.");
  line(out, "vllm:generation_tokens_total", l, double(s.generation_tokens_total));
  help(out, "vllm:prefix_cache_hits_total", "counter", "Prompt tokens served from the prefix cache.");
  line(out, "vllm:prefix_cache_hits_total", l, double(s.prefix_cache_hit_tokens));
  help(out, "vllm:num_preemptions_total", "counter", "Sequences preempted for lack of KV blocks.");
  line(out, "vllm:num_preemptions_total", l, double(s.n_preemptions));
  help(out, "vllm:request_success_total", "counter", "Finished requests by finish reason.");
  line(out, "vllm:request_success_total", l + ",finished_reason=\"stop\"", double(finish_stop_.load()));
  line(out, "vllm:request_success_total", l + ",finished_reason=\"length\"", double(finish_length_.load()));
  line(out, "vllm:request_success_total", l + ",finished_reason=\"abort\"", double(finish_cancelled_.load()));
  line(out, "vllm:request_success_total", l + ",finished_reason=\"error\"", double(finish_error_.load()));
  help(out, "maas:http_requests_total", "counter", "Inference requests by HTTP status class.");
  line(out, "maas:http_requests_total", l + ",code=\"2xx\"", double(status_2xx_.load()));
  line(out, "maas:http_requests_total", l + ",code=\"4xx\"", double(status_4xx_.load()));
  line(out, "maas:http_requests_total", l + ",code=\"5xx\"", double(status_5xx_.load()));
  help(out, "maas:ready", "gauge", "1 when the worker accepts inference requests.");
  line(out, "maas:ready", l, ready ? 1 : 0);
  help(out, "vllm:time_to_first_token_seconds", "histogram", "Time to first token.");
  ttft.render("vllm:time_to_first_token_seconds", l, out);
  help(out, "vllm:inter_token_latency_seconds", "histogram", "Time between streamed tokens.");
  inter_token.render("vllm:inter_token_latency_seconds", l, out);
  help(out, "vllm:e2e_request_latency_seconds", "histogram", "End-to-end request latency.");
  e2e.render("vllm:e2e_request_latency_seconds", l, out);
  return out;
}

}  // namespace maas
