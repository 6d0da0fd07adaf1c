// kernels_scalar.cc — the portable variant: the same integer block arithmetic as the SIMD kernels
// (weights stay quantized, activations in BlockQ8A / BlockQ8K), written as plain loops. It is
// what runs on CPUs without AVX2 and what the SIMD variants must agree with almost exactly.
#include "base/fp16.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas::kern {
namespace {

template <class Dot>
void for_each_output(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1, Dot dot) {
  for (int64_t t = t0; t < t1; ++t) {
    const uint8_t* xt = a.x + static_cast<size_t>(t) * a.x_row_bytes;
    for (int64_t r = r0; r < r1; ++r) {
      a.y[t * a.y_stride + r] = dot(a.w + static_cast<size_t>(r) * a.w_row_bytes, xt, a.n_cols);
    }
  }
}

float dot_f32_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  return ref::dot_f32(reinterpret_cast<const float*>(w), reinterpret_cast<const float*>(x), n);
}

float dot_f16_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* h = reinterpret_cast<const uint16_t*>(w);
  const auto* xf = reinterpret_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(h[i]) * xf[i];
  return sum;
}

float dot_bf16_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* h = reinterpret_cast<const uint16_t*>(w);
  const auto* xf = reinterpret_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(h[i]) * xf[i];
  return sum;
}

float dot_q8_0_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* wb = reinterpret_cast<const BlockQ8_0*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8A*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK0; ++b) {
    int isum = 0;
    for (int j = 0; j < kQK0; ++j) isum += wb[b].qs[j] * xb[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * xb[b].d * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_0_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* wb = reinterpret_cast<const BlockQ4_0*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8A*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK0; ++b) {
    int isum = 0;  // unsigned nibbles times x, then the -8 offset once via the block sum
    for (int j = 0; j < kQK0 / 2; ++j) {
      isum += (wb[b].qs[j] & 0xF) * xb[b].qs[j] + (wb[b].qs[j] >> 4) * xb[b].qs[j + 16];
    }
    isum -= 8 * xb[b].sum;
    sum += fp16_to_fp32(wb[b].d) * xb[b].d * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_k_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* wb = reinterpret_cast<const BlockQ4K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      scale_min_k4(j, wb[b].scales, &sc, &m);
      const uint8_t* q = wb[b].qs + 32 * (j / 2);
      const int shift = (j % 2) * 4;
      const int8_t* y = xb[b].qs + 32 * j;
      int s = 0;
      for (int l = 0; l < 32; ++l) s += ((q[l] >> shift) & 0xF) * y[l];
      isum += sc * s;
      msum += m * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
    }
    sum += xb[b].d * (fp16_to_fp32(wb[b].d) * static_cast<float>(isum) -
                      fp16_to_fp32(wb[b].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q6_k_row(const uint8_t* w, const uint8_t* x, int64_t n) {
  const auto* wb = reinterpret_cast<const BlockQ6K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    int q[kQKK];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = wb[b].ql + 64 * h;
      const uint8_t* qh = wb[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        q[128 * h + l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
        q[128 * h + l + 32] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
        q[128 * h + l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        q[128 * h + l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
      }
    }
    int isum = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * g + l] * xb[b].qs[16 * g + l];
      isum += wb[b].scales[g] * (s - 32 * xb[b].bsums[g]);  // the -32 offset via the group sum
    }
    sum += fp16_to_fp32(wb[b].d) * xb[b].d * static_cast<float>(isum);
  }
  return sum;
}

#define MAAS_SCALAR_MM(name, dot)                                                           \
  void name(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {          \
    for_each_output(a, r0, r1, t0, t1, dot);                                                \
  }
MAAS_SCALAR_MM(mm_f32, dot_f32_row)
MAAS_SCALAR_MM(mm_f16, dot_f16_row)
MAAS_SCALAR_MM(mm_bf16, dot_bf16_row)
MAAS_SCALAR_MM(mm_q8_0, dot_q8_0_row)
MAAS_SCALAR_MM(mm_q4_0, dot_q4_0_row)
MAAS_SCALAR_MM(mm_q4_k, dot_q4_k_row)
MAAS_SCALAR_MM(mm_q6_k, dot_q6_k_row)
#undef MAAS_SCALAR_MM

}  // namespace

const KernelSet& scalar_kernels() {
  static const KernelSet ks = {"scalar", mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0,
                               mm_q4_k, mm_q6_k, nullptr, nullptr, nullptr,
                               nullptr, nullptr};
  return ks;
}

}  // namespace maas::kern
