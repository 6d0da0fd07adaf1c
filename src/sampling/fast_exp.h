// fast_exp.h — a branch-free exp for softmax weights that the compiler can vectorize.
//
// std::exp(float) is a library call per element (~3 ns here), and a sampling step needs one per
// vocabulary entry (128,256 for Llama 3). fast_exp is Cephes' expf (round-to-nearest range
// reduction to r in [-ln2/2, ln2/2], degree-6 polynomial, exponent built from bits) written
// without branches, so a loop over it becomes SIMD code. Accuracy: within a few ulp of exp
// (fast_exp_test checks < 4e-7 relative on [-87, 0]).
// Domain: the sampler only passes x <= 0 (logits shifted by their max). x < -87 returns exactly
// 0 (NaN too) — a weight below e^-87 ~ 1.6e-38 of the best token's is no chance at all, and -inf (a banned
// token) must weigh exactly 0. NaN never reaches it (the sampler sanitizes logits first).
// Thread safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>

namespace maas {

// Selects a where mask is all ones, b where it is zero (bit operations, so SSE2 can vectorize the
// loop: a float `?:` becomes a branch there without -ffast-math).
inline float select_bits(uint32_t mask, float a, float b) {
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & mask) | (std::bit_cast<uint32_t>(b) & ~mask));
}

inline float fast_exp(float x) {
  const uint32_t in_range = 0u - static_cast<uint32_t>(x >= -87.0f);  // false for NaN, -inf
  const uint32_t too_big = 0u - static_cast<uint32_t>(x > 88.0f);
  const float xc = select_bits(too_big, 88.0f, select_bits(in_range, x, -87.0f));
  // n = round(x / ln2) with the 1.5 * 2^23 trick (exact in round-to-nearest, no libm call).
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return select_bits(in_range, y * scale, 0.0f);
}

// Writes w[i] = fast_exp((x[i] - shift) * scale) for i in [0, n) and returns their sum,
// accumulated in double in a fixed order (the same on every run, so seeded draws replay).
// block_sums, when not null, receives the sum of each kExpBlock-sized block (the last may be short).
inline constexpr int32_t kExpBlock = 256;
double exp_weights(const float* x, int32_t n, float shift, float scale, float* w, double* block_sums);

}  // namespace maas
