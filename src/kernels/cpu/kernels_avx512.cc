// kernels_avx512.cc — the AVX-512 variant (F, BW, VL, DQ, VNNI). Float weights run 16 lanes wide
// with masked loads for the row tail; the quantized tiles are x86_quant.inc compiled with VNNI
// (vpdpbusd / vpdpwssd on 256-bit registers) and, thanks to the 32 vector registers, with larger
// tiles than AVX2; Q8_0 and Q4_0 instead use the 512-bit tiles of x86_quant512.inc, and their
// interleaved (kRows16) matrices the kernels of x86_rows16_512.inc.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/tile_loop.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas::kern {
namespace {

#define MAAS_X86_VNNI 1
#include "kernels/cpu/x86_quant.inc"
#undef MAAS_X86_VNNI
#include "kernels/cpu/x86_quant512.inc"
#include "kernels/cpu/x86_rows16_512.inc"

// Each loader reads up to 16 elements of a row; `m` masks off columns past the end.
struct Load16F32 {
  static constexpr int64_t kBytes = 4;  // per element
  static __m512 load(const uint8_t* row, int64_t c, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
  }
};
struct Load16F16 {
  static constexpr int64_t kBytes = 2;
  static __m512 load(const uint8_t* row, int64_t c, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * c));
  }
};
struct Load16BF16 {
  static constexpr int64_t kBytes = 2;
  static __m512 load(const uint8_t* row, int64_t c, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

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
    __m512 acc[NR][NT] = {};
    for (int64_t c = 0; c < a.n_cols; c += 16) {
      const int64_t left = a.n_cols - c;
      const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
      __m512 wv[NR];
      MAAS_UNROLL
      for (int i = 0; i < NR; ++i) {
        if constexpr (NT == 1) _mm_prefetch(reinterpret_cast<const char*>(w[i] + Load::kBytes * c + kPrefetchBytes), _MM_HINT_T0);
        wv[i] = Load::load(w[i], c, m);
      }
      MAAS_UNROLL
      for (int j = 0; j < NT; ++j) {
        const __m512 xv = _mm512_maskz_loadu_ps(m, x[j] + c);
        MAAS_UNROLL
        for (int i = 0; i < NR; ++i) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
      }
    }
    MAAS_UNROLL
    for (int i = 0; i < NR; ++i)
      MAAS_UNROLL
      for (int j = 0; j < NT; ++j) a.y[(t + j) * a.y_stride + r + i] = _mm512_reduce_add_ps(acc[i][j]);
  }
};

// Tile shapes for 32 registers: 4 x 4 float accumulators; the K-quant tiles also hold an integer
// accumulator per output, hence 4 x 2. Q8_0 / Q4_0 use x86_quant512.inc, whose 8 x 8 tiles hold
// four tokens per accumulator (16 accumulators); their NT = 1 tiles use 8 block-pair accumulators.
void mm_f32(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 4, FloatKern<Load16F32>>(a, r0, r1, t0, t1);
}
void mm_f16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  if (t1 - t0 < 4) return run_tiles<8, 1, FloatKern<Load16F16>>(a, r0, r1, t0, t1);
  run_tiles<4, 4, FloatKern<Load16F16>>(a, r0, r1, t0, t1);
}
void mm_bf16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<4, 4, FloatKern<Load16BF16>>(a, r0, r1, t0, t1);
}
void mm_q8_0(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<8, 8, Q8_0Kern512>(a, r0, r1, t0, t1);
}
void mm_q4_0(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  run_tiles<8, 8, Q4_0Kern512>(a, r0, r1, t0, t1);
}
void mm_q8_0x16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  mm_rows16<Q8_0x16>(a, r0, r1, t0, t1);
}
void mm_q4_0x16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  mm_rows16<Q4_0x16>(a, r0, r1, t0, t1);
}
void mm_q4_kx16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  mm_rows16<Q4_Kx16>(a, r0, r1, t0, t1);
}
void mm_q6_kx16(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  mm_rows16<Q6_Kx16>(a, r0, r1, t0, t1);
}
// K-quant decode (fewer than 4 tokens): 8-row tiles keep more weight streams in flight than 4
// (Q4_K_M tg64, alternating runs: 4 rows 12.2-15.2, 6 rows 13.2-16.8, 8 rows 14.7-15.8 t/s).
void mm_q4_k(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  if (t1 - t0 < 4) return run_tiles<8, 1, Q4KKern512>(a, r0, r1, t0, t1);
  run_tiles<4, 4, Q4KKern512>(a, r0, r1, t0, t1);
}
void mm_q6_k(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  if (t1 - t0 < 4) return run_tiles<8, 1, Q6KKern>(a, r0, r1, t0, t1);
  run_tiles<4, 2, Q6KKern>(a, r0, r1, t0, t1);
}

}  // namespace

extern const KernelSet kAvx512Kernels;
const KernelSet kAvx512Kernels = {"avx512", mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0,
                                  mm_q4_k, mm_q6_k, nullptr, mm_q8_0x16, mm_q4_0x16,
                                  mm_q4_kx16, mm_q6_kx16};

}  // namespace maas::kern
