// elementwise.cu — the three cheap ops of the forward pass that touch each float once: SwiGLU's
// silu(gate) ⊙ up, the residual add, and the gather of the rows that want logits. Grid-stride
// loops of 256 threads. References: kernels.h silu_mul, add_inplace; backend.h gather_logit_rows.
// (One file for the three: each is a few lines, and every .cu costs about 30 s of nvcc.)
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 16 ? b : 65535 * 16);
}

// silu(g) * u = g / (1 + exp(-g)) * u, as the scalar reference (ops_ref.cc) writes it.
__global__ void silu_mul_kernel(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

__global__ void add_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    y[i] += x[i];
  }
}

__global__ void gather_rows_kernel(const float* x, const int32_t* rows, int64_t d, float* out) {
  const float* src = x + static_cast<int64_t>(rows[blockIdx.y]) * d;
  float* dst = out + static_cast<int64_t>(blockIdx.y) * d;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < d;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    dst[i] = src[i];
  }
}

}  // namespace

Status silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  if (n <= 0) return Status::Ok();
  silu_mul_kernel<<<blocks_for(n), kThreads>>>(gate, up, out, n);
  return last_error("silu_mul");
}

Status add(float* y, const float* x, int64_t n) {
  if (n <= 0) return Status::Ok();
  add_kernel<<<blocks_for(n), kThreads>>>(y, x, n);
  return last_error("add");
}

Status gather_rows(const float* x, const int32_t* rows, int64_t n_rows, int64_t d, float* out) {
  if (n_rows <= 0 || d <= 0) return Status::Ok();
  for (int64_t r0 = 0; r0 < n_rows; r0 += 65535) {  // the grid's y limit
    const int64_t chunk = n_rows - r0 < 65535 ? n_rows - r0 : 65535;
    dim3 grid(blocks_for(d) < 64 ? blocks_for(d) : 64, static_cast<unsigned>(chunk));
    gather_rows_kernel<<<grid, kThreads>>>(x, rows + r0, d, out + r0 * d);
  }
  return last_error("gather_rows");
}

}  // namespace maas::cuda
