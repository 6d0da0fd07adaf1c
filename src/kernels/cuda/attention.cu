// attention.cu — causal attention with grouped KV heads over the paged KV cache.
// The planned form (cuda_ops.h, attention_plan.h) dispatches to attention_decode.cu (split along
// the sequence) and attention_prefill.cu (tiled); this file checks its arguments. The simple
// form, kept as the device-side baseline, does decode and prefill alike: one warp per (token,
// query head), lanes on head elements d = lane + 32 i. The warp walks the token's positions
// 0 .. pos in order: score = scale * q · K[j] (a warp sum), then the online softmax (Milakov &
// Gimelshein 2018) rescales the running max, denominator and V accumulator, so no score row is
// ever stored, whatever the context. Reference: kernels.h attention_paged
// (reference/attention_ref.cc).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/attention_kernels.h"
#include "kernels/cuda/attention_plan.h"
#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxPerLane = 8;  // head_dim <= 256

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const __half* p) { return __half2float(*p); }

template <typename E>
__global__ void attention_kernel(const float* q, int n_head, const E* kc, const E* vc, int n_head_kv, int head_dim,
                                 int block_size, const int32_t* pos, const int32_t* table_offset, const int32_t* tables,
                                 int64_t n_work, float scale, float* out) {
  const int lane = threadIdx.x % 32;
  const int64_t w = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (w >= n_work) return;
  const int64_t t = w / n_head;
  const int h = static_cast<int>(w % n_head), g = h / (n_head / n_head_kv);
  const int dkv = n_head_kv * head_dim;
  const float* qh = q + t * static_cast<int64_t>(n_head) * head_dim + static_cast<int64_t>(h) * head_dim;
  float qv[kMaxPerLane], acc[kMaxPerLane];
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int d = lane + 32 * i;
    qv[i] = d < head_dim ? qh[d] : 0.f;
    acc[i] = 0.f;
  }
  const int32_t* table = tables + table_offset[t];
  const int last = pos[t];
  float m = -INFINITY, l = 0.f;
  for (int j = 0; j <= last; ++j) {
    const int64_t r = (static_cast<int64_t>(table[j / block_size]) * block_size + j % block_size) * dkv +
                      static_cast<int64_t>(g) * head_dim;
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < head_dim) s += qv[i] * load(kc + r + d);
    }
    for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
    s *= scale;
    const float m_new = fmaxf(m, s);
    const float c = expf(m - m_new), e = expf(s - m_new);
    l = l * c + e;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < head_dim) acc[i] = acc[i] * c + e * load(vc + r + d);
    }
    m = m_new;
  }
  float* oh = out + t * static_cast<int64_t>(n_head) * head_dim + static_cast<int64_t>(h) * head_dim;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < head_dim) oh[d] = acc[i] / l;
  }
}

}  // namespace

Status attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens, float scale,
                 float* out) {
  if (tokens.n <= 0) return Status::Ok();
  if (kv.head_dim > 32 * kMaxPerLane || kv.n_head_kv <= 0 || n_head % kv.n_head_kv != 0) {
    return invalid_argument("CUDA attention: head_dim " + std::to_string(kv.head_dim) + ", " + std::to_string(n_head) +
                            " heads over " + std::to_string(kv.n_head_kv) + " KV heads");
  }
  const int64_t n_work = tokens.n * n_head;
  const unsigned grid = static_cast<unsigned>((n_work + kWarpsPerBlock - 1) / kWarpsPerBlock);
  if (kv.elem == KvElem::kF32) {
    attention_kernel<float><<<grid, 32 * kWarpsPerBlock>>>(q, n_head, static_cast<const float*>(kv.k),
                                                           static_cast<const float*>(kv.v), kv.n_head_kv, kv.head_dim,
                                                           kv.block_size, tokens.pos, tokens.table_offset, tokens.tables,
                                                           n_work, scale, out);
  } else {
    attention_kernel<__half><<<grid, 32 * kWarpsPerBlock>>>(q, n_head, static_cast<const __half*>(kv.k),
                                                            static_cast<const __half*>(kv.v), kv.n_head_kv, kv.head_dim,
                                                            kv.block_size, tokens.pos, tokens.table_offset, tokens.tables,
                                                            n_work, scale, out);
  }
  return last_error("attention");
}

Status attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                 const DeviceAttentionPlan& plan, float scale, float* out) {
  const AttentionShape shape{n_head, kv.n_head_kv, kv.head_dim};
  RETURN_IF_ERROR(check_attention_shape(shape));
  const size_t needed = attention_workspace_bytes(plan.n_decode, shape, plan.max_splits);
  if (plan.workspace_bytes < needed || (needed > 0 && plan.workspace == nullptr)) {
    return invalid_argument("CUDA attention: a workspace of " + std::to_string(plan.workspace_bytes) +
                            " bytes for a plan that needs " + std::to_string(needed));
  }
  RETURN_IF_ERROR(split_decode_attention(q, n_head, kv, tokens, plan, scale, out));
  if (plan.prefill_mma && mma_prefill_takes(kv.head_dim)) {
    return mma_prefill_attention(q, n_head, kv, tokens, plan, scale, out);
  }
  return tiled_prefill_attention(q, n_head, kv, tokens, plan, scale, out);
}

}  // namespace maas::cuda
