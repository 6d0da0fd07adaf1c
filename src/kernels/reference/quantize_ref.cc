// quantize_ref.cc — reference quantizers for the 32-element block types (Q8_0, Q4_0) and the two
// activation formats. Rounding follows ggml's *_ref functions exactly so that our files and
// llama.cpp's agree byte for byte.
#include <algorithm>
#include <cmath>

#include "base/fp16.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas::ref {

void quantize_row_q8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK0; ++b, x += kQK0) {
    float amax = 0.f;
    for (int j = 0; j < kQK0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    // ggml uses roundf (half away from zero) here, unlike the K-quants' nearest_int.
    for (int j = 0; j < kQK0; ++j) y[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

void dequantize_row_q8_0(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK0; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK0; ++j) y[i * kQK0 + j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void quantize_row_q4_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK0; ++b, x += kQK0) {
    // The signed element of largest magnitude maps to -8, so the full range [-8, 7] is used on
    // the side that needs it.
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK0 / 2; ++j) {
      // Truncation of v + 8.5 (ggml's rounding), clamped: +8 can only come from ties at the top.
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      y[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void dequantize_row_q4_0(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK0; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK0 / 2; ++j) {
      y[i * kQK0 + j] = d * static_cast<float>((b[i].qs[j] & 0xF) - 8);
      y[i * kQK0 + j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void quantize_row_q8a(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8A*>(dst);
  for (int64_t b = 0; b < n / kQK0; ++b, x += kQK0) {
    float amax = 0.f;
    for (int j = 0; j < kQK0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    int sum = 0;
    for (int j = 0; j < kQK0; ++j) {
      const int q = nearest_int(x[j] * id);
      y[b].qs[j] = static_cast<int8_t>(q);
      sum += q;
    }
    y[b].d = d;
    y[b].sum = sum;
  }
}

void quantize_row_q8k(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float amax = 0.f;
    for (int j = 0; j < kQKK; ++j) amax = std::max(amax, std::fabs(x[j]));
    if (amax == 0.f) {
      y[b] = BlockQ8K{};
      continue;
    }
    const float id = 127.f / amax;
    for (int j = 0; j < kQKK; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::min(127, std::max(-127, nearest_int(id * x[j]))));
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y[b].qs[16 * g + j];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.f / id;
  }
}

}  // namespace maas::ref
