// kernels_perf.cc — the performance mode of the kernel harness: times matmul per weight type and
// variant for decode (1 token) and prompt (64 tokens) shapes on a 2-thread pool, printing weight
// GB/s (weight bytes / time) and GFLOP/s. Usage: kernels_perf [variant] [threads] [type]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

int run(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
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
