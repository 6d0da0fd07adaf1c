// cmd_bench.cc — `maas bench --model PATH`: prompt processing (ppN) and generation (tgN)
// throughput, measured as llama-bench does: a warm-up, then r repetitions of each test from an
// empty cache with random tokens; the table shows mean ± standard deviation in tokens/s.
// -d N (llama-bench's depth): each repetition first fills N positions (untimed), then times the
// test after them ("tg128 @ d2048"). --kv-cache-dtype auto|f32|f16|q8_0 as the worker's.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "kernels/kernels.h"
#include "engine/loaded_model.h"

namespace maas {
namespace {

struct BenchContext {
  Model* model;
  KvCache* cache;
  std::vector<int32_t> table;
  std::vector<float> logits;
  std::mt19937 rng{1234};
};

std::vector<int32_t> random_tokens(BenchContext& b, int n) {
  std::uniform_int_distribution<int32_t> dist(0, b.model->config().n_vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = dist(b.rng);
  return t;
}

// Seconds for one prompt of n tokens in batches of n_batch, after `depth` positions.
double run_pp(BenchContext& b, int n, int n_batch, int depth = 0) {
  std::vector<int32_t> toks = random_tokens(b, n);
  auto t0 = std::chrono::steady_clock::now();
  for (int start = 0; start < n; start += n_batch) {
    int len = std::min(n_batch, n - start);
    Batch batch;
    batch.tokens.assign(toks.begin() + start, toks.begin() + start + len);
    batch.seqs.push_back({b.table.data(), static_cast<int32_t>(b.table.size()), depth + start, len, false});
    b.model->forward(batch, *b.cache, b.logits.data());
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Seconds for n single-token steps after `depth` positions.
double run_tg(BenchContext& b, int n, int depth = 0) {
  std::vector<int32_t> toks = random_tokens(b, n);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Batch batch;
    batch.tokens.push_back(toks[static_cast<size_t>(i)]);
    batch.seqs.push_back({b.table.data(), static_cast<int32_t>(b.table.size()), depth + i, 1, false});
    b.model->forward(batch, *b.cache, b.logits.data());
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void mean_sd(const std::vector<double>& v, double* mean, double* sd) {
  *mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - *mean) * (x - *mean);
  *sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--model", "-m", "-p", "-n", "-r", "--threads", "-t", "--batch", "-b", "--output", "-o", "--device", "-d",
                                 "--kv-cache-dtype", "--gpu-memory-fraction", "--cuda-graphs"}, {});
  if (!args.ok()) return report_error(args.status().message(), 2);
  std::string path = args->get("--model", args->get("-m"));
  if (path.empty()) {
    return report_error("usage: maas bench --model PATH [-p 512] [-n 128] [-r 3] [--threads N] [-d DEPTH] [--device cpu|cuda[:N]] "
                        "[--kv-cache-dtype auto|f32|f16|q8_0] [--gpu-memory-fraction 0.9] [--cuda-graphs on|off] [--output json]", 2);
  }
  auto p = args->get_int("-p", 512, 0, 1 << 16);
  auto n = args->get_int("-n", 128, 0, 1 << 16);
  auto r = args->get_int("-r", 3, 1, 1000);
  auto t = args->get_int("--threads", 0, 0, 1024);
  auto tb = args->get_int("-t", 0, 0, 1024);
  auto nb = args->get_int("--batch", 512, 1, 1 << 16);
  auto depth = args->get_int("-d", 0, 0, 1 << 20);
  for (const Status& s : {p.status(), n.status(), r.status(), t.status(), tb.status(), nb.status(), depth.status()}) {
    if (!s.ok()) return report_error(s.message(), 2);
  }
  auto kv_choice = parse_kv_type(args->get("--kv-cache-dtype", "auto"));
  if (!kv_choice.ok()) return report_error("--kv-cache-dtype: " + kv_choice.status().message(), 2);
  int threads = static_cast<int>(*t ? *t : *tb);
  bool json = args->get("--output", args->get("-o")) == "json";

  std::fprintf(stderr, "loading %s ...\n", path.c_str());
  const auto load_start = std::chrono::steady_clock::now();
  LoaderOptions lo;  // the one loader (engine/loaded_model.h); bench sizes its own KV cache below
  lo.model_path = path;
  lo.load.device = args->get("--device", "cpu");
  lo.load.n_threads = threads;
  auto fraction = args->get_double("--gpu-memory-fraction", 0.9, 0.01, 1.0);
  if (!fraction.ok()) return report_error(fraction.status().message(), 2);
  lo.load.gpu_memory_fraction = *fraction;
  auto graphs = parse_on_off(args->get("--cuda-graphs", "on"));
  if (!graphs.ok()) return report_error("--cuda-graphs: " + graphs.status().message(), 2);
  lo.load.cuda_graphs = *graphs;
  if (Status s = lo.load.validate(); !s.ok()) return report_error(s.message(), 2);
  lo.need_chat_template = false;
  lo.engine.n_ctx = 0;  // no serving context asked: nothing to clamp or log
  auto loaded = load_served_model(lo);
  if (!loaded.ok()) return report_error(loaded.status().message());
  Model& model = *loaded->model;
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const Backend& backend = model.backend();
  const int32_t bs = 16, positions = static_cast<int32_t>(std::max(*p, *n) + *depth) + bs;
  const KvType kv_type = kv_type_for_backend(*kv_choice, backend.name());
  auto cache = model.allocate_kv_cache({.n_blocks = positions / bs + 1, .block_size = bs, .type = kv_type});
  if (!cache.ok()) return report_error(cache.status().message());
  std::fprintf(stderr, "loaded in %.2f s; KV cache %s %.1f MiB (%d blocks of %d)\n", load_s, kv_type_name(kv_type),
               static_cast<double>((*cache)->bytes()) / 1048576.0, (*cache)->n_blocks(), bs);
  BenchContext b{&model, cache->get(), {}, {}, std::mt19937(1234)};
  b.table.resize(static_cast<size_t>((*cache)->n_blocks()));
  std::iota(b.table.begin(), b.table.end(), 0);
  // Batches ask for the last position's logits only (all_logits false): one row, as llama-bench.
  b.logits.resize(static_cast<size_t>(model.config().n_vocab));

  const GgufFile& f = model.file();
  nlohmann::ordered_json results = nlohmann::json::array();
  if (!json) {
    std::printf("| model | size | params | backend | threads | test | t/s |\n");
    std::printf("| ----- | ---: | -----: | ------- | ------: | ---: | --: |\n");
  }
  auto report = [&](const std::string& test, int tokens, const std::vector<double>& secs) {
    std::vector<double> tps;
    for (double s : secs) tps.push_back(tokens / s);
    double mean, sd;
    mean_sd(tps, &mean, &sd);
    if (json) {
      results.push_back({{"model", model.config().name}, {"file_bytes", f.file_size()}, {"threads", backend.n_threads()},
                         {"kernels", kernel_variant()}, {"kv_type", kv_type_name(kv_type)}, {"test", test}, {"tokens", tokens}, {"t_s_mean", mean}, {"t_s_sd", sd},
                         {"samples_t_s", tps}});
    } else {
      const std::string where = backend.name() == "cpu" ? "CPU (" + kernel_variant() + ")" : backend.name();
      std::printf("| %s | %.2f GiB | %.2f B | %s | %d | %s | %.2f ± %.2f |\n", model.config().name.c_str(),
                  f.file_size() / 1073741824.0, LlamaConfig::count_parameters(f) / 1e9, where.c_str(),
                  backend.n_threads(), test.c_str(), mean, sd);
      std::fflush(stdout);
    }
  };
  const int d = static_cast<int>(*depth);
  const std::string at = d > 0 ? " @ d" + std::to_string(d) : "";
  auto fill = [&] { if (d > 0) run_pp(b, d, static_cast<int>(*nb)); };  // the depth's positions, untimed
  if (*p > 0) {
    run_pp(b, static_cast<int>(std::min<long long>(*p, 32)), static_cast<int>(*nb));  // warm-up
    std::vector<double> secs;
    for (int i = 0; i < *r; ++i) {
      fill();
      secs.push_back(run_pp(b, static_cast<int>(*p), static_cast<int>(*nb), d));
    }
    report("pp" + std::to_string(*p) + at, static_cast<int>(*p), secs);
  }
  if (*n > 0) {
    run_tg(b, 4);  // warm-up
    std::vector<double> secs;
    for (int i = 0; i < *r; ++i) {
      fill();
      secs.push_back(run_tg(b, static_cast<int>(*n), d));
    }
    report("tg" + std::to_string(*n) + at, static_cast<int>(*n), secs);
  }
  if (json) std::printf("%s\n", results.dump(2).c_str());
  return 0;
}

}  // namespace maas
