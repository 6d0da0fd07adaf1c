// kernels_internal.h — what sits behind kernels.h: the per-ISA kernel tables, the activation
// formats the products quantize x into, and the scalar references (the oracle). Only the kernels
// library and its tests include this; the model sees kernels.h alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/kernels.h"

namespace maas::kern {

// One matmul slice: rows [r0, r1) of W times tokens [t0, t1) of the prepared activations.
// x holds n_tokens rows of x_row_bytes each in the weight type's activation format
// (act_row_bytes); y[t * y_stride + r] is written (not accumulated).
struct MatmulArgs {
  const uint8_t* w = nullptr;
  size_t w_row_bytes = 0;
  int64_t n_cols = 0;
  const uint8_t* x = nullptr;
  size_t x_row_bytes = 0;
  float* y = nullptr;
  int64_t y_stride = 0;
};
using MatmulFn = void (*)(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1);
// A whole-matmul path for prompt-sized calls (AMX tiles): returns false when it does not take the
// call (weight type, too few tokens) and matmul() then runs the variant's MatmulFn tiles.
using PromptMatmulFn = bool (*)(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                                ThreadPool& pool);

// A variant: every kernel for one instruction set. Null entries never occur; a variant reuses
// another's function where it has nothing better.
struct KernelSet {
  const char* name;
  MatmulFn mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0, mm_q4_k, mm_q6_k;
  PromptMatmulFn mm_prompt;  // nullptr: every call runs the tiles
  // kRows16 matrices (MatmulArgs.w at the first group; r0, r1 multiples of 16 or n_rows).
  // nullptr: matmul() converts each 16-row group back to kRows and runs the kRows kernel.
  MatmulFn mm_q8_0x16, mm_q4_0x16, mm_q4_kx16, mm_q6_kx16;
  MatmulFn for_type(GgmlType t) const;
  MatmulFn for_type_rows16(GgmlType t) const;  // nullptr where the variant has none
};

const KernelSet& scalar_kernels();
// nullptr when this CPU (or this build) lacks the instructions (for AMX: or the OS refuses the
// tile state). "amx" is the AVX-512 set plus amx_matmul for prompt-sized calls, and on CPUs with
// AMX-BF16 and AVX512-BF16 amx_matmul_float first.
const KernelSet* avx2_kernels();
const KernelSet* avx512_kernels();
const KernelSet* amx_kernels();
// PromptMatmulFns. amx_matmul: the quantized types on the int8 tiles (cpu/kernels_amx.cc).
// amx_matmul_float: F16 / BF16 (kRows) on the bf16 tiles, operands split into bf16 hi + lo parts
// (cpu/kernels_amx_bf16.cc); needs AMX-BF16 and AVX512-BF16, which amx_kernels() checks.
bool amx_matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);
bool amx_matmul_float(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);
// The variant kernels.h dispatches to: the best this CPU has, lowered by MAAS_KERNELS.
const KernelSet& active_kernels();

// Converts row group g (rows 16g .. 16g + 15) of a kRows16 matrix back to 16 kRows rows.
void deinterleave_group16(const WeightMatrix& w, int64_t g, uint8_t* rows);

// Activation formats: float rows for F32/F16/BF16 weights, BlockQ8A rows for Q8_0/Q4_0, BlockQ8K
// rows for Q4_K/Q6_K. n_cols must be a multiple of the weight type's block size.
size_t act_row_bytes(GgmlType weight_type, int64_t n_cols);
void prepare_act_row(GgmlType weight_type, const float* x, uint8_t* dst, int64_t n_cols);

// matmul() with an explicit variant (tests and the perf harness call each one directly).
void matmul_with(const KernelSet& ks, const WeightMatrix& w, const float* x, int64_t n_tokens,
                 float* y, ThreadPool& pool);
void matmul_many_with(const KernelSet& ks, std::span<const MatmulOut> outs, const float* x, int64_t n_tokens,
                      ThreadPool& pool);

}  // namespace maas::kern

// The scalar oracle: plain C++, no tricks; SIMD variants are tested against it.
namespace maas::ref {

void quantize_row_q8_0(const float* x, void* dst, int64_t n);
void dequantize_row_q8_0(const void* src, float* y, int64_t n);
void quantize_row_q4_0(const float* x, void* dst, int64_t n);
void dequantize_row_q4_0(const void* src, float* y, int64_t n);
void quantize_row_q4_k(const float* x, void* dst, int64_t n);
void dequantize_row_q4_k(const void* src, float* y, int64_t n);
void quantize_row_q6_k(const float* x, void* dst, int64_t n);
void dequantize_row_q6_k(const void* src, float* y, int64_t n);
void quantize_row_q8a(const float* x, void* dst, int64_t n);  // BlockQ8A
void quantize_row_q8k(const float* x, void* dst, int64_t n);  // BlockQ8K

// y[t][r] = dot(dequantized W row r, x row t), accumulated in double: no activation rounding.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y);

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void add_inplace(float* y, const float* x, int64_t n);
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace maas::ref
