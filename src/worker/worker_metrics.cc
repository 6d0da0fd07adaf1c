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

void WorkerMetrics::observe_step(const StepReport& step) {
  step_seconds_.observe(step.seconds);
  step_predicted_.observe(step.predicted_seconds);
  step_tokens_.observe(step.n_prefill_tokens + step.n_decode_tokens);
  step_prefill_.observe(step.n_prefill_tokens);
  step_decode_.observe(step.n_decode_tokens);
  if (step.budgeted) steps_budgeted_++;
  step_overrun_.store(step.overrun);
}

void WorkerMetrics::render_device_memory(const std::string& model, const Backend::DeviceMemory& m, std::string& out) {
  const std::string l = "model_name=\"" + prom::escape_label(model) + "\"";
  help(out, "maas:device_memory_total_bytes", "gauge", "Memory of the device the model runs on.");
  line(out, "maas:device_memory_total_bytes", l, double(m.total));
  help(out, "maas:device_memory_used_bytes", "gauge", "Device memory in use, by every process.");
  line(out, "maas:device_memory_used_bytes", l, double(m.used));
  help(out, "maas:device_memory_weights_bytes", "gauge", "Device memory holding the model's weights.");
  line(out, "maas:device_memory_weights_bytes", l, double(m.weights));
  help(out, "maas:device_memory_kv_cache_bytes", "gauge", "Device memory holding the KV cache.");
  line(out, "maas:device_memory_kv_cache_bytes", l, double(m.kv_cache));
}

std::string WorkerMetrics::render(const std::string& model, const EngineStats& s, bool ready, double step_target_s) const {
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
  help(out, "maas:spec_decode_num_draft_tokens_total", "counter", "Speculative draft tokens run through the model.");
  line(out, "maas:spec_decode_num_draft_tokens_total", l, double(s.spec_draft_tokens));
  help(out, "maas:spec_decode_num_accepted_tokens_total", "counter", "Speculative draft tokens verified and kept.");
  line(out, "maas:spec_decode_num_accepted_tokens_total", l, double(s.spec_accepted_tokens));
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
  help(out, "vllm:iteration_tokens_total", "histogram", "Tokens per engine step (prompt and decode).");
  step_tokens_.render("vllm:iteration_tokens_total", l, out);
  help(out, "maas:step_duration_seconds", "histogram", "Engine step time: schedule, forward pass, sampling, outputs.");
  step_seconds_.render("maas:step_duration_seconds", l, out);
  help(out, "maas:step_predicted_duration_seconds", "histogram", "The step cost model's prediction for each step.");
  step_predicted_.render("maas:step_predicted_duration_seconds", l, out);
  help(out, "maas:step_prefill_tokens", "histogram", "Prompt (and recomputed) tokens per engine step.");
  step_prefill_.render("maas:step_prefill_tokens", l, out);
  help(out, "maas:step_decode_tokens", "histogram", "Generated tokens (decoding sequences) per engine step.");
  step_decode_.render("maas:step_decode_tokens", l, out);
  help(out, "maas:steps_budgeted_total", "counter", "Steps whose prompt tokens the step-time budget bounded.");
  line(out, "maas:steps_budgeted_total", l, double(steps_budgeted_.load()));
  help(out, "maas:step_time_target_seconds", "gauge", "The step-time budget while streams decode (0: off).");
  line(out, "maas:step_time_target_seconds", l, step_target_s);
  help(out, "maas:step_cost_overrun", "gauge",
       "95th percentile of measured / predicted step time; budgeted steps are planned at target / overrun.");
  line(out, "maas:step_cost_overrun", l, step_overrun_.load());
  return out;
}

}  // namespace maas
