// attention_ref.cc — the scalar oracle for attention_paged: the formula of kernels.h, one query
// row at a time, in the most obvious order.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/attention_internal.h"

namespace maas::ref {

namespace {

constexpr int32_t kDimsPerPass = 256;  // output dims accumulated per pass over the keys (stack buffer)

const float* row_at(const float* base, const PagedKv& kv, int32_t pos) {
  const int64_t slot = static_cast<int64_t>(kv.block_table[pos / kv.block_size]) * kv.block_size + pos % kv.block_size;
  return base + slot * kv.row_stride;
}

float score(const float* q, const float* k, int32_t head_dim, float scale) {
  float dot = 0;
  for (int32_t d = 0; d < head_dim; ++d) dot += q[d] * k[d];
  return dot * scale;
}

}  // namespace

void attention_paged(const AttentionQueries& a, const PagedKv& kv) {
  const int32_t hd = a.head_dim;
  double o[kDimsPerPass];  // the output dims [d0, d0 + n) of one query row
  for (int32_t t = 0; t < a.n_tokens; ++t) {
    const int32_t n_kv = a.pos0 + t + 1;
    for (int32_t i = 0; i < a.n_heads; ++i) {
      const float* q = a.q + t * a.stride + static_cast<int64_t>(i) * hd;
      float* out = a.out + t * a.stride + static_cast<int64_t>(i) * hd;
      float max = -std::numeric_limits<float>::infinity();
      for (int32_t j = 0; j < n_kv; ++j) max = std::fmax(max, score(q, row_at(kv.k, kv, j), hd, a.scale));
      for (int32_t d0 = 0; d0 < hd; d0 += kDimsPerPass) {
        const int32_t n = std::min(kDimsPerPass, hd - d0);
        double sum = 0;
        for (int32_t d = 0; d < n; ++d) o[d] = 0;
        for (int32_t j = 0; j < n_kv; ++j) {
          const double p = std::exp(static_cast<double>(score(q, row_at(kv.k, kv, j), hd, a.scale) - max));
          const float* v = row_at(kv.v, kv, j) + d0;
          sum += p;
          for (int32_t d = 0; d < n; ++d) o[d] += p * v[d];
        }
        for (int32_t d = 0; d < n; ++d) out[d0 + d] = static_cast<float>(o[d] / sum);
      }
    }
  }
}

}  // namespace maas::ref
