// gpu_bench.cc — maas-gpu-bench: the device check's model writer and smoke benchmark, built from
// the model libraries alone (no tokenizer, HTTP or platform libraries), so that bench/gpu-check.sh
// can build it on a GPU machine that has none of their packages.
//   maas-gpu-bench generate --preset 8b --type bf16 --out PATH [--vocab 128256] [--seed 42]
//       random weights of a synthetic_model.h preset, no tokenizer (the forward pass needs none)
//   maas-gpu-bench run --model PATH [--device cuda] [-p 512] [-n 128] [-r 3] [--kv f16|f32]
//       [--gpu-memory-fraction 0.9] [--threads N] [--cuda-graphs on|off]
//       prefill of p random tokens in one batch (ppP) and n single-token decode steps from an
//       empty cache (tgN), as `maas bench` (and llama-bench) time them: a warm-up, then r runs;
//       tokens/s mean ± sd, and the device memory after the runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "model/synthetic_model.h"

namespace maas {
namespace {

using Flags = std::map<std::string, std::string>;

StatusOr<Flags> parse_flags(int argc, char** argv) {
  Flags f;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc || argv[i][0] != '-') return invalid_argument(std::string("expected --flag VALUE at '") + argv[i] + "'");
    f[argv[i]] = argv[i + 1];
  }
  return f;
}

std::string get(const Flags& f, const std::string& key, const std::string& fallback) {
  auto it = f.find(key);
  return it == f.end() ? fallback : it->second;
}

int fail(const Status& s) {
  std::fprintf(stderr, "maas-gpu-bench: %s\n", s.to_string().c_str());
  return 1;
}

int generate(const Flags& f) {
  auto opts = synthetic_preset(get(f, "--preset", "tiny"));
  if (!opts.ok()) return fail(opts.status());
  opts->type = get(f, "--type", opts->type);
  opts->seed = std::strtoull(get(f, "--seed", "42").c_str(), nullptr, 10);
  const int32_t n_vocab = std::atoi(get(f, "--vocab", "128256").c_str());
  const std::string out = get(f, "--out", "");
  if (out.empty()) return fail(invalid_argument("generate needs --out PATH"));
  const auto t0 = std::chrono::steady_clock::now();
  GgufWriter w;
  if (Status s = add_synthetic_llama(*opts, n_vocab, w); !s.ok()) return fail(s);
  if (Status s = w.write(out); !s.ok()) return fail(s);
  std::printf("wrote %s (%s, %s, %d-token vocabulary) in %.1f s\n", out.c_str(), opts->name.c_str(), opts->type.c_str(),
              n_vocab, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

struct Context {
  Model* model;
  KvCache* cache;
  std::vector<int32_t> table;
  std::vector<float> logits;
  std::mt19937 rng{1234};
};

std::vector<int32_t> random_tokens(Context& c, int n) {
  std::uniform_int_distribution<int32_t> dist(0, c.model->config().n_vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int32_t& x : t) x = dist(c.rng);
  return t;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One prompt of n tokens in one batch (the last row's logits, copied to the host, end the step).
double run_pp(Context& c, int n) {
  Batch b;
  b.tokens = random_tokens(c, n);
  b.seqs.push_back({c.table.data(), static_cast<int32_t>(c.table.size()), 0, n, false});
  const auto t0 = std::chrono::steady_clock::now();
  c.model->forward(b, *c.cache, c.logits.data());
  return seconds_since(t0);
}

double run_tg(Context& c, int n) {
  const std::vector<int32_t> toks = random_tokens(c, n);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Batch b;
    b.tokens = {toks[static_cast<size_t>(i)]};
    b.seqs.push_back({c.table.data(), static_cast<int32_t>(c.table.size()), i, 1, false});
    c.model->forward(b, *c.cache, c.logits.data());
  }
  return seconds_since(t0);
}

void report(const std::string& name, const std::string& test, int tokens, const std::vector<double>& secs) {
  std::vector<double> tps;
  for (double s : secs) tps.push_back(tokens / s);
  const double mean = std::accumulate(tps.begin(), tps.end(), 0.0) / static_cast<double>(tps.size());
  double ss = 0;
  for (double x : tps) ss += (x - mean) * (x - mean);
  const double sd = tps.size() > 1 ? std::sqrt(ss / static_cast<double>(tps.size() - 1)) : 0.0;
  std::printf("| %s | %s | %.2f ± %.2f tok/s | runs:", name.c_str(), test.c_str(), mean, sd);
  for (double x : tps) std::printf(" %.2f", x);
  std::printf(" |\n");
  std::fflush(stdout);
}

int run(const Flags& f) {
  const std::string path = get(f, "--model", "");
  if (path.empty()) return fail(invalid_argument("run needs --model PATH"));
  const int p = std::atoi(get(f, "-p", "512").c_str()), n = std::atoi(get(f, "-n", "128").c_str());
  const int r = std::max(1, std::atoi(get(f, "-r", "3").c_str()));
  const std::string kv = get(f, "--kv", "f16");
  LoadOptions load;
  load.device = get(f, "--device", "cuda");
  load.n_threads = std::atoi(get(f, "--threads", "0").c_str());
  load.gpu_memory_fraction = std::atof(get(f, "--gpu-memory-fraction", "0.9").c_str());
  auto graphs = parse_on_off(get(f, "--cuda-graphs", "on"));
  if (!graphs.ok()) return fail(graphs.status());
  load.cuda_graphs = *graphs;
  if (Status s = load.validate(); !s.ok()) return fail(s);
  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_model(path, load);
  if (!model.ok()) return fail(model.status());
  const double load_s = seconds_since(t0);
  Backend& be = (*model)->backend();
  const int32_t bs = 16, positions = std::max(p, n) + bs;
  KvCacheOptions ko{.n_blocks = positions / bs + 1, .block_size = bs, .type = kv == "f32" ? KvType::kF32 : KvType::kF16};
  auto cache = (*model)->allocate_kv_cache(ko);
  if (!cache.ok() && ko.type == KvType::kF16) {  // a backend that stores f32 only (the CPU's today)
    std::printf("KV cache f16: %s; using f32\n", cache.status().message().c_str());
    ko.type = KvType::kF32;
    cache = (*model)->allocate_kv_cache(ko);
  }
  if (!cache.ok()) return fail(cache.status());
  const LlamaConfig& cfg = (*model)->config();
  std::printf("model %s: %d embd, %d blocks, %d heads, %d KV heads, %d ff, %d vocabulary, %.2f GiB file\n",
              cfg.name.c_str(), cfg.n_embd, cfg.n_layer, cfg.n_head, cfg.n_head_kv, cfg.n_ff, cfg.n_vocab,
              static_cast<double>((*model)->file().file_size()) / 1073741824.0);
  std::printf("backend %s, loaded in %.2f s; KV cache %s, %.1f MiB\n", be.name().c_str(), load_s, kv_type_name(ko.type),
              static_cast<double>((*cache)->bytes()) / 1048576.0);
  Context c{model->get(), cache->get(), {}, std::vector<float>(static_cast<size_t>(cfg.n_vocab))};
  c.table.resize(static_cast<size_t>((*cache)->n_blocks()));
  std::iota(c.table.begin(), c.table.end(), 0);
  const bool graphs_off = !load.cuda_graphs && be.name() != "cpu";  // graphs exist on a device only
  const std::string name = cfg.name + " " + be.name() + (graphs_off ? " (graphs off)" : "");
  if (p > 0) {
    run_pp(c, std::min(p, 32));  // warm-up (cuBLAS, scratch buffers)
    std::vector<double> secs;
    for (int i = 0; i < r; ++i) secs.push_back(run_pp(c, p));
    report(name, "pp" + std::to_string(p), p, secs);
  }
  if (n > 0) {
    run_tg(c, 4);
    std::vector<double> secs;
    for (int i = 0; i < r; ++i) secs.push_back(run_tg(c, n));
    report(name, "tg" + std::to_string(n), n, secs);
  }
  Backend::DeviceMemory mem;
  if (be.device_memory(&mem)) {
    std::printf("device memory: %.2f GiB used of %.2f GiB; weights %.2f GiB, KV cache %.2f GiB\n", mem.used / 1073741824.0,
                mem.total / 1073741824.0, mem.weights / 1073741824.0, mem.kv_cache / 1073741824.0);
  }
  return 0;
}

}  // namespace
}  // namespace maas

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  auto flags = maas::parse_flags(argc, argv);
  if (cmd != "generate" && cmd != "run") {
    std::fprintf(stderr, "usage: maas-gpu-bench generate --preset 8b --type bf16 --out PATH | run --model PATH [--device cuda]\n");
    return 2;
  }
  if (!flags.ok()) return maas::fail(flags.status());
  return cmd == "generate" ? maas::generate(*flags) : maas::run(*flags);
}
