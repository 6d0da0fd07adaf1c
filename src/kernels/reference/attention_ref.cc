// attention_ref.cc — the scalar oracle for attention_paged: the formula of kernels.h, one query
// row at a time, in the most obvious order. Cached rows of F16 / Q8_0 are read through
// dequantize_row, a Q8_0 block (32 elements) at a time, so every float the formula sees is the
// one the SIMD kernels see.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/attention_internal.h"

namespace maas::ref {

namespace {

constexpr int32_t kDimsPerPass = 256;  // output dims accumulated per pass over the keys (stack buffer)
constexpr int32_t kChunk = 32;         // elements converted at a time (one Q8_0 block)

const uint8_t* row_at(const void* base, const PagedKv& kv, size_t row_bytes, int32_t pos) {
  const int64_t slot = static_cast<int64_t>(kv.block_table[pos / kv.block_size]) * kv.block_size + pos % kv.block_size;
  return static_cast<const uint8_t*>(base) + static_cast<size_t>(slot) * row_bytes;
}

// Elements [d0, d0 + n) of a cached row as floats (d0 and n multiples of 32 for Q8_0).
void read_row(GgmlType type, const uint8_t* row, int32_t d0, int32_t n, float* out) {
  dequantize_row(type, row + ggml_row_size(type, d0), out, n);
}

float score(const float* q, GgmlType type, const uint8_t* k, int32_t head_dim, float scale) {
  float dot = 0;
  float kf[kChunk];
  for (int32_t d0 = 0; d0 < head_dim; d0 += kChunk) {
    const int32_t n = std::min(kChunk, head_dim - d0);
    read_row(type, k, d0, n, kf);
    for (int32_t d = 0; d < n; ++d) dot += q[d0 + d] * kf[d];
  }
  return dot * scale;
}

}  // namespace

void attention_paged(const AttentionQueries& a, const PagedKv& kv) {
  const int32_t hd = a.head_dim;
  const size_t row_bytes = ggml_row_size(kv.type, kv.row_stride);
  double o[kDimsPerPass];  // the output dims [d0, d0 + n) of one query row
  float v[kDimsPerPass];   // the same dims of one value row
  for (int32_t t = 0; t < a.n_tokens; ++t) {
    const int32_t n_kv = a.pos0 + t + 1;
    for (int32_t i = 0; i < a.n_heads; ++i) {
      const float* q = a.q + t * a.stride + static_cast<int64_t>(i) * hd;
      float* out = a.out + t * a.stride + static_cast<int64_t>(i) * hd;
      float max = -std::numeric_limits<float>::infinity();
      for (int32_t j = 0; j < n_kv; ++j) {
        max = std::fmax(max, score(q, kv.type, row_at(kv.k, kv, row_bytes, j), hd, a.scale));
      }
      for (int32_t d0 = 0; d0 < hd; d0 += kDimsPerPass) {
        const int32_t n = std::min(kDimsPerPass, hd - d0);
        double sum = 0;
        for (int32_t d = 0; d < n; ++d) o[d] = 0;
        for (int32_t j = 0; j < n_kv; ++j) {
          const double p = std::exp(static_cast<double>(score(q, kv.type, row_at(kv.k, kv, row_bytes, j), hd, a.scale) - max));
          read_row(kv.type, row_at(kv.v, kv, row_bytes, j), d0, n, v);
          sum += p;
          for (int32_t d = 0; d < n; ++d) o[d] += p * v[d];
        }
        for (int32_t d = 0; d < n; ++d) out[d0 + d] = static_cast<float>(o[d] / sum);
      }
    }
  }
}

}  // namespace maas::ref
