// matvec.h — the weight-streaming mat-vec kernel of matvec.cu, for matmul.cu's decode path
// (internal to src/kernels/cuda: the public ops are cuda_ops.h matmul, matmul_many, matmul_add
// and matmul_swiglu).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {

constexpr int kMatvecMaxMats = 4;

// What the kernel does with row r of matrix m's product for token t:
//   kStore   y[m][t, r] = x[t] · w[m][r]
//   kAdd     y[m][t, r] += x[t] · w[m][r]           (the residual add after a projection)
//   kSwiGlu  y[0][t, r] = silu(x[t] · w[0][r]) * (x[t] · w[1][r])   (w[0] gate, w[1] up)
enum class MatvecEpilogue : int { kStore, kAdd, kSwiGlu };

// Up to four matrices of one type and width, multiplied with the same x in one launch. y[m] is
// [n, n_rows[m]] floats in device memory. first_warp is matvec's (filled there).
struct MatvecJob {
  const uint8_t* w[kMatvecMaxMats] = {};
  float* y[kMatvecMaxMats] = {};
  int64_t n_rows[kMatvecMaxMats] = {};
  int64_t first_warp[kMatvecMaxMats + 1] = {};
  int n_mats = 0;
  MatvecEpilogue epilogue = MatvecEpilogue::kStore;
};

// Queues the product for n in [1, kMatvecMaxTokens] tokens; x [n, n_cols] in device memory.
// InvalidArgument for a bad n or job; SwiGLU needs matvec_tiled.
Status matvec(GgmlType type, MatvecJob job, int64_t n_cols, const float* x, int64_t n);
// Whether the tiled kernel takes this shape (width a multiple of 8, x 16-byte aligned); other
// shapes take a one-element-per-lane kernel.
bool matvec_tiled(int64_t n_cols, const float* x);

}  // namespace maas::cuda
