// gpu_bench_run.cc — maas-gpu-bench's timed forward passes, through the real model (model.h):
//   run:   a prefill of p random tokens in one batch (ppP) and n single-token decode steps from an
//          empty cache (tgN), as `maas bench` (and llama-bench) time them: a warm-up, then r runs;
//          tokens/s mean ± sd. With --copy-gbps G, decode is also put against the bandwidth limit
//          (G / weight bytes per token, gpu_bench_model.cc); with --peak-tflops T, prefill against
//          the tensor peak (the FLOP count is printed).
//   batch: decode steps of B sequences at once, each holding --ctx positions in the KV cache,
//          for each B of --batches: output tokens/s per step (B x steps / time). The cache is
//          filled cheaply: one real prefill of ctx tokens for sequence 0, whose blocks are then
//          copied to every other sequence (Backend::copy_kv_block); every step writes position
//          ctx, ctx+1, ... of each sequence, and its logits (B rows) come back to the host, as
//          the engine's do.
// Timing is the host clock around whole forward passes (forward() ends with the logits on the
// host, so the device is done); each line reports every run, and a line
// `RESULT <tag>.<test> <median tok/s>` (--tag, default the model file's weight type) is what
// gpu-check.sh's summary table reads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gpu_bench.h"
#include "model/model.h"

namespace maas::gpu_bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<KvCache> cache;
  ModelCost cost;
  std::mt19937 rng{1234};

  std::vector<int32_t> random_tokens(size_t n) {
    std::uniform_int_distribution<int32_t> dist(0, model->config().n_vocab - 1);
    std::vector<int32_t> t(n);
    for (int32_t& x : t) x = dist(rng);
    return t;
  }
};

// Loads --model onto --device and allocates a cache of n_blocks blocks of 16 slots in --kv's type.
StatusOr<Loaded> load(const Flags& f, int32_t n_blocks) {
  const std::string path = get(f, "--model", "");
  if (path.empty()) return invalid_argument("--model PATH is required");
  LoadOptions opts;
  opts.device = get(f, "--device", "cuda");
  opts.n_threads = std::atoi(get(f, "--threads", "0").c_str());
  opts.gpu_memory_fraction = get_double(f, "--gpu-memory-fraction", 0.9);
  ASSIGN_OR_RETURN(opts.cuda_graphs, parse_on_off(get(f, "--cuda-graphs", "on")));
  RETURN_IF_ERROR(opts.validate());
  const auto t0 = std::chrono::steady_clock::now();
  Loaded l;
  ASSIGN_OR_RETURN(l.model, load_model(path, opts));
  const double load_s = seconds_since(t0);
  const std::string kv = get(f, "--kv", "f16");
  KvCacheOptions ko{.n_blocks = n_blocks, .block_size = 16, .type = kv == "f32" ? KvType::kF32 : KvType::kF16};
  auto cache = l.model->allocate_kv_cache(ko);
  if (!cache.ok() && ko.type == KvType::kF16 && cache.status().code() == StatusCode::kUnimplemented) {
    std::printf("KV cache f16: %s; using f32\n", cache.status().message().c_str());
    ko.type = KvType::kF32;
    cache = l.model->allocate_kv_cache(ko);
  }
  if (!cache.ok()) return cache.status();
  l.cache = std::move(*cache);
  const LlamaConfig& c = l.model->config();
  l.cost = model_cost(l.model->file(), c.n_vocab);
  std::printf("model %s: %d embd, %d blocks, %d heads, %d KV heads, %d ff, %d vocabulary, %.2f GiB file; "
              "weights %.3f GB in all, %.3f GB read per decode step\n",
              c.name.c_str(), c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.n_ff, c.n_vocab,
              static_cast<double>(l.model->file().file_size()) / 1073741824.0, l.cost.all_weight_bytes / 1e9,
              l.cost.read_weight_bytes / 1e9);
  std::printf("backend %s, loaded in %.2f s; KV cache %s, %d blocks of 16, %.1f MiB\n",
              l.model->backend().name().c_str(), load_s, kv_type_name(ko.type), n_blocks,
              static_cast<double>(l.cache->bytes()) / 1048576.0);
  std::fflush(stdout);
  return l;
}

struct Stats {
  double mean = 0, sd = 0, median = 0;
};
Stats stats(std::vector<double> x) {
  Stats s;
  s.mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.sd = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1)) : 0.0;
  std::sort(x.begin(), x.end());
  const size_t m = x.size() / 2;
  s.median = x.size() % 2 == 1 ? x[m] : (x[m - 1] + x[m]) / 2;
  return s;
}

// "| name | test | mean ± sd tok/s | runs: ... |", the line gpu-check.sh's summary collects.
Stats report(const std::string& name, const std::string& test, double tokens, const std::vector<double>& secs) {
  std::vector<double> tps;
  for (double s : secs) tps.push_back(tokens / s);
  const Stats s = stats(tps);
  std::printf("| %s | %s | %.2f ± %.2f tok/s | runs:", name.c_str(), test.c_str(), s.mean, s.sd);
  for (double x : tps) std::printf(" %.2f", x);
  std::printf(" |\n");
  std::fflush(stdout);
  return s;
}

// Single-token decode against the bandwidth limit: weight bytes read per step at G GB/s.
void result_line(const Flags& f, const Loaded& l, const std::string& test, double value) {
  std::string tag = get(f, "--tag", "");
  if (tag.empty()) {
    const GgufTensorInfo* q = l.model->file().find_tensor("blk.0.attn_q.weight");
    tag = q != nullptr ? std::string(ggml_type_name(q->type)) : std::string("model");
  }
  std::printf("RESULT %s.%s %.3f\n", tag.c_str(), test.c_str(), value);
  std::fflush(stdout);
}

void report_limit(const Loaded& l, const std::string& test, double tok_s, double copy_gbps) {
  if (copy_gbps <= 0) return;
  const double limit_read = copy_gbps * 1e9 / static_cast<double>(l.cost.read_weight_bytes);
  const double limit_all = copy_gbps * 1e9 / static_cast<double>(l.cost.all_weight_bytes);
  std::printf("  %s: %.2f tok/s = %.1f%% of the bandwidth limit %.1f tok/s (%.3f GB read per step at %.0f GB/s); "
              "%.1f%% of %.1f tok/s counting every weight byte (%.3f GB, issue 13's convention)\n",
              test.c_str(), tok_s, 100 * tok_s / limit_read, limit_read, l.cost.read_weight_bytes / 1e9, copy_gbps,
              100 * tok_s / limit_all, limit_all, l.cost.all_weight_bytes / 1e9);
  std::fflush(stdout);
}

std::vector<int32_t> iota_table(int32_t first, int32_t n) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

}  // namespace

int cmd_run(const Flags& f) {
  const int p = std::atoi(get(f, "-p", "512").c_str()), n = std::atoi(get(f, "-n", "128").c_str());
  const int r = std::max(1, std::atoi(get(f, "-r", "3").c_str()));
  const int32_t positions = std::max(p, n) + 16;
  auto l = load(f, positions / 16 + 1);
  if (!l.ok()) return fail(l.status());
  const LlamaConfig& cfg = l->model->config();
  const std::string name = cfg.name + " " + l->model->backend().name();
  result_line(f, *l, "read_weight_bytes", static_cast<double>(l->cost.read_weight_bytes));
  result_line(f, *l, "all_weight_bytes", static_cast<double>(l->cost.all_weight_bytes));
  const std::vector<int32_t> table = iota_table(0, l->cache->n_blocks());
  std::vector<float> logits(static_cast<size_t>(cfg.n_vocab));
  auto prefill = [&](int tokens) {
    Batch b;
    b.tokens = l->random_tokens(static_cast<size_t>(tokens));
    b.seqs.push_back({table.data(), static_cast<int32_t>(table.size()), 0, tokens, false});
    const auto t0 = std::chrono::steady_clock::now();
    l->model->forward(b, *l->cache, logits.data());
    return seconds_since(t0);
  };
  auto decode = [&](int steps) {
    const std::vector<int32_t> toks = l->random_tokens(static_cast<size_t>(steps));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) {
      Batch b;
      b.tokens = {toks[static_cast<size_t>(i)]};
      b.seqs.push_back({table.data(), static_cast<int32_t>(table.size()), i, 1, false});
      l->model->forward(b, *l->cache, logits.data());
    }
    return seconds_since(t0);
  };
  if (p > 0) {
    prefill(std::min(p, 32));  // warm-up (cuBLAS, scratch buffers)
    std::vector<double> secs;
    for (int i = 0; i < r; ++i) secs.push_back(prefill(p));
    const Stats s = report(name, "pp" + std::to_string(p), p, secs);
    result_line(f, *l, "pp" + std::to_string(p), s.median);
    std::string formula;
    const double flops = prefill_flops(l->cost, cfg.n_layer, cfg.n_head, cfg.head_dim, p, &formula);
    const double achieved = flops * s.median / p / 1e12;
    result_line(f, *l, "pp" + std::to_string(p) + "_flop", flops);
    std::printf("  pp%d FLOPs: %s\n  pp%d: median %.1f tok/s = %.1f TFLOP/s", p, formula.c_str(), p, s.median, achieved);
    if (const double peak = get_double(f, "--peak-tflops", 0); peak > 0) {
      std::printf(" = %.1f%% of the %.0f TFLOP/s dense BF16 tensor peak", 100 * achieved / peak, peak);
    }
    std::printf("\n");
  }
  if (n > 0) {
    decode(4);
    std::vector<double> secs;
    for (int i = 0; i < r; ++i) secs.push_back(decode(n));
    const Stats s = report(name, "tg" + std::to_string(n), n, secs);
    result_line(f, *l, "tg" + std::to_string(n), s.median);
    report_limit(*l, "tg" + std::to_string(n) + " (median)", s.median, get_double(f, "--copy-gbps", 0));
  }
  Backend::DeviceMemory mem;
  if (l->model->backend().device_memory(&mem)) {
    std::printf("device memory: %.2f GiB used of %.2f GiB; weights %.2f GiB, KV cache %.2f GiB\n", mem.used / 1073741824.0,
                mem.total / 1073741824.0, mem.weights / 1073741824.0, mem.kv_cache / 1073741824.0);
  }
  return 0;
}

int cmd_batch(const Flags& f) {
  std::vector<int> batches;
  {
    std::stringstream ss(get(f, "--batches", "1,16,64,256"));
    for (std::string item; std::getline(ss, item, ',');) {
      if (std::atoi(item.c_str()) > 0) batches.push_back(std::atoi(item.c_str()));
    }
  }
  if (batches.empty()) return fail(invalid_argument("--batches needs positive sizes, e.g. 1,16,64,256"));
  const int32_t ctx = std::atoi(get(f, "--ctx", "1024").c_str());
  const int steps = std::max(1, std::atoi(get(f, "-n", "16").c_str()));
  const int r = std::max(1, std::atoi(get(f, "-r", "3").c_str()));
  const int warmup = 2;
  if (ctx < 16 || ctx % 16 != 0) return fail(invalid_argument("--ctx must be a positive multiple of 16"));
  const int max_b = *std::max_element(batches.begin(), batches.end());
  const int32_t ctx_blocks = ctx / 16, per_seq = ctx_blocks + (std::max(steps, warmup) + 15) / 16;
  auto l = load(f, max_b * per_seq);
  if (!l.ok()) return fail(l.status());
  const LlamaConfig& cfg = l->model->config();
  Backend& be = l->model->backend();
  const std::string name = cfg.name + " " + be.name();
  std::vector<std::vector<int32_t>> tables;
  for (int s = 0; s < max_b; ++s) tables.push_back(iota_table(s * per_seq, per_seq));
  std::vector<float> logits(static_cast<size_t>(max_b) * static_cast<size_t>(cfg.n_vocab));

  // The fill: sequence 0 by a real prefill (in chunks of 512), then its blocks copied.
  auto t0 = std::chrono::steady_clock::now();
  for (int32_t done = 0; done < ctx;) {
    const int32_t chunk = std::min<int32_t>(512, ctx - done);
    Batch b;
    b.tokens = l->random_tokens(static_cast<size_t>(chunk));
    b.seqs.push_back({tables[0].data(), per_seq, done, chunk, false});
    l->model->forward(b, *l->cache, logits.data());
    done += chunk;
  }
  const double prefill_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  for (int s = 1; s < max_b; ++s) {
    for (int32_t k = 0; k < ctx_blocks; ++k) be.copy_kv_block(*l->cache, tables[0][k], tables[s][k], 16);
  }
  if (Status st = be.finish_step(); !st.ok()) return fail(st);
  std::printf("KV fill: %d positions of sequence 0 by prefill in %.2f s, copied to %d more sequences "
              "(%d block copies) in %.2f s\n", ctx, prefill_s, max_b - 1, (max_b - 1) * ctx_blocks,
              seconds_since(t0));
  std::fflush(stdout);

  for (int B : batches) {
    auto step = [&](int32_t pos, const std::vector<int32_t>& toks) {
      Batch b;
      b.tokens = toks;
      for (int s = 0; s < B; ++s) b.seqs.push_back({tables[static_cast<size_t>(s)].data(), per_seq, pos, 1, false});
      l->model->forward(b, *l->cache, logits.data());
    };
    for (int i = 0; i < warmup; ++i) step(ctx + i, l->random_tokens(static_cast<size_t>(B)));
    std::vector<double> secs;
    for (int run = 0; run < r; ++run) {
      std::vector<std::vector<int32_t>> toks;
      for (int i = 0; i < steps; ++i) toks.push_back(l->random_tokens(static_cast<size_t>(B)));
      t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) step(ctx + i, toks[static_cast<size_t>(i)]);
      secs.push_back(seconds_since(t0));
    }
    const std::string test = "decode B=" + std::to_string(B) + " ctx " + std::to_string(ctx);
    const Stats s = report(name, test, static_cast<double>(B) * steps, secs);
    result_line(f, *l, "decode_B" + std::to_string(B), s.median);
    std::printf("  %s: median %.1f output tok/s, %.2f ms per step\n", test.c_str(), s.median, 1e3 * B / s.median);
    if (B == 1) report_limit(*l, test + " (median)", s.median, get_double(f, "--copy-gbps", 0));
  }
  return 0;
}

}  // namespace maas::gpu_bench
