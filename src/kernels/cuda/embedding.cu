// embedding.cu — token embedding lookup: x[t] = table[tokens[t]] as floats, for F32, F16 and BF16
// tables. Grid: one block row per token, blocks of 256 columns. Reference: kernels.h
// dequantize_row on the token's row (exact for these types).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {
namespace {

constexpr int kThreads = 256;

__device__ float to_float(float v) { return v; }
__device__ float to_float(__half v) { return __half2float(v); }
__device__ float to_float(uint16_t bf16) { return __uint_as_float(static_cast<uint32_t>(bf16) << 16); }

template <typename T>
__global__ void embed_kernel(const T* table, int64_t n_cols, const int32_t* tokens, float* x) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (col >= n_cols) return;
  const int64_t row = tokens[blockIdx.y];
  x[blockIdx.y * n_cols + col] = to_float(table[row * n_cols + col]);
}

template <typename T>
void launch(const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x) {
  dim3 grid(static_cast<unsigned>((n_cols + kThreads - 1) / kThreads), static_cast<unsigned>(n));
  embed_kernel<T><<<grid, kThreads>>>(static_cast<const T*>(table), n_cols, tokens, x);
}

}  // namespace

Status embed(GgmlType type, const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x) {
  if (n <= 0 || n_cols <= 0) return Status::Ok();
  switch (type) {
    case GgmlType::kF32: launch<float>(table, n_cols, tokens, n, x); break;
    case GgmlType::kF16: launch<__half>(table, n_cols, tokens, n, x); break;
    case GgmlType::kBF16: launch<uint16_t>(table, n_cols, tokens, n, x); break;
    default: return unimplemented("CUDA embed: no kernel for " + std::string(ggml_type_name(type)) + " yet");
  }
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return internal_error(std::string("CUDA embed: ") + cudaGetErrorString(e));
  return Status::Ok();
}

}  // namespace maas::cuda
