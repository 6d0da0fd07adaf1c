// kernels_avx2.cc — the AVX2 + FMA + F16C variant. Compiled with -mavx2 -mfma -mf16c (and only
// this file and kernels_avx512.cc are); dispatch.cc hands out kAvx2Kernels only after checking
// the CPU. Float weights (F32/F16/BF16) are converted 8 at a time in registers and FMA'd with x;
// the quantized tiles come from x86_quant.inc.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/tile_loop.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas::kern {
namespace {

#define MAAS_X86_VNNI 0
#include "kernels/cpu/x86_quant.inc"
#undef MAAS_X86_VNNI

struct LoadF32 {
  static __m256 load8(const uint8_t* row, int64_t c) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
  }
  static float at(const uint8_t* row, int64_t c) { return reinterpret_cast<const float*>(row)[c]; }
};
struct LoadF16 {
  static __m256 load8(const uint8_t* row, int64_t c) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  }
  static float at(const uint8_t* row, int64_t c) {
    return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[c]);
  }
};
struct LoadBF16 {
  static __m256 load8(const uint8_t* row, int64_t c) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float at(const uint8_t* row, int64_t c) {
    const uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[c]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

// Float-weight tile: n_cols need not be a multiple of 8 (scalar tail).
template <class Load>
struct FloatKern {
  template <int NR, int NT>
  static void tile(const MatmulArgs& a, int64_t r, int64_t t) {
    const uint8_t* w[NR];
    const float* x[NT];
    MAAS_UNROLL
    for (int i = 0; i < NR; ++i) w[i] = a.w + static_cast<size_t>(r + i) * a.w_row_bytes;
    MAAS_UNROLL
    for (int j = 0; j < NT; ++j) x[j] = reinterpret_cast<const float*>(a.x + static_cast<size_t>(t + j) * a.x_row_bytes);
    __m256 acc[NR][NT] = {};
    int64_t c = 0;
    for (; c + 8 <= a.n_cols; c += 8) {
      __m256 wv[NR];
      MAAS_UNROLL
      for (int i = 0; i < NR; ++i) wv[i] = Load::load8(w[i], c);
      MAAS_UNROLL
      for (int j = 0; j < NT; ++j) {
        const __m256 xv = _mm256_loadu_ps(x[j] + c);
        MAAS_UNROLL
        for (int i = 0; i < NR; ++i) acc[i][j] = _mm256_fmadd_ps(wv[i], xv, acc[i][j]);
      }
    }
    MAAS_UNROLL
    for (int i = 0; i < NR; ++i) {
      MAAS_UNROLL
      for (int j = 0; j < NT; ++j) {
        float s = hsum8(acc[i][j]);
        for (int64_t k = c; k < a.n_cols; ++k) s += Load::at(w[i], k) * x[j][k];
        a.y[(t + j) * a.y_stride + r + i] = s;
      }
    }
  }
};

// Tile shapes: 16 ymm registers hold NR x NT accumulators plus NR weight vectors and temporaries.
void mm_f32(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 2, FloatKern<LoadF32>>(a, r0, r1, t0, t1);
}
void mm_f16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 2, FloatKern<LoadF16>>(a, r0, r1, t0, t1);
}
void mm_bf16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 2, FloatKern<LoadBF16>>(a, r0, r1, t0, t1);
}
void mm_q8_0(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 2, Q8_0Kern>(a, r0, r1, t0, t1);
}
void mm_q4_0(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 2, Q4_0Kern>(a, r0, r1, t0, t1);
}
void mm_q4_k(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<2, 2, Q4KKern>(a, r0, r1, t0, t1);
}
void mm_q6_k(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<2, 2, Q6KKern>(a, r0, r1, t0, t1);
}

}  // namespace

// Constant-initialised (no code runs at load time under these flags).
extern const KernelSet kAvx2Kernels;
const KernelSet kAvx2Kernels = {"avx2", mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0,
                                mm_q4_k, mm_q6_k, nullptr, nullptr, nullptr,
                                nullptr, nullptr};

}  // namespace maas::kern
