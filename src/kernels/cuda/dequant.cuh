// dequant.cuh — one weight element as a float, read from a row in the file's own layout
// (ggml's blocks, quant_blocks.h; never the CPU's kRows16 interleaving). Device code shared by the
// .cu files that read weights (embedding, matmul); each mirrors kernels.h dequantize_row (the
// same fp16 scales, the same integer offsets and order of operations): bit-equal for F32, F16,
// BF16, Q8_0 and Q4_0 (one multiply); Q4_K's d*sc*q - dmin*m may be contracted into an FMA by
// nvcc, a last-bit difference. One element per call: the callers walk a row with consecutive lanes on consecutive
// columns, which keeps the loads coalesced; the scale bytes a warp shares come from L1.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "gguf/ggml_type.h"

namespace maas::cuda {

__device__ __forceinline__ float half_at(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const uint16_t*>(p)));
}

template <GgmlType T>
struct Dequant;

template <>
struct Dequant<GgmlType::kF32> {
  __device__ static float at(const uint8_t* row, int64_t c) { return reinterpret_cast<const float*>(row)[c]; }
};
template <>
struct Dequant<GgmlType::kF16> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    return __half2float(reinterpret_cast<const __half*>(row)[c]);
  }
};
template <>
struct Dequant<GgmlType::kBF16> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    return __uint_as_float(static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[c]) << 16);
  }
};
// Q8_0: 34-byte blocks of 32: fp16 d | int8 qs[32]; x = d * q
template <>
struct Dequant<GgmlType::kQ8_0> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    const uint8_t* b = row + (c / 32) * 34;
    return half_at(b) * static_cast<float>(static_cast<int8_t>(b[2 + c % 32]));
  }
};
// Q4_0: 18-byte blocks of 32: fp16 d | qs[16]; element j < 16 low nibble of qs[j], j >= 16 high
// nibble of qs[j - 16]; x = d * (nibble - 8)
template <>
struct Dequant<GgmlType::kQ4_0> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    const uint8_t* b = row + (c / 32) * 18;
    const int j = static_cast<int>(c % 32);
    const int q = j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4);
    return half_at(b) * static_cast<float>(q - 8);
  }
};
// Q4_K: 144-byte super-blocks of 256: fp16 d | fp16 dmin | scales[12] | qs[128];
// x = d * sc * q - dmin * m for the element's sub-block of 32 (scale_min_k4 packing).
template <>
struct Dequant<GgmlType::kQ4_K> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    const uint8_t* b = row + (c / 256) * 144;
    const int e = static_cast<int>(c % 256), chunk = e / 64, within = e % 64;
    const int sub = 2 * chunk + within / 32, l = within % 32;
    const uint8_t* s = b + 4;
    int sc, m;
    if (sub < 4) {
      sc = s[sub] & 63;
      m = s[sub + 4] & 63;
    } else {
      sc = (s[sub + 4] & 0xF) | ((s[sub - 4] >> 6) << 4);
      m = (s[sub + 4] >> 4) | ((s[sub] >> 6) << 4);
    }
    const uint8_t byte = b[16 + 32 * chunk + l];
    const int q = within < 32 ? (byte & 15) : (byte >> 4);
    return half_at(b) * static_cast<float>(sc) * static_cast<float>(q) - half_at(b + 2) * static_cast<float>(m);
  }
};
// Q6_K: 210-byte super-blocks of 256: ql[128] | qh[64] | int8 scales[16] | fp16 d;
// x = d * scales[e / 16] * (q - 32), q 6 bits (quant_blocks.h gives the bit positions).
template <>
struct Dequant<GgmlType::kQ6_K> {
  __device__ static float at(const uint8_t* row, int64_t c) {
    const uint8_t* b = row + (c / 256) * 210;
    const int e = static_cast<int>(c % 256), h = e / 128, r = e % 128, k = r / 32, l = r % 32;
    const uint8_t lo = b[64 * h + l + (k & 1) * 32];
    const int low = k < 2 ? (lo & 15) : (lo >> 4);
    const int high = (b[128 + 32 * h + l] >> (2 * k)) & 3;
    const int q = (low | (high << 4)) - 32;
    return half_at(b + 208) * static_cast<float>(static_cast<int8_t>(b[192 + e / 16])) * static_cast<float>(q);
  }
};

}  // namespace maas::cuda
