// ops_ref.cc — scalar versions of the element-wise ops. rms_norm, silu_mul and add_inplace are
// cheap next to the matmuls, so these are also what kernels.h runs; dot_f32 is the scalar F32
// matmul's row product (attention is attention_paged, reference/attention_ref.cc).
#include <algorithm>
#include <cmath>

#include "kernels/kernels_internal.h"

namespace maas::ref {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double sum = 0;  // double: n is up to ~16k and the mean of squares must not drift
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.f + std::exp(-g)) * up[i];
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace maas::ref
