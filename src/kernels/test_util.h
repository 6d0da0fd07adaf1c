// test_util.h — shared helpers for kernels_test and kernels_perf: seeded Gaussian data and
// quantized weight matrices built with maas's own quantizers.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"

namespace maas::kern_test {

inline std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A quantized copy of a row-major float matrix; `bytes` owns the data `w` points to.
struct OwnedMatrix {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

inline OwnedMatrix make_matrix(GgmlType type, const std::vector<float>& f, int64_t n_rows, int64_t n_cols) {
  OwnedMatrix m;
  m.w.type = type;
  m.w.n_rows = n_rows;
  m.w.n_cols = n_cols;
  const size_t rb = ggml_row_size(type, n_cols);
  m.bytes.resize(rb * static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) quantize_row(type, f.data() + r * n_cols, m.bytes.data() + rb * r, n_cols);
  m.w.data = m.bytes.data();
  return m;
}

}  // namespace maas::kern_test
