// attention_decode.cu — decode attention split along the sequence (flash-decoding, Dao et al.
// 2023), GQA-aware. Work item (token, KV head g, head chunk, split s): one CTA of kWarps warps
// takes the positions [s * split_size, min((s + 1) * split_size, pos + 1)) of the token; warp w
// reads rows w, w + kWarps, ... of K and V once each (lanes on head elements, DPL consecutive
// dims per lane, vector loads, kUnroll rows loaded before any is used) and scores them against
// all the chunk's query heads (up to kDecodeHeadsPerCta, kept in registers), with an online
// softmax per head (Milakov & Gimelshein 2018). The warps' states are merged in shared memory
// and the CTA writes one partial per query head: m (the max score, base 2), l (sum of
// 2^(s - m)) and acc (sum of 2^(s - m) V). The reduce kernel then combines the splits the
// token's position reaches:
//   out = sum_s 2^(m_s - M) acc_s / sum_s 2^(m_s - M) l_s,  M = max_s m_s.
// Splits past a token's position exit at once and write nothing: the reduce never reads them.
// Reference: kernels.h attention_paged (reference/attention_ref.cc).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/attention_kernels.h"
#include "kernels/cuda/attention_load.cuh"
#include "kernels/cuda/attention_plan.h"

namespace maas::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kHeads = kDecodeHeadsPerCta;
constexpr int kReduceThreads = 128;

template <typename E>
struct SplitArgs : AttentionArgs<E> {
  int split_size, max_splits;
  const int32_t* decode_tokens;  // null: identity
  float* part_acc;               // [n_decode][n_head][max_splits][head_dim]
  float* part_ml;                // [n_decode][n_head][max_splits][2]
};

// The partials' index of (decode slot i, head h, split s).
__device__ __forceinline__ int64_t partial_index(int64_t i, int n_head, int h, int max_splits, int s) {
  return (i * n_head + h) * max_splits + s;
}

// Merges the kWarps warps' states per query head in shared memory (a warp without a position
// has m = -inf, l = 0, acc = 0; warp 0 always has the split's first position, so the merged max
// is finite) and writes the CTA's partials: head h's at index first + h * max_splits.
template <int DPL>
__device__ void write_partials(const float (&m)[kHeads], const float (&l)[kHeads], const float (&acc)[kHeads][DPL],
                               int nh, int head_dim, int64_t first, int max_splits, float* part_acc, float* part_ml) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, d0 = lane * DPL;
  __shared__ float s_m[kWarps][kHeads], s_l[kWarps][kHeads];
  __shared__ float s_acc[kWarps][kHeads][32 * DPL];
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    if (lane == 0) {
      s_m[warp][h] = m[h];
      s_l[warp][h] = l[h];
    }
#pragma unroll
    for (int k = 0; k < DPL; ++k) s_acc[warp][h][d0 + k] = acc[h][k];
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < nh * head_dim; idx += kWarps * 32) {
    const int h = idx / head_dim, d = idx % head_dim;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, s_m[w][h]);
    float sum = 0.f, out = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float c = exp2f(s_m[w][h] - mx);
      sum += s_l[w][h] * c;
      out += s_acc[w][h][d] * c;
    }
    const int64_t pi = first + static_cast<int64_t>(h) * max_splits;
    part_acc[pi * head_dim + d] = out;
    if (d == 0) {
      part_ml[2 * pi] = mx;
      part_ml[2 * pi + 1] = sum;
    }
  }
}

template <typename E, int DPL>
__global__ void __launch_bounds__(kWarps * 32) split_decode_kernel(SplitArgs<E> a) {
  const int64_t i = blockIdx.z;
  const int64_t t = a.decode_tokens ? a.decode_tokens[i] : i;
  const int last = a.pos[t];
  const int begin = static_cast<int>(blockIdx.x) * a.split_size;
  if (begin > last) return;  // past the token's position: the reduce reads no partial of it
  const int end = min(begin + a.split_size, last + 1);
  const int n_gqa = a.n_head / a.n_head_kv, n_chunks = (n_gqa + kHeads - 1) / kHeads;
  const int g = static_cast<int>(blockIdx.y) / n_chunks, chunk = static_cast<int>(blockIdx.y) % n_chunks;
  const int h0 = g * n_gqa + chunk * kHeads, nh = min(kHeads, n_gqa - chunk * kHeads);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, d0 = lane * DPL;
  const bool active = d0 < a.head_dim;  // head_dim % DPL == 0: a lane's dims are all in or all out

  float qv[kHeads][DPL], acc[kHeads][DPL], m[kHeads], l[kHeads];
  const float* qt = a.q + t * a.n_head * a.head_dim;
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    if (h < nh && active) {
      load_floats<DPL>(qt + static_cast<int64_t>(h0 + h) * a.head_dim + d0, qv[h]);
    } else {
#pragma unroll
      for (int k = 0; k < DPL; ++k) qv[h][k] = 0.f;
    }
#pragma unroll
    for (int k = 0; k < DPL; ++k) {
      qv[h][k] *= a.scale_log2;
      acc[h][k] = 0.f;
    }
    m[h] = -INFINITY;
    l[h] = 0.f;
  }

  const int32_t* table = a.tables + a.table_offset[t];
  const int64_t dkv = static_cast<int64_t>(a.n_head_kv) * a.head_dim;
  // kUnroll rows per warp per round, all loads first: that many K/V rows in flight per warp.
  constexpr int kUnroll = DPL <= 4 ? 4 : 2;
  for (int j0 = begin + warp; j0 < end; j0 += kWarps * kUnroll) {
    float kr[kUnroll][DPL], vr[kUnroll][DPL];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int j = j0 + u * kWarps;
      if (active && j < end) {
        const int64_t r = (static_cast<int64_t>(table[j / a.block_size]) * a.block_size + j % a.block_size) * dkv +
                          static_cast<int64_t>(g) * a.head_dim + d0;
        load_floats<DPL>(a.k + r, kr[u]);
        load_floats<DPL>(a.v + r, vr[u]);
      } else {
#pragma unroll
        for (int k = 0; k < DPL; ++k) kr[u][k] = vr[u][k] = 0.f;
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (j0 + u * kWarps >= end) break;  // the same for the whole warp
#pragma unroll
      for (int h = 0; h < kHeads; ++h) {
        if (h >= nh) break;  // nh is the same for the whole CTA: no divergence
        float s = 0.f;
#pragma unroll
        for (int k = 0; k < DPL; ++k) s += qv[h][k] * kr[u][k];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
        const float m_new = fmaxf(m[h], s);
        const float c = exp2f(m[h] - m_new), e = exp2f(s - m_new);
        l[h] = l[h] * c + e;
#pragma unroll
        for (int k = 0; k < DPL; ++k) acc[h][k] = acc[h][k] * c + e * vr[u][k];
        m[h] = m_new;
      }
    }
  }

  write_partials<DPL>(m, l, acc, nh, a.head_dim,
                      partial_index(i, a.n_head, h0, a.max_splits, static_cast<int>(blockIdx.x)), a.max_splits,
                      a.part_acc, a.part_ml);
}

// One CTA per (head, decode slot): combines the splits [0, pos / split_size] of the token.
__global__ void __launch_bounds__(kReduceThreads)
    split_reduce_kernel(const float* part_acc, const float* part_ml, const int32_t* pos, const int32_t* decode_tokens,
                        int n_head, int head_dim, int split_size, int max_splits, float* out) {
  const int h = static_cast<int>(blockIdx.x);
  const int64_t i = blockIdx.y;
  const int64_t t = decode_tokens ? decode_tokens[i] : i;
  const int n_valid = min(pos[t] / split_size + 1, max_splits);  // the plan keeps pos < split_size * max_splits
  const int64_t base = partial_index(i, n_head, h, max_splits, 0);
  float mx = -INFINITY;
  for (int s = 0; s < n_valid; ++s) mx = fmaxf(mx, part_ml[2 * (base + s)]);
  float sum = 0.f;
  for (int s = 0; s < n_valid; ++s) sum += part_ml[2 * (base + s) + 1] * exp2f(part_ml[2 * (base + s)] - mx);
  float* o = out + (t * n_head + h) * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += kReduceThreads) {
    float acc = 0.f;
    for (int s = 0; s < n_valid; ++s) acc += part_acc[(base + s) * head_dim + d] * exp2f(part_ml[2 * (base + s)] - mx);
    o[d] = acc / sum;
  }
}

template <typename E, int DPL>
void launch(const SplitArgs<E>& a, int64_t n_decode) {
  const int n_chunks = (a.n_head / a.n_head_kv + kHeads - 1) / kHeads;
  const dim3 grid(static_cast<unsigned>(a.max_splits), static_cast<unsigned>(a.n_head_kv * n_chunks),
                  static_cast<unsigned>(n_decode));
  split_decode_kernel<E, DPL><<<grid, kWarps * 32>>>(a);
}

template <typename E>
void launch_for_head_dim(const SplitArgs<E>& a, int64_t n_decode) {
  if (a.head_dim <= 64) {
    launch<E, 2>(a, n_decode);
  } else if (a.head_dim <= 128) {
    launch<E, 4>(a, n_decode);
  } else {
    launch<E, 8>(a, n_decode);
  }
}

template <typename E>
SplitArgs<E> split_args(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                        const DeviceAttentionPlan& plan, float scale) {
  float* part_acc = plan.workspace;
  float* part_ml = part_acc + plan.n_decode * n_head * static_cast<int64_t>(plan.max_splits) * kv.head_dim;
  SplitArgs<E> a;
  static_cast<AttentionArgs<E>&>(a) = attention_args<E>(q, n_head, kv, tokens, scale);
  a.split_size = plan.split_size;
  a.max_splits = plan.max_splits;
  a.decode_tokens = plan.decode_tokens;
  a.part_acc = part_acc;
  a.part_ml = part_ml;
  return a;
}

}  // namespace

Status split_decode_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                              const DeviceAttentionPlan& plan, float scale, float* out) {
  if (plan.n_decode <= 0) return Status::Ok();
  if (plan.n_decode > 65535 || plan.max_splits <= 0 || plan.max_splits > 65535 || plan.split_size <= 0) {
    return invalid_argument("CUDA split attention: " + std::to_string(plan.n_decode) + " tokens, " +
                            std::to_string(plan.max_splits) + " splits of " + std::to_string(plan.split_size));
  }
  float* part_acc = plan.workspace;
  const float* part_ml = part_acc + plan.n_decode * n_head * static_cast<int64_t>(plan.max_splits) * kv.head_dim;
  if (kv.elem == KvElem::kF32) {
    launch_for_head_dim(split_args<float>(q, n_head, kv, tokens, plan, scale), plan.n_decode);
  } else {
    launch_for_head_dim(split_args<__half>(q, n_head, kv, tokens, plan, scale), plan.n_decode);
  }
  const dim3 grid(static_cast<unsigned>(n_head), static_cast<unsigned>(plan.n_decode));
  split_reduce_kernel<<<grid, kReduceThreads>>>(part_acc, part_ml, tokens.pos, plan.decode_tokens, n_head, kv.head_dim,
                                                plan.split_size, plan.max_splits, out);
  return last_error("split decode attention");
}

}  // namespace maas::cuda
