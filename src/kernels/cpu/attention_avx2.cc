// attention_avx2.cc — attention_paged with AVX2 + FMA: tiles of 8 query rows, 8 keys a step
// (the algorithm is cpu/attention_tile.h; this file supplies the vector operations).
#include <immintrin.h>

#include "kernels/attention_internal.h"
#include "kernels/cpu/attention_tile.h"

namespace maas::kern {

namespace {

struct Avx2 {
  using F = __m256;
  using I = __m256i;
  using Mask = __m256;  // all-ones lanes
  static constexpr int kLanes = 8;
  static constexpr int kKeys = 8;       // s[8] + 4 dims of Qt + broadcasts fit the 16 ymm
  static constexpr int kScoreDims = 4;
  static constexpr int kValueDims = 8;

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F load(const float* p) { return _mm256_load_ps(p); }
  static void store(float* p, F v) { _mm256_store_ps(p, v); }
  static I load_i(const int32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }

  static Mask none() { return _mm256_setzero_ps(); }
  static Mask sees(I pos, int32_t j) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(pos, _mm256_set1_epi32(j - 1)));
  }
  static F max_where(Mask m, F acc, F s) { return _mm256_blendv_ps(acc, _mm256_max_ps(acc, s), m); }
  static F zero_unless(Mask m, F v) { return _mm256_and_ps(m, v); }

  // Cached F16 / Q8_0 rows (attention_tile.h convert_row): 8 halves, 8 int8, one half.
  static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_i8(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

  static F gather(const float* base, I off) { return _mm256_i32gather_ps(base, off, 4); }
  static void scatter(float* base, I off, int32_t n, F v) {
    alignas(32) float x[kLanes];
    alignas(32) int32_t o[kLanes];
    _mm256_store_ps(x, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o), off);
    for (int32_t i = 0; i < n; ++i) base[o[i]] = x[i];
  }

  // exp_approx (attention_tile.h): round to nearest, and p * 2^n with 2^n built in the exponent
  // field, 0 where x < -87.3.
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F round(F x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F scale_pow2_or_zero(F p, F n, F x) {
    const F normal = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_GE_OQ);
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(normal, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
  }
};

}  // namespace

void attention_paged_avx2(const AttentionQueries& a, const PagedKv& kv) { AttentionKernel<Avx2>::run(a, kv); }

}  // namespace maas::kern
