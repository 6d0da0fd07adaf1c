// gpu_copy_bw.cc — `maas-gpu-bench copybw [--gib 2] [-r 20] [--device-index 0]`: the card's copy
// bandwidth, the ceiling a decode step is measured against. Device-to-device cudaMemcpy of one
// buffer of --gib GiB into another, once to warm up, then r times, each timed alone (host clock
// around the copy and a device synchronize); GB/s counts bytes read plus bytes written (2 x size /
// time), as issue 13's 4,213 GB/s for the H200 does. Prints the median, min and max, and a line
// `RESULT copy_gbps <median>` for gpu-check.sh's summary. A build without CUDA answers Unimplemented.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gpu_bench.h"

#ifdef MAAS_HAVE_CUDA
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"
#endif

namespace maas::gpu_bench {

#ifdef MAAS_HAVE_CUDA
int cmd_copybw(const Flags& f) {
  const double gib = get_double(f, "--gib", 2.0);
  const int r = std::max(1, std::atoi(get(f, "-r", "20").c_str()));
  if (Status s = cuda::set_device(std::atoi(get(f, "--device-index", "0").c_str())); !s.ok()) return fail(s);
  const size_t bytes = static_cast<size_t>(gib * 1073741824.0);
  auto src = cuda::DeviceBuffer::allocate(bytes);
  if (!src.ok()) return fail(src.status());
  auto dst = cuda::DeviceBuffer::allocate(bytes);
  if (!dst.ok()) return fail(dst.status());
  // Fill the source with a non-zero pattern first (never time a copy of untouched memory).
  std::vector<unsigned char> pattern(64u << 20);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<unsigned char>(i * 131u + 7u);
  for (size_t off = 0; off < bytes; off += pattern.size()) {
    const size_t n = std::min(pattern.size(), bytes - off);
    if (Status s = cuda::copy_to_device(static_cast<char*>(src->data()) + off, pattern.data(), n); !s.ok()) return fail(s);
  }
  std::vector<double> gbps;
  for (int i = 0; i <= r; ++i) {
    if (Status s = cuda::synchronize(); !s.ok()) return fail(s);
    const auto t0 = std::chrono::steady_clock::now();
    if (Status s = cuda::copy_device(dst->data(), src->data(), bytes); !s.ok()) return fail(s);
    if (Status s = cuda::synchronize(); !s.ok()) return fail(s);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) gbps.push_back(2.0 * static_cast<double>(bytes) / sec / 1e9);  // i == 0 warms up
  }
  std::vector<double> sorted = gbps;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::printf("device %s: cudaMemcpy device-to-device of %.2f GiB, %d runs: median %.0f GB/s (min %.0f, max %.0f), "
              "counting bytes read + written\n",
              cuda::device_name(), gib, r, median, sorted.front(), sorted.back());
  std::printf("RESULT copy_gbps %.1f\n", median);
  return 0;
}
#else
int cmd_copybw(const Flags&) {
  return fail(unimplemented("copybw needs a build with MAAS_CUDA (this one has no CUDA backend)"));
}
#endif

}  // namespace maas::gpu_bench
