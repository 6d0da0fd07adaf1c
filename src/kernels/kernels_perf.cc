// kernels_perf.cc — the performance mode of the kernel harness: times matmul per weight type and
// variant for decode (1 token) and prompt (64 tokens) shapes on a 2-thread pool, printing weight
// GB/s (weight bytes / time) and GFLOP/s. Usage: kernels_perf [variant] [threads] [type]
// `kernels_perf attention` times attention_paged instead (one thread, one GQA group of the 1B
// shape: a 512-token prompt, and one decode step after it) for the reference and each SIMD ISA.
// `kernels_perf stream TYPE [threads] [MiB] [passes]` times decode as the engine runs it: one-token
// products over a model's worth of 1B-shape layers (8192x2048, 2048x8192, 2048x2048, ...) in the
// loader's layout (kRows16 where it pays, 2 MiB-aligned, transparent huge pages), far larger than
// the last-level cache, and prints weight GB/s per pass (median and best).
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cmath>
#include <numeric>

#include "kernels/attention_internal.h"
#include "kernels/kernels_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

// Best time per call over ~0.4 s of calls. The machine is shared, so besides wall time the harness
// keeps the process CPU time of the best call: with one thread it is the kernel's own time even
// when the scheduler preempts it (long prompt calls rarely run undisturbed).
struct Timing {
  double wall = 1e30;
  double cpu = 1e30;
};

double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Timing time_call(const kern::KernelSet& ks, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool) {
  for (int i = 0; i < 3; ++i) kern::matmul_with(ks, w, x, n_tokens, y, pool);  // warm-up
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Timing best;
  do {
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    kern::matmul_with(ks, w, x, n_tokens, y, pool);
    best.cpu = std::min(best.cpu, cpu_now() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(Clock::now() - t0).count());
  } while (std::chrono::duration<double>(Clock::now() - start).count() < 0.4);
  return best;
}

// Best of 5 calls of each attention implementation on a 512-token prompt (tokens 0..511 of one
// GQA group: head_dim 64, 4 query heads, 16-slot blocks) and on one decode step at position 512,
// for each KV cache element type (F32, F16, Q8_0).
int run_attention() {
  const int32_t hd = 64, n_q = 4, bs = 16, n_pos = 513;
  const int32_t n_blocks = (n_pos + bs - 1) / bs;
  const std::vector<float> k = kern_test::gaussian(static_cast<size_t>(n_blocks * bs * hd), 1);
  const std::vector<float> v = kern_test::gaussian(k.size(), 2);
  const std::vector<float> q = kern_test::gaussian(static_cast<size_t>(n_pos * n_q * hd), 3);
  std::vector<float> out(q.size());
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  std::iota(table.begin(), table.end(), 0);
  using Fn = void (*)(const AttentionQueries&, const PagedKv&);
  struct Impl { const char* name; Fn fn; bool ok; };
  const Impl impls[] = {{"ref", ref::attention_paged, true},
                        {"avx2", kern::attention_paged_avx2, kern::avx2_attention_supported()},
                        {"avx512", kern::attention_paged_avx512, kern::avx512_attention_supported()}};
  std::printf("%-7s %-5s %-22s %10s %9s\n", "impl", "kv", "case", "us", "GFLOP/s");
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kQ8_0}) {
    const kern_test::OwnedMatrix kq = kern_test::make_matrix(type, k, n_blocks * bs, hd);
    const kern_test::OwnedMatrix vq = kern_test::make_matrix(type, v, n_blocks * bs, hd);
    const PagedKv kv{kq.bytes.data(), vq.bytes.data(), hd, table.data(), bs, type};
    for (const Impl& im : impls) {
      if (!im.ok) continue;
      for (int32_t n_tokens : {512, 1}) {
        const int32_t pos0 = n_tokens == 1 ? 512 : 0;
        const AttentionQueries a{q.data() + static_cast<size_t>(pos0) * n_q * hd,
                                 out.data() + static_cast<size_t>(pos0) * n_q * hd, int64_t{n_q} * hd, n_q, hd, pos0,
                                 n_tokens, 1.f / std::sqrt(static_cast<float>(hd))};
        double best = 1e30;
        for (int rep = 0; rep < 5; ++rep) {
          const auto t0 = std::chrono::steady_clock::now();
          im.fn(a, kv);
          best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        double pairs = 0;  // (query row, key) pairs: 2 * head_dim multiply-adds each (scores and values)
        for (int32_t t = 0; t < n_tokens; ++t) pairs += static_cast<double>(n_q) * (pos0 + t + 1);
        std::printf("%-7s %-5s %-22s %10.1f %9.2f\n", im.name, std::string(ggml_type_name(type)).c_str(),
                    n_tokens == 1 ? "decode at 512" : "prompt 512", best * 1e6, pairs * 4.0 * hd / best * 1e-9);
      }
    }
  }
  return 0;
}

// One pass = the matrices of `mib` MiB of 1B-shape layers, one token each, in order.
int run_stream(const std::string& type_name, int n_threads, int64_t mib, int passes) {
  GgmlType type = GgmlType::kQ4_0;
  bool found = false;
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kF16,
                     GgmlType::kBF16, GgmlType::kF32}) {
    if (type_name == ggml_type_name(t)) { type = t; found = true; }
  }
  if (!found) {
    std::fprintf(stderr, "unknown type %s\n", type_name.c_str());
    return 2;
  }
  struct Shape { int64_t rows, cols; };
  const Shape layer[] = {{2048, 2048}, {512, 2048}, {512, 2048}, {2048, 2048}, {8192, 2048}, {8192, 2048}, {2048, 8192}};
  std::vector<kern_test::OwnedMatrix> protos;
  for (const Shape& s : layer) {
    const std::vector<float> wf = kern_test::gaussian(static_cast<size_t>(s.rows * s.cols), 1, 0.05f);
    protos.push_back(kern_test::make_matrix(type, wf, s.rows, s.cols));
  }
  size_t layer_bytes = 0;
  for (const auto& m : protos) layer_bytes += m.bytes.size();
  const size_t n_layers = std::max<size_t>(1, (static_cast<size_t>(mib) << 20) / layer_bytes);
  const size_t total = (n_layers * layer_bytes + (size_t{2} << 20) - 1) / (size_t{2} << 20) * (size_t{2} << 20);
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(size_t{2} << 20, total));
  madvise(buf, total, MADV_HUGEPAGE);
  std::vector<WeightMatrix> ms;
  size_t off = 0;
  for (size_t l = 0; l < n_layers; ++l) {
    for (const auto& m : protos) {
      WeightMatrix w = m.w;
      if (interleave_pays(m.w)) {
        w = interleave_rows16(m.w, buf + off);
      } else {
        std::memcpy(buf + off, m.bytes.data(), m.bytes.size());
        w.data = buf + off;
      }
      ms.push_back(w);
      off += m.bytes.size();
    }
  }
  ThreadPool pool(n_threads);
  std::vector<float> x = kern_test::gaussian(8192, 2);
  std::vector<float> y(8192);
  const kern::KernelSet& ks = kern::active_kernels();
  std::printf("stream %s: %zu matrices, %.0f MiB, %d threads, variant %s\n", type_name.c_str(), ms.size(),
              static_cast<double>(off) / (1 << 20), n_threads, ks.name);
  std::vector<double> gbs;
  for (int p = 0; p < passes + 1; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    for (const WeightMatrix& w : ms) kern::matmul_with(ks, w, x.data(), 1, y.data(), pool);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (p > 0) gbs.push_back(static_cast<double>(off) / dt / 1e9);  // the first pass faults the pages in
  }
  std::sort(gbs.begin(), gbs.end());
  std::printf("GB/s median %.2f best %.2f worst %.2f\n", gbs[gbs.size() / 2], gbs.back(), gbs.front());
  std::free(buf);
  return 0;
}

int run(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  if (only == "stream") {
    if (argc < 3) {
      std::fprintf(stderr, "usage: kernels_perf stream TYPE [threads] [MiB] [passes]\n");
      return 2;
    }
    return run_stream(argv[2], argc > 3 ? std::atoi(argv[3]) : 2, argc > 4 ? std::atoll(argv[4]) : 1024,
                      argc > 5 ? std::atoi(argv[5]) : 20);
  }
  if (only == "attention") return run_attention();
  const int n_threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const std::string only_type = argc > 3 ? argv[3] : "";
  ThreadPool pool(n_threads);
  std::vector<const kern::KernelSet*> sets = {&kern::scalar_kernels(), kern::avx2_kernels(), kern::avx512_kernels(),
                                                kern::amx_kernels()};
  const GgmlType types[] = {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K,
                            GgmlType::kF16, GgmlType::kBF16, GgmlType::kF32};
  struct Shape { int64_t rows, cols; };
  const Shape shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};
  std::printf("threads %d (wall: best wall-clock call; cpu: its process CPU time / threads)\n", n_threads);
  std::printf("%-7s %-5s %-11s %6s %9s %8s %9s %9s %9s\n", "variant", "type", "rows x cols", "tokens", "wall us",
              "GB/s", "GFLOP/s", "cpu GB/s", "cpu GF/s");
  for (const kern::KernelSet* ks : sets) {
    if (ks == nullptr || (!only.empty() && only != ks->name)) continue;
    for (GgmlType t : types) {
      if (!only_type.empty() && only_type != ggml_type_name(t)) continue;
      for (const Shape& s : shapes) {
        const std::vector<float> wf = kern_test::gaussian(static_cast<size_t>(s.rows * s.cols), 1, 0.05f);
        const kern_test::OwnedMatrix m = kern_test::make_matrix(t, wf, s.rows, s.cols);
        for (int64_t n_tokens : {1, 64}) {
          if (std::string(ks->name) == "scalar" && n_tokens > 1) continue;  // minutes, and not the point
          const std::vector<float> x = kern_test::gaussian(static_cast<size_t>(n_tokens * s.cols), 2);
          std::vector<float> y(static_cast<size_t>(n_tokens * s.rows));
          const Timing tm = time_call(*ks, m.w, x.data(), n_tokens, y.data(), pool);
          const double bytes = static_cast<double>(m.bytes.size());
          const double flops = 2.0 * static_cast<double>(s.rows * s.cols * n_tokens);
          const double cpu = tm.cpu / n_threads;
          std::printf("%-7s %-5s %5lldx%-5lld %6lld %9.1f %8.1f %9.1f %9.1f %9.1f\n", ks->name,
                      std::string(ggml_type_name(t)).c_str(), static_cast<long long>(s.rows),
                      static_cast<long long>(s.cols), static_cast<long long>(n_tokens), tm.wall * 1e6,
                      bytes / tm.wall / 1e9, flops / tm.wall / 1e9, bytes / cpu / 1e9, flops / cpu / 1e9);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace maas

int main(int argc, char** argv) { return maas::run(argc, argv); }
