// worker_metrics.h — the worker's Prometheus metrics (vLLM-compatible names where one exists):
// request counters by outcome, token counters, TTFT / inter-token / end-to-end latency
// histograms, and per engine step: its duration (and the cost model's prediction), tokens
// (vLLM's vllm:iteration_tokens_total), prompt and decode tokens. Engine gauges (running,
// waiting, KV usage) are read from EngineStats at scrape.
// Thread-safe: observations come from the engine thread, the output strands and HTTP threads.
#pragma once

#include <atomic>
#include <string>

#include "base/histogram.h"
#include "engine/engine.h"

namespace maas {

class WorkerMetrics {
 public:
  WorkerMetrics();
  void count_request(int http_status);        // every inference request, by final status
  void count_finish(const std::string& reason);  // stop | length | cancelled | error
  Histogram ttft{{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}};
  Histogram inter_token{{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5}};
  Histogram e2e{{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60}};
  void observe_step(const StepReport& step);  // engine thread, after every step
  std::string render(const std::string& model_name, const EngineStats& stats, bool ready, double step_target_s) const;
  // maas:device_memory_{total,used,weights,kv_cache}_bytes gauges, for a model on a device backend.
  static void render_device_memory(const std::string& model_name, const Backend::DeviceMemory& m, std::string& out);

 private:
  Histogram step_seconds_{{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5}};
  Histogram step_predicted_{{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5}};
  Histogram step_tokens_{{1, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096, 8192}};
  Histogram step_prefill_{{0, 1, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096, 8192}};
  Histogram step_decode_{{0, 1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256}};
  std::atomic<uint64_t> steps_budgeted_{0};
  std::atomic<double> step_overrun_{1.0};
  std::atomic<uint64_t> status_2xx_{0}, status_4xx_{0}, status_5xx_{0};
  std::atomic<uint64_t> finish_stop_{0}, finish_length_{0}, finish_cancelled_{0}, finish_error_{0};
};

}  // namespace maas
