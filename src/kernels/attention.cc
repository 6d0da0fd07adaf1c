// attention.cc — attention_paged's dispatch: the AVX-512 kernel, else the AVX2 one, else the
// scalar reference; MAAS_KERNELS=avx2|scalar lowers the choice as it does for the other ops.
// Every variant reads F32, F16 and Q8_0 caches (kernels.h PagedKv).
// Compiled without -mavx flags, like dispatch.cc, so the CPU checks themselves run anywhere.
#include <cstdlib>
#include <cstring>

#include "kernels/attention_internal.h"

namespace maas {

namespace kern {

bool attention_simd_shape(int32_t head_dim) { return head_dim % 16 == 0 && head_dim <= kAttentionMaxHeadDim; }

#if defined(MAAS_KERNELS_X86)
bool avx2_attention_supported() {
  static const bool ok =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return ok;
}
bool avx512_attention_supported() {
  static const bool ok = avx2_attention_supported() && __builtin_cpu_supports("avx512f") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512dq");
  return ok;
}
#else
bool avx2_attention_supported() { return false; }
bool avx512_attention_supported() { return false; }
void attention_paged_avx2(const AttentionQueries& a, const PagedKv& kv) { ref::attention_paged(a, kv); }
void attention_paged_avx512(const AttentionQueries& a, const PagedKv& kv) { ref::attention_paged(a, kv); }
#endif

}  // namespace kern

namespace {

using AttentionFn = void (*)(const AttentionQueries&, const PagedKv&);

AttentionFn pick_simd() {
  const char* env = std::getenv("MAAS_KERNELS");
  const bool want_scalar = env != nullptr && std::strcmp(env, "scalar") == 0;
  const bool want_avx2 = env != nullptr && std::strcmp(env, "avx2") == 0;
  if (!want_scalar && !want_avx2 && kern::avx512_attention_supported()) return kern::attention_paged_avx512;
  if (!want_scalar && kern::avx2_attention_supported()) return kern::attention_paged_avx2;
  return nullptr;
}

}  // namespace

bool attention_reads(GgmlType type) {
  return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kQ8_0;
}

void attention_paged(const AttentionQueries& a, const PagedKv& kv) {
  static const AttentionFn simd = pick_simd();
  if (simd != nullptr && kern::attention_simd_shape(a.head_dim)) {
    simd(a, kv);
  } else {
    ref::attention_paged(a, kv);
  }
}

}  // namespace maas
