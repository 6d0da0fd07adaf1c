// dequant.cuh — one weight element as a float, read from a row in the file's own layout
// (ggml's blocks, quant_blocks.h; never the CPU's kRows16 interleaving). Device code shared by the
// .cu files that read weights (embedding, matmul); each mirrors kernels.h dequantize_row (the
// same fp16 scales, the same integer offsets and order of operations): bit-equal for F32, F16,
// BF16, Q8_0 and Q4_0 (one multiply); Q4_K's d*sc*q - dmin*m may be contracted into an FMA by
// nvcc, a last-bit difference. Dequant<T>::at: one element from global memory (embedding, the
// scalar mat-vec fallback, the dequantize-to-F16 GEMM path); Decode8<T>::run (below): eight
// consecutive elements from a tile the weight-streaming mat-vec staged in shared memory.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "gguf/ggml_type.h"

namespace maas::cuda {

__host__ __device__ __forceinline__ float half_at(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const uint16_t*>(p)));
}

// The float with these bits (host and device).
__host__ __device__ __forceinline__ float bits_as_float(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
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
    return bits_as_float(static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[c]) << 16);
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

// `#pragma unroll` for the device pass only (the host compiler knows no such pragma).
#ifdef __CUDA_ARCH__
#define MAAS_DEVICE_UNROLL _Pragma("unroll")
#else
#define MAAS_DEVICE_UNROLL
#endif

// --- Eight elements at a time, for the weight-streaming mat-vec kernel (matvec.cu) --------------
// decode8<T>(s, e, aligned16, v): elements e .. e+7 (e a multiple of 8) of a run of whole blocks
// staged in shared memory at s (s is at least 2-aligned: every block of every type starts at an
// even byte; aligned16 says s is 16-aligned, which the F32/F16/BF16 paths use for 128-bit reads).
// Same values as Dequant<T>::at, bit for bit: the integers become floats through the exponent
// trick below (exact for |q| < 2^22), then the same multiplies in the same order.
//
// Integer to float: int-to-float conversion (I2F) runs at a quarter of the FMA rate on sm_80/90,
// which would cap a 4-bit mat-vec below the memory bandwidth. Instead a byte b lands in the low
// mantissa bits of 2^23 (one PRMT), and subtracting 2^23 + offset (one FADD) gives b - offset
// exactly. Host and device code (dequant_test.cu checks the decoding on the host, without a GPU).

// 8 bytes at a 2-aligned shared-memory address, as two little-endian words.
__host__ __device__ __forceinline__ void load8_u16(const uint8_t* p, uint32_t& lo, uint32_t& hi) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
  lo = static_cast<uint32_t>(h[0]) | (static_cast<uint32_t>(h[1]) << 16);
  hi = static_cast<uint32_t>(h[2]) | (static_cast<uint32_t>(h[3]) << 16);
}
// Byte k (0..3) of w as the float 2^23 + byte.
template <int K>
__host__ __device__ __forceinline__ float byte_magic(uint32_t w) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7540u | K));
#else
  return bits_as_float(0x4B000000u | ((w >> (8 * K)) & 0xFFu));
#endif
}
// The 8 bytes of (lo, hi) minus `offset`, as floats (offset + 2^23 given as `bias`).
__host__ __device__ __forceinline__ void bytes_to_floats(uint32_t lo, uint32_t hi, float bias, float v[8]) {
  v[0] = byte_magic<0>(lo) - bias;
  v[1] = byte_magic<1>(lo) - bias;
  v[2] = byte_magic<2>(lo) - bias;
  v[3] = byte_magic<3>(lo) - bias;
  v[4] = byte_magic<0>(hi) - bias;
  v[5] = byte_magic<1>(hi) - bias;
  v[6] = byte_magic<2>(hi) - bias;
  v[7] = byte_magic<3>(hi) - bias;
}
constexpr float kMagic = 8388608.0f;  // 2^23

template <GgmlType T>
struct Decode8;

template <>
struct Decode8<GgmlType::kF32> {
  __host__ __device__ static void run(const uint8_t* s, int e, bool aligned16, float v[8]) {
    const float* p = reinterpret_cast<const float*>(s) + e;
    if (aligned16) {
      const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
      v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
    } else {
MAAS_DEVICE_UNROLL
      for (int i = 0; i < 8; ++i) v[i] = p[i];
    }
  }
};
// 16-bit floats: one 128-bit read (or eight 16-bit ones) and a conversion each.
template <GgmlType T>
struct Decode8Half {
  __host__ __device__ static float to_float(uint16_t h) {
    if constexpr (T == GgmlType::kBF16) {
      return bits_as_float(static_cast<uint32_t>(h) << 16);
    } else {
      return __half2float(__ushort_as_half(h));
    }
  }
  __host__ __device__ static void run(const uint8_t* s, int e, bool aligned16, float v[8]) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(s) + e;
    if (aligned16) {
      const uint4 q = *reinterpret_cast<const uint4*>(p);
      const uint32_t w[4] = {q.x, q.y, q.z, q.w};
MAAS_DEVICE_UNROLL
      for (int i = 0; i < 4; ++i) {
        v[2 * i] = to_float(static_cast<uint16_t>(w[i] & 0xFFFFu));
        v[2 * i + 1] = to_float(static_cast<uint16_t>(w[i] >> 16));
      }
    } else {
MAAS_DEVICE_UNROLL
      for (int i = 0; i < 8; ++i) v[i] = to_float(p[i]);
    }
  }
};
template <>
struct Decode8<GgmlType::kF16> : Decode8Half<GgmlType::kF16> {};
template <>
struct Decode8<GgmlType::kBF16> : Decode8Half<GgmlType::kBF16> {};

// Q8_0: elements 8j .. 8j+7 of a block are qs[8j .. 8j+7]; x = d * q.
template <>
struct Decode8<GgmlType::kQ8_0> {
  __host__ __device__ static void run(const uint8_t* s, int e, bool, float v[8]) {
    const uint8_t* b = s + (e / 32) * 34;
    uint32_t lo, hi;
    load8_u16(b + 2 + e % 32, lo, hi);
    bytes_to_floats(lo ^ 0x80808080u, hi ^ 0x80808080u, kMagic + 128.0f, v);  // int8 + 128, then - 128
    const float d = half_at(b);
MAAS_DEVICE_UNROLL
    for (int i = 0; i < 8; ++i) v[i] = d * v[i];
  }
};
// Q4_0: elements 0..15 of a block are the low nibbles of qs[0..15], 16..31 the high ones;
// x = d * (nibble - 8).
template <>
struct Decode8<GgmlType::kQ4_0> {
  __host__ __device__ static void run(const uint8_t* s, int e, bool, float v[8]) {
    const uint8_t* b = s + (e / 32) * 18;
    const int j = e % 32;
    uint32_t lo, hi;
    load8_u16(b + 2 + j % 16, lo, hi);
    const int shift = j < 16 ? 0 : 4;
    bytes_to_floats((lo >> shift) & 0x0F0F0F0Fu, (hi >> shift) & 0x0F0F0F0Fu, kMagic + 8.0f, v);
    const float d = half_at(b);
MAAS_DEVICE_UNROLL
    for (int i = 0; i < 8; ++i) v[i] = d * v[i];
  }
};
// Q4_K: x = (d * sc) * q - dmin * m, as Dequant<kQ4_K>::at evaluates it.
template <>
struct Decode8<GgmlType::kQ4_K> {
  __host__ __device__ static void run(const uint8_t* s, int e, bool, float v[8]) {
    const uint8_t* b = s + (e / 256) * 144;
    const int w = e % 256, chunk = w / 64, within = w % 64, sub = 2 * chunk + within / 32, l0 = within % 32;
    const uint8_t* sc8 = b + 4;
    int sc, m;
    if (sub < 4) {
      sc = sc8[sub] & 63;
      m = sc8[sub + 4] & 63;
    } else {
      sc = (sc8[sub + 4] & 0xF) | ((sc8[sub - 4] >> 6) << 4);
      m = (sc8[sub + 4] >> 4) | ((sc8[sub] >> 6) << 4);
    }
    uint32_t lo, hi;
    load8_u16(b + 16 + 32 * chunk + l0, lo, hi);
    const int shift = within < 32 ? 0 : 4;
    bytes_to_floats((lo >> shift) & 0x0F0F0F0Fu, (hi >> shift) & 0x0F0F0F0Fu, kMagic, v);
    const float ds = half_at(b) * static_cast<float>(sc), dm = half_at(b + 2) * static_cast<float>(m);
MAAS_DEVICE_UNROLL
    for (int i = 0; i < 8; ++i) v[i] = ds * v[i] - dm;
  }
};
// Q6_K: q = (low nibble of ql | 2 bits of qh << 4) - 32; x = (d * scales[e / 16]) * q.
template <>
struct Decode8<GgmlType::kQ6_K> {
  __host__ __device__ static void run(const uint8_t* s, int e, bool, float v[8]) {
    const uint8_t* b = s + (e / 256) * 210;
    const int w = e % 256, h = w / 128, r = w % 128, k = r / 32, l0 = r % 32;
    uint32_t ql0, ql1, qh0, qh1;
    load8_u16(b + 64 * h + l0 + (k & 1) * 32, ql0, ql1);
    load8_u16(b + 128 + 32 * h + l0, qh0, qh1);
    const int shift = k < 2 ? 0 : 4;
    const uint32_t q0 = ((ql0 >> shift) & 0x0F0F0F0Fu) | (((qh0 >> (2 * k)) & 0x03030303u) << 4);
    const uint32_t q1 = ((ql1 >> shift) & 0x0F0F0F0Fu) | (((qh1 >> (2 * k)) & 0x03030303u) << 4);
    bytes_to_floats(q0, q1, kMagic + 32.0f, v);
    const float ds = half_at(b + 208) * static_cast<float>(static_cast<int8_t>(b[192 + w / 16]));
MAAS_DEVICE_UNROLL
    for (int i = 0; i < 8; ++i) v[i] = ds * v[i];
  }
};

}  // namespace maas::cuda
