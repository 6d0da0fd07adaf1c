// matvec_bench.cc — maas-matvec-bench: how close the decode path's weight streaming (cuda_ops.h
// matmul at 1-16 tokens: matvec.cu) comes to the device's memory bandwidth, per weight type,
// beside a device-to-device copy of the same order of bytes (the card's practical ceiling).
//   maas-matvec-bench [--rows 57344] [--cols 4096] [--iters 30]
// The weight matrix (rows x cols of each type, filled with the byte 0x3C: finite values in every
// format, and the values do not change the timing) is larger than the L2 cache for every type at
// the default size, so each call streams it from HBM. Reported per (type, n): microseconds per
// call and weight bytes / time in GB/s. Built with the CUDA backend only; bench/gpu-check.sh runs it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"

namespace maas::cuda {
namespace {

long long flag(int argc, char** argv, const std::string& name, long long fallback) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (name == argv[i]) return std::atoll(argv[i + 1]);
  }
  return fallback;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int fail(const Status& s) {
  std::fprintf(stderr, "maas-matvec-bench: %s\n", s.to_string().c_str());
  return 1;
}

int run(int argc, char** argv) {
  const int64_t rows = flag(argc, argv, "--rows", 57344), cols = flag(argc, argv, "--cols", 4096);
  const int iters = static_cast<int>(flag(argc, argv, "--iters", 30));
  std::printf("device %s; matrix %lld x %lld; %d calls per measurement\n", device_name(), static_cast<long long>(rows),
              static_cast<long long>(cols), iters);
  // The ceiling: a device-to-device copy of 1 GiB (bytes read + written per second).
  {
    const size_t bytes = size_t{1} << 30;
    auto a = DeviceBuffer::allocate(bytes), b = DeviceBuffer::allocate(bytes);
    if (!a.ok() || !b.ok()) return fail(a.ok() ? b.status() : a.status());
    if (Status s = copy_device(b->data(), a->data(), bytes); !s.ok()) return fail(s);
    if (Status s = synchronize(); !s.ok()) return fail(s);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) (void)copy_device(b->data(), a->data(), bytes);
    if (Status s = synchronize(); !s.ok()) return fail(s);
    std::printf("| copy | 1 GiB | %.1f GB/s (read + write) |\n", 2.0 * 5 * static_cast<double>(bytes) / seconds_since(t0) / 1e9);
  }
  const int64_t max_n = kMatvecMaxTokensBlocks;
  auto x = DeviceBuffer::allocate(static_cast<size_t>(max_n * cols) * sizeof(float));
  auto y = DeviceBuffer::allocate(static_cast<size_t>(max_n * rows) * sizeof(float));
  if (!x.ok() || !y.ok()) return fail(x.ok() ? y.status() : x.status());
  std::vector<float> host_x(static_cast<size_t>(max_n * cols), 0.01f);
  if (Status s = x->upload(host_x.data(), host_x.size() * sizeof(float)); !s.ok()) return fail(s);
  std::printf("| type | n | us per call | weight GB/s |\n|---|---:|---:|---:|\n");
  for (GgmlType type : {GgmlType::kBF16, GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kQ4_K, GgmlType::kQ4_0,
                        GgmlType::kF32}) {
    const size_t bytes = ggml_row_size(type, cols) * static_cast<size_t>(rows);
    auto w = DeviceBuffer::allocate(bytes);
    if (!w.ok()) return fail(w.status());
    std::vector<uint8_t> fill(bytes, 0x3C);
    if (Status s = w->upload(fill.data(), bytes); !s.ok()) return fail(s);
    const DeviceMatrix m{type, w->data(), rows, cols};
    for (int64_t n : {1, 2, 4, 8, 16}) {
      if (!matmul_streams(type, n)) continue;
      const float* px = static_cast<const float*>(x->data());
      float* py = static_cast<float*>(y->data());
      if (Status s = matmul(m, px, n, py); !s.ok()) return fail(s);  // warm-up
      if (Status s = synchronize(); !s.ok()) return fail(s);
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) (void)matmul(m, px, n, py);
      if (Status s = synchronize(); !s.ok()) return fail(s);
      const double sec = seconds_since(t0) / iters;
      std::printf("| %s | %lld | %.1f | %.1f |\n", std::string(ggml_type_name(type)).c_str(), static_cast<long long>(n), sec * 1e6,
                  static_cast<double>(bytes) / sec / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace maas::cuda

int main(int argc, char** argv) {
  if (maas::cuda::device_count() == 0) {
    std::printf("SKIPPED: no CUDA device\n");
    return 0;
  }
  if (maas::Status s = maas::cuda::set_device(0); !s.ok()) return maas::cuda::fail(s);
  return maas::cuda::run(argc, argv);
}
