// attention_avx512.cc — attention_paged with AVX-512: tiles of 16 query rows, 16 keys a step
// (the algorithm is cpu/attention_tile.h; this file supplies the vector operations).
#include <immintrin.h>

#include "kernels/attention_internal.h"
#include "kernels/cpu/attention_tile.h"

namespace maas::kern {

namespace {

struct Avx512 {
  using F = __m512;
  using I = __m512i;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kKeys = 16;       // s[16] + 8 dims of Qt = 24 zmm in scores()
  static constexpr int kScoreDims = 8;
  static constexpr int kValueDims = 16;  // 16 accumulators in accumulate_values()

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F load(const float* p) { return _mm512_load_ps(p); }
  static void store(float* p, F v) { _mm512_store_ps(p, v); }
  static I load_i(const int32_t* p) { return _mm512_load_si512(p); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }

  static Mask none() { return 0; }
  static Mask sees(I pos, int32_t j) { return _mm512_cmpge_epi32_mask(pos, _mm512_set1_epi32(j)); }
  static F max_where(Mask m, F acc, F s) { return _mm512_mask_max_ps(acc, m, acc, s); }
  static F zero_unless(Mask m, F v) { return _mm512_maskz_mov_ps(m, v); }

  // Cached F16 / Q8_0 rows (attention_tile.h convert_row): 16 halves, 16 int8, one half.
  static F load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F load_i8(const int8_t* p) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))); }
  static float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

  static F gather(const float* base, I off) { return _mm512_i32gather_ps(off, base, 4); }
  static void scatter(float* base, I off, int32_t n, F v) {
    _mm512_mask_i32scatter_ps(base, static_cast<__mmask16>((1u << n) - 1), off, v, 4);
  }

  // exp_approx (attention_tile.h): round to nearest, and p * 2^n by scalef, 0 where x < -87.3.
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F round(F x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F scale_pow2_or_zero(F p, F n, F x) {
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_GE_OQ), p, n);
  }
};

}  // namespace

void attention_paged_avx512(const AttentionQueries& a, const PagedKv& kv) { AttentionKernel<Avx512>::run(a, kv); }

}  // namespace maas::kern
