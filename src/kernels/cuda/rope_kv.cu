// rope_kv.cu — RoPE on q and k, fused with the write of k and v into the paged KV cache.
// One block per token: its n_rot/2 angles theta_i = pos * inv_freq[i] are computed once, in
// double with double cos/sin rounded to float (as model/rope.cc: the same values the CPU
// applies), then applied to every head of q and of k; k's rotated heads and v go to the token's
// cache row, rounded to F16 for an F16 cache. inv_freq is model/rope.h's table (Llama 3.1
// frequency scaling folded in), uploaded once by the backend.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxPairs = 512;

__device__ __forceinline__ void store(float* dst, float v) { *dst = v; }
__device__ __forceinline__ void store(__half* dst, float v) { *dst = __float2half(v); }

template <typename E>
__global__ void rope_store_kernel(const double* inv_freq, int n_pairs, float* q, int n_head, float* k, const float* v,
                                  E* kc, E* vc, int n_head_kv, int head_dim, int block_size, const int32_t* pos,
                                  const int32_t* table_offset, const int32_t* tables) {
  __shared__ float cos_s[kMaxPairs], sin_s[kMaxPairs];
  const int64_t t = blockIdx.x;
  const int p = pos[t];
  for (int i = threadIdx.x; i < n_pairs; i += kThreads) {
    double s, c;
    sincos(static_cast<double>(p) * inv_freq[i], &s, &c);
    cos_s[i] = static_cast<float>(c);
    sin_s[i] = static_cast<float>(s);
  }
  __syncthreads();
  const int dq = n_head * head_dim, dkv = n_head_kv * head_dim;
  float* qt = q + t * dq;
  for (int j = threadIdx.x; j < n_head * n_pairs; j += kThreads) {
    float* x = qt + (j / n_pairs) * head_dim + 2 * (j % n_pairs);
    const float c = cos_s[j % n_pairs], s = sin_s[j % n_pairs], x0 = x[0], x1 = x[1];
    x[0] = x0 * c - x1 * s;
    x[1] = x0 * s + x1 * c;
  }
  float* kt = k + t * dkv;
  for (int j = threadIdx.x; j < n_head_kv * n_pairs; j += kThreads) {
    float* x = kt + (j / n_pairs) * head_dim + 2 * (j % n_pairs);
    const float c = cos_s[j % n_pairs], s = sin_s[j % n_pairs], x0 = x[0], x1 = x[1];
    x[0] = x0 * c - x1 * s;
    x[1] = x0 * s + x1 * c;
  }
  __syncthreads();  // every rotated pair of k is in place before the copy reads whole rows
  const int64_t r = (static_cast<int64_t>(tables[table_offset[t] + p / block_size]) * block_size + p % block_size) * dkv;
  const float* vt = v + t * dkv;
  for (int j = threadIdx.x; j < dkv; j += kThreads) {
    store(kc + r + j, kt[j]);
    store(vc + r + j, vt[j]);
  }
}

}  // namespace

Status rope_store_kv(const double* inv_freq, int32_t n_rot, float* q, int32_t n_head, float* k, const float* v,
                     const DeviceKvLayer& kv, const DeviceTokens& tokens) {
  if (tokens.n <= 0) return Status::Ok();
  const int n_pairs = n_rot / 2;
  if (n_pairs > kMaxPairs || n_rot > kv.head_dim) {
    return invalid_argument("CUDA rope_store_kv: n_rot " + std::to_string(n_rot) + " (head_dim " +
                            std::to_string(kv.head_dim) + ")");
  }
  const unsigned grid = static_cast<unsigned>(tokens.n);
  if (kv.elem == KvElem::kF32) {
    rope_store_kernel<float><<<grid, kThreads>>>(inv_freq, n_pairs, q, n_head, k, v, static_cast<float*>(kv.k),
                                                 static_cast<float*>(kv.v), kv.n_head_kv, kv.head_dim, kv.block_size, tokens.pos,
                                                 tokens.table_offset, tokens.tables);
  } else {
    rope_store_kernel<__half><<<grid, kThreads>>>(inv_freq, n_pairs, q, n_head, k, v, static_cast<__half*>(kv.k),
                                                  static_cast<__half*>(kv.v), kv.n_head_kv, kv.head_dim, kv.block_size, tokens.pos,
                                                  tokens.table_offset, tokens.tables);
  }
  return last_error("rope_store_kv");
}

}  // namespace maas::cuda
