// quant_blocks.h — ggml's quantized block layouts, byte for byte, so tensors written by llama.cpp's
// quantizer are read unchanged (and ours load there). Also the two activation formats the matmul
// kernels quantize x into, which never leave memory and so are free to differ from ggml.
//
//   Q8_0  (32 elems, 34 B):  fp16 d | int8 qs[32]                       x = d * q
//   Q4_0  (32 elems, 18 B):  fp16 d | uint8 qs[16]                      x = d * (nibble - 8)
//         element j < 16 is the low nibble of qs[j], element j + 16 its high nibble
//   Q4_K  (256 elems, 144 B): fp16 d | fp16 dmin | uint8 scales[12] | uint8 qs[128]
//         8 sub-blocks of 32, each a 6-bit scale sc and 6-bit min m (packing: scale_min_k4),
//         x = d * sc * q - dmin * m. qs holds 4 chunks of 64 elements: 32 bytes whose low nibbles
//         are elements 0..31 of the chunk (sub-block 2c) and high nibbles elements 32..63 (2c+1).
//   Q6_K  (256 elems, 210 B): uint8 ql[128] | uint8 qh[64] | int8 scales[16] | fp16 d
//         16 sub-blocks of 16, x = d * scales[e / 16] * (q - 32) with q 6 bits: per half h of
//         128 elements, l < 32: element l      = ql[64h+l] & 15     | (qh[32h+l] >> 0 & 3) << 4
//                                element l + 32 = ql[64h+l+32] & 15  | (qh[32h+l] >> 2 & 3) << 4
//                                element l + 64 = ql[64h+l] >> 4     | (qh[32h+l] >> 4 & 3) << 4
//                                element l + 96 = ql[64h+l+32] >> 4  | (qh[32h+l] >> 6 & 3) << 4
#pragma once

#include <cstdint>
#include <cstring>

namespace maas {

constexpr int kQK0 = 32;   // elements per Q8_0 / Q4_0 block
constexpr int kQKK = 256;  // elements per K-quant super-block

struct BlockQ8_0 {
  uint16_t d;  // fp16
  int8_t qs[kQK0];
};
struct BlockQ4_0 {
  uint16_t d;  // fp16
  uint8_t qs[kQK0 / 2];
};
struct BlockQ4K {
  uint16_t d;     // fp16 super-block scale of the 6-bit scales
  uint16_t dmin;  // fp16 super-block scale of the 6-bit mins
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
struct BlockQ6K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;  // fp16
};

static_assert(sizeof(BlockQ8_0) == 34, "ggml block_q8_0");
static_assert(sizeof(BlockQ4_0) == 18, "ggml block_q4_0");
static_assert(sizeof(BlockQ4K) == 144, "ggml block_q4_K");
static_assert(sizeof(BlockQ6K) == 210, "ggml block_q6_K");

// Interleaved layouts (WeightLayout::kRows16), made at load time for decode: 16 rows' block b
// side by side, so one 512-bit register holds 4 elements of each of the 16 rows and a product's
// int32 lanes are 16 output rows (no horizontal sums, one scale multiply per 16 rows). A matrix
// is [row group g][block b] of these, groups of rows 16g .. 16g + 15; same bytes as ggml's.
//   BlockQ8_0x16: d[i] = row i's d;  qs[k][i][m] = row i, element 4k + m        (k < 8)
//   BlockQ4_0x16: d[i] = row i's d;  qs[k][i][m] = row i's elements 4k + m (low nibble) and
//                 16 + 4k + m (high nibble), as ggml's nibbles (value + 8)      (k < 4)
//   BlockQ4Kx16:  d, dmin[i] = row i's; scales[j][i] = row i's scales[j] (ggml's 12-byte packing);
//                 qs[p][k][i][m] = row i's qs[32p + 4k + m]: low nibble element 64p + 4k + m
//                 (sub-block 2p), high nibble element 64p + 32 + 4k + m (sub-block 2p + 1)
//   BlockQ6Kx16:  d[i], scales[g][i] = row i's; per half h and k < 8 (l = 4k + m), three lines:
//                 q[h][k][0][i][m] = ql[64h + l]       (low: element 128h + l, high: 128h + 64 + l)
//                 q[h][k][1][i][m] = ql[64h + 32 + l]  (low: 128h + 32 + l,   high: 128h + 96 + l)
//                 q[h][k][2][i][m] = qh[32h + l]       (2-bit pairs for those four elements, in order)
struct BlockQ8_0x16 {
  uint16_t d[16];
  int8_t qs[8][16][4];
};
struct BlockQ4_0x16 {
  uint16_t d[16];
  uint8_t qs[4][16][4];
};
struct BlockQ4Kx16 {
  uint16_t d[16];
  uint16_t dmin[16];
  uint8_t scales[12][16];
  uint8_t qs[4][8][16][4];
};
struct BlockQ6Kx16 {
  uint16_t d[16];
  int8_t scales[16][16];
  uint8_t q[2][8][3][16][4];
};
static_assert(sizeof(BlockQ8_0x16) == 16 * sizeof(BlockQ8_0));
static_assert(sizeof(BlockQ4_0x16) == 16 * sizeof(BlockQ4_0));
static_assert(sizeof(BlockQ4Kx16) == 16 * sizeof(BlockQ4K));
static_assert(sizeof(BlockQ6Kx16) == 16 * sizeof(BlockQ6K));

// Activation block for Q8_0 / Q4_0 weights: like Q8_0 but with a float scale (no fp16 rounding of
// the activations) and sum = sum(qs), which lets a kernel multiply Q4_0's unsigned nibbles (or
// Q8_0's bytes offset by 128) directly, u8 x s8 as the dot-product instructions want, and take
// 8 * sum (128 * sum) off afterwards. qs is in [-127, 127], never -128: the sign trick negates it.
struct BlockQ8A {
  float d;
  int32_t sum;
  int8_t qs[kQK0];
};
static_assert(sizeof(BlockQ8A) == 40);

// Activation block for K-quant weights (ggml's block_q8_K): bsums[i] = sum of qs[16i .. 16i+15],
// which the kernels use to apply Q4_K's mins and Q6_K's -32 offset once per sub-block.
struct BlockQ8K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

// The helpers below are `static inline` on purpose: the SIMD sources include this header under
// -mavx2 / -mavx512f, and an out-of-line copy with external linkage could be the one the linker
// keeps for the whole program, which would then fault on an older CPU.

// Unpacks sub-block j's 6-bit scale and min from Q4_K's 12 scale bytes: j < 4 sit in the low six
// bits of bytes j and j + 4; j >= 4 take four bits from byte j + 4 and their top two bits from
// the spare high bits of bytes j - 4 (scale) and j (min).
static inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Round half to even, as ggml's nearest_int (valid for |f| < 2^22).
static inline int nearest_int(float f) {
  float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace maas
