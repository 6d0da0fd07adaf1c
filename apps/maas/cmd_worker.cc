// cmd_worker.cc — `maas worker --model PATH [--host H] [--port P] [--api-key-file F]`: one
// model's inference server. Keys come from --api-key-file (one per line; blank lines and '#'
// comments skipped), the MAAS_API_KEY environment variable (comma-separated), and --api-key
// (visible to every local user in the process list, so a warning says so); all are accepted.
// Prints "listening on http://HOST:PORT" once the socket is bound, then loads the model
// (readiness answers 503 meanwhile). SIGTERM or SIGINT drains: readiness fails, running
// requests finish up to --drain-timeout seconds, then exit 0; during the load it exits 0 at once.
// --step-budget-ms T (default 200; 0 = off): while streams decode, prompt tokens join an engine
// step only as far as the learned step cost predicts it stays within T ms (the inter-token
// latency a stream sees); --min-prefill-tokens N is the prompt progress per step when the decodes
// alone fill T; --long-prefill-threshold N: prompts with more tokens left share a step's room
// with the prompts behind them.
// --weights-cache DIR --weights-sha256 HEX (the model file's SHA-256): the re-laid weights live in a
// file of DIR that every worker of the model on this machine maps shared (model/load_options.h).
// --device cpu|cuda[:N] (default cpu): the backend (model/backend.h); --threads N its CPU threads.
// --chat-template NAME|FILE: a built-in template (llama2, llama3, llama3.1, llama3.2) or a Jinja
// file in place of the model file's (engine/loaded_model.h); --ctx N: the context, clamped once
// to the model's training context and the KV cache (--kv-blocks).
// --gpu-memory-fraction F (default 0.9): on a device, weights and KV cache share F of its memory;
// without --kv-blocks the KV cache takes what the weights leave of it.
// --cuda-graphs on|off (default on): on a CUDA device, decode steps replay captured graphs
// (model/step_graph_plan.h); off launches every kernel of every step (A/B, or a way out).
// --kv-cache-dtype auto|f32|f16|q8_0 (default auto: f16 on the CPU, as llama.cpp; model/kv_cache.h):
// the KV cache's element type; f16 takes half the memory of f32 per token, q8_0 about a quarter.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "args.h"
#include "base/file_util.h"
#include "base/log.h"
#include "commands.h"
#include "worker/worker_server.h"

namespace maas {
namespace {

void add_key(std::string key, std::vector<std::string>* keys) {
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) key.pop_back();
  size_t start = key.find_first_not_of(" \t");
  if (start == std::string::npos || key[start] == '#') return;
  keys->push_back(key.substr(start));
}

Status add_keys_from_file_and_env(const std::string& path, std::vector<std::string>* keys) {
  if (!path.empty()) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      LOG_WARN("the API key file %s is readable by other users (chmod 600 it)", path.c_str());
    }
    ASSIGN_OR_RETURN(std::string text, read_file(path, 1 << 20));
    const size_t before = keys->size();
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      add_key(text.substr(pos, nl - pos), keys);
      pos = nl + 1;
    }
    if (keys->size() == before) return invalid_argument("--api-key-file " + path + " holds no key");
  }
  if (const char* env = std::getenv("MAAS_API_KEY"); env != nullptr) {
    std::string all = env;
    size_t pos = 0;
    while (pos <= all.size()) {
      size_t comma = all.find(',', pos);
      if (comma == std::string::npos) comma = all.size();
      add_key(all.substr(pos, comma - pos), keys);
      pos = comma + 1;
    }
  }
  return Status::Ok();
}

}  // namespace

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

int cmd_worker(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--model", "--host", "--port", "--api-key", "--api-key-file", "--threads", "--ctx", "--kv-blocks", "--max-num-seqs",
                                 "--max-batch-tokens", "--max-waiting", "--request-timeout", "--drain-timeout", "--served-model-name",
                                 "--step-budget-ms", "--min-prefill-tokens", "--long-prefill-threshold",
                                 "--weights-cache", "--weights-sha256", "--device", "--gpu-memory-fraction", "--kv-cache-dtype",
                                 "--chat-template", "--cuda-graphs", "--num-speculative-tokens",
                                 "--ngram-prompt-lookup-max", "--ngram-prompt-lookup-min"},
                          {"--no-prefix-caching", "--ignore-eos-default"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (!args->has("--model")) return report_error("usage: maas worker --model PATH [--host H] [--port P] [--api-key KEY ...]", 2);
  WorkerOptions o;
  o.model_path = args->get("--model");
  o.model_name = args->get("--served-model-name");
  o.chat_template = args->get("--chat-template");
  o.load.weights_cache_dir = args->get("--weights-cache");
  o.load.weights_sha256 = args->get("--weights-sha256");
  o.load.device = args->get("--device", "cpu");
  auto fraction = args->get_double("--gpu-memory-fraction", 0.9, 0.01, 1.0);
  if (!fraction.ok()) return report_error(fraction.status().message(), 2);
  o.load.gpu_memory_fraction = *fraction;
  auto graphs = parse_on_off(args->get("--cuda-graphs", "on"));
  if (!graphs.ok()) return report_error("--cuda-graphs: " + graphs.status().message(), 2);
  o.load.cuda_graphs = *graphs;
  if (Status s = o.load.validate(); !s.ok()) return report_error(s.message(), 2);
  o.host = args->get("--host", "127.0.0.1");
  o.api_keys = args->get_all("--api-key");
  if (!o.api_keys.empty()) {
    LOG_WARN("--api-key puts the key in the process list for every local user; prefer --api-key-file or MAAS_API_KEY");
  }
  if (Status s = add_keys_from_file_and_env(args->get("--api-key-file"), &o.api_keys); !s.ok()) {
    return report_error(s.message(), 2);
  }
  auto kv_type = parse_kv_type(args->get("--kv-cache-dtype", "auto"));
  if (!kv_type.ok()) return report_error("--kv-cache-dtype: " + kv_type.status().message(), 2);
  o.engine.kv_type = *kv_type;
  o.engine.enable_prefix_caching = !args->has("--no-prefix-caching");
  o.default_ignore_eos = args->has("--ignore-eos-default");
  // A GPU batches far wider than two CPU cores: 256 sequences and 2,048 tokens a step by default
  // (vLLM's max_num_seqs and chunked-prefill budget), 64 and 512 on the CPU.
  const bool gpu = o.load.device.rfind("cuda", 0) == 0;
  struct IntFlag { const char* name; long long fallback, lo, hi; long long* out; };
  long long port, threads, ctx, blocks, seqs, batch, waiting, timeout, drain, budget_ms, min_prefill, long_prefill;
  long long spec_k, lookup_max, lookup_min;
  for (IntFlag f : {IntFlag{"--port", 8080, 0, 65535, &port}, IntFlag{"--threads", 0, 0, 1024, &threads},
                    IntFlag{"--ctx", 4096, 16, 1 << 20, &ctx}, IntFlag{"--kv-blocks", 0, 0, 1 << 24, &blocks},
                    IntFlag{"--max-num-seqs", gpu ? 256 : 64, 1, 4096, &seqs},
                    IntFlag{"--max-batch-tokens", gpu ? 2048 : 512, 16, 1 << 16, &batch},
                    IntFlag{"--max-waiting", 256, 1, 1 << 20, &waiting}, IntFlag{"--request-timeout", 600, 1, 86400, &timeout},
                    IntFlag{"--drain-timeout", 30, 0, 3600, &drain},
                    IntFlag{"--step-budget-ms", static_cast<long long>(kDefaultStepTimeTarget * 1000 + 0.5), 0, 600000, &budget_ms},
                    IntFlag{"--min-prefill-tokens", 16, 1, 1 << 16, &min_prefill},
                    IntFlag{"--long-prefill-threshold", 256, 0, 1 << 20, &long_prefill},
                    IntFlag{"--num-speculative-tokens", 0, 0, 64, &spec_k},
                    IntFlag{"--ngram-prompt-lookup-max", 4, 1, 64, &lookup_max},
                    IntFlag{"--ngram-prompt-lookup-min", 1, 1, 64, &lookup_min}}) {
    auto v = args->get_int(f.name, f.fallback, f.lo, f.hi);
    if (!v.ok()) return report_error(v.status().message(), 2);
    *f.out = *v;
  }
  o.port = static_cast<uint16_t>(port);
  o.load.n_threads = static_cast<int>(threads);
  o.engine.n_ctx = static_cast<int32_t>(ctx);
  o.engine.n_kv_blocks = static_cast<int32_t>(blocks);
  o.engine.max_num_seqs = static_cast<int32_t>(seqs);
  o.engine.max_batch_tokens = static_cast<int32_t>(batch);
  o.engine.max_waiting = static_cast<int32_t>(waiting);
  o.engine.step_time_target_s = static_cast<double>(budget_ms) / 1000.0;
  o.engine.min_prefill_tokens = static_cast<int32_t>(min_prefill);
  o.engine.long_prefill_threshold = static_cast<int32_t>(long_prefill);
  o.engine.num_speculative_tokens = static_cast<int32_t>(spec_k);
  o.engine.ngram_prompt_lookup_max = static_cast<int32_t>(lookup_max);
  o.engine.ngram_prompt_lookup_min = static_cast<int32_t>(lookup_min);
  if (Status s = validate_speculative_options(o.engine); !s.ok()) return report_error(s.message(), 2);
  o.request_timeout_s = static_cast<int>(timeout);
  o.drain_timeout_s = static_cast<int>(drain);

  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t stop_signals = block_stop_signals();

  WorkerServer server(o);
  if (Status s = server.start_http(); !s.ok()) return report_error(s.message());
  std::printf("listening on http://%s:%u\n", o.host.c_str(), server.port());
  std::fflush(stdout);

  // The signal waiter runs from before the load: a stop while the model is still loading (a
  // large file can take minutes) exits at once, as there is nothing to drain yet.
  std::mutex mu;
  bool loading = true;
  int sig = 0;
  std::thread waiter([&] {
    sigwait(&stop_signals, &sig);
    std::lock_guard<std::mutex> lock(mu);
    if (loading) {
      LOG_INFO("signal %d while loading the model: exiting", sig);
      std::_Exit(0);
    }
  });
  if (Status s = server.load(); !s.ok()) {
    const int rc = report_error(s.message());
    std::_Exit(rc);  // the waiter thread is blocked in sigwait
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    loading = false;
  }
  LOG_INFO("ready: %s", o.model_path.c_str());
  if (o.api_keys.empty()) LOG_WARN("no API key configured: the API is open to anyone who can reach the port");
  waiter.join();
  LOG_INFO("signal %d: draining", sig);
  server.drain_and_stop();
  LOG_INFO("stopped");
  return 0;
}

}  // namespace maas
