// attention_internal.h — the implementations behind attention_paged (kernels.h), for the
// dispatcher in attention.cc and the parity test. Not part of the public interface.
#pragma once

#include "kernels/kernels.h"

namespace maas {

namespace ref {
// The definition, plainly: per query row, the maximum score, then sum_j e^(s_j - max) V[j] and
// sum_j e^(s_j - max) in double (scores recomputed rather than stored, so it needs no scratch).
void attention_paged(const AttentionQueries& a, const PagedKv& kv);
}  // namespace ref

namespace kern {
// Largest head_dim the SIMD kernels take (their per-call scratch lives on the stack).
inline constexpr int32_t kAttentionMaxHeadDim = 256;
// Whether the SIMD kernels take this head: head_dim % 16 == 0, head_dim <= kAttentionMaxHeadDim.
bool attention_simd_shape(int32_t head_dim);

// The SIMD kernels (cpu/attention_tile.h): one query row per vector lane, online softmax. Call
// them only for attention_simd_shape heads on a CPU that has the ISA: the *_supported checks
// (attention.cc, built for any x86-64) test the flags each file is compiled with.
void attention_paged_avx512(const AttentionQueries& a, const PagedKv& kv);  // AVX-512 F/BW/VL/DQ
void attention_paged_avx2(const AttentionQueries& a, const PagedKv& kv);    // AVX2 + FMA + F16C
bool avx512_attention_supported();
bool avx2_attention_supported();
}  // namespace kern

}  // namespace maas
