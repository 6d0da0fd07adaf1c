// attention_load.cuh — what the attention kernels share: vector loads of n consecutive cache /
// query elements as floats, and the arguments every one of them takes (AttentionArgs). The pointer must be aligned to the vector: head_dim and n_head_kv *
// head_dim are multiples of 8 (check_attention_shape) and the buffers come from cudaMalloc.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {

template <int N>
__device__ __forceinline__ void load_floats(const float* p, float* out) {
  if constexpr (N % 4 == 0) {
#pragma unroll
    for (int i = 0; i < N / 4; ++i) {
      const float4 v = reinterpret_cast<const float4*>(p)[i];
      out[4 * i] = v.x;
      out[4 * i + 1] = v.y;
      out[4 * i + 2] = v.z;
      out[4 * i + 3] = v.w;
    }
  } else {
    static_assert(N % 2 == 0, "an even number of elements");
#pragma unroll
    for (int i = 0; i < N / 2; ++i) {
      const float2 v = reinterpret_cast<const float2*>(p)[i];
      out[2 * i] = v.x;
      out[2 * i + 1] = v.y;
    }
  }
}

template <int N>
__device__ __forceinline__ void load_floats(const __half* p, float* out) {
  static_assert(N % 2 == 0, "an even number of elements");
  if constexpr (N % 8 == 0) {
#pragma unroll
    for (int i = 0; i < N / 8; ++i) {
      const uint4 raw = reinterpret_cast<const uint4*>(p)[i];  // one 16-byte load
      __half2 h[4];
      memcpy(h, &raw, sizeof raw);  // register moves; a pointer cast would break strict aliasing
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const float2 f = __half22float2(h[k]);
        out[8 * i + 2 * k] = f.x;
        out[8 * i + 2 * k + 1] = f.y;
      }
    }
  } else {
#pragma unroll
    for (int i = 0; i < N / 2; ++i) {
      const float2 f = __half22float2(reinterpret_cast<const __half2*>(p)[i]);
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
  }
}

__device__ __forceinline__ float load_float(const float* p) { return *p; }
__device__ __forceinline__ float load_float(const __half* p) { return __half2float(*p); }

// Scores are kept in base 2: q is scaled by scale * log2(e) once, so exp2f replaces expf.
constexpr float kLog2e = 1.4426950408889634f;

// The step's queries, the layer's cache and the tokens' positions and block tables: what every
// attention kernel reads (each adds its own work list and outputs).
template <typename E>
struct AttentionArgs {
  const float* q;
  const E* k;
  const E* v;
  int n_head, n_head_kv, head_dim, block_size;
  const int32_t* pos;
  const int32_t* table_offset;
  const int32_t* tables;
  float scale_log2;  // scale * log2(e)
};

template <typename E>
AttentionArgs<E> attention_args(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                                float scale) {
  AttentionArgs<E> a;
  a.q = q;
  a.k = static_cast<const E*>(kv.k);
  a.v = static_cast<const E*>(kv.v);
  a.n_head = n_head;
  a.n_head_kv = kv.n_head_kv;
  a.head_dim = kv.head_dim;
  a.block_size = kv.block_size;
  a.pos = tokens.pos;
  a.table_offset = tokens.table_offset;
  a.tables = tokens.tables;
  a.scale_log2 = scale * kLog2e;
  return a;
}

}  // namespace maas::cuda
