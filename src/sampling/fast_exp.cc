// fast_exp.cc — the blocked, vectorizable weight loop (see fast_exp.h).
#include "sampling/fast_exp.h"

#include <algorithm>

namespace maas {

// Compiled twice, for AVX2 and for the x86-64 baseline, and picked at load time (GCC function
// multiversioning). Without FMA in either clone and with -ffp-contract=off (ISO C++ mode), both
// compute bit-identical weights, so seeded draws replay across machines.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
double exp_weights(const float* x, int32_t n, float shift, float scale, float* w, double* block_sums) {
  double total = 0.0;
  for (int32_t start = 0, block = 0; start < n; start += kExpBlock, ++block) {
    const int32_t len = std::min(kExpBlock, n - start);
    const float* xb = x + start;
    float* wb = w + start;
    for (int32_t i = 0; i < len; ++i) wb[i] = fast_exp((xb[i] - shift) * scale);  // SIMD
    // Eight double lanes (independent chains, SIMD-friendly), combined in a fixed order.
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t i = 0;
    for (; i + 8 <= len; i += 8) {
      for (int j = 0; j < 8; ++j) lane[j] += wb[i + j];
    }
    for (; i < len; ++i) lane[0] += wb[i];
    const double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    if (block_sums) block_sums[block] = s;
    total += s;
  }
  return total;
}

}  // namespace maas
