// matmul.cu — y = x · wᵀ for every weight type, weights in the file's layout (dequant.cuh).
//
// n <= kMatvecMaxTokens (decode, small batches): matvec_kernel, one warp per output row, lanes on
// consecutive columns; each weight element is dequantized once and multiplied with the unrounded
// float activations of all n tokens, accumulated in float: every weight byte is read once per
// step. Reference: kernels/reference/matmul_ref.cc (double accumulation).
// n > kMatvecMaxTokens (prefill, large batches): cuBLAS. F32: SGEMM. F16 / BF16: GemmEx on the
// weights as they are, x rounded to the weight's type, float accumulation. Block types: slices of
// rows dequantized to F16 in a scratch buffer, then GemmEx on each slice. (Issue 13 replaces
// these with fused dequantizing tile kernels.)
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/dequant.cuh"

namespace maas::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kThreads = 256;
constexpr size_t kSliceElems = size_t{32} << 20;  // F16 scratch for one slice of dequantized rows: 64 MiB

template <GgmlType T, int NT>
__global__ void matvec_kernel(const uint8_t* w, size_t row_bytes, int64_t n_rows, int64_t n_cols, const float* x,
                              int n, float* y) {
  const int lane = threadIdx.x % 32;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (r >= n_rows) return;
  const uint8_t* row = w + static_cast<size_t>(r) * row_bytes;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.f;
  for (int64_t c = lane; c < n_cols; c += 32) {
    const float wc = Dequant<T>::at(row, c);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < n) acc[t] += wc * x[t * n_cols + c];
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t) {
    float s = acc[t];
    for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0 && t < n) y[t * n_rows + r] = s;
  }
}

template <GgmlType T>
void launch_matvec(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  const unsigned blocks = static_cast<unsigned>((w.n_rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const auto* data = static_cast<const uint8_t*>(w.data);
  const size_t rb = ggml_row_size(T, w.n_cols);
  const int nn = static_cast<int>(n);
  if (n == 1) {
    matvec_kernel<T, 1><<<blocks, kThreads>>>(data, rb, w.n_rows, w.n_cols, x, nn, y);
  } else if (n == 2) {
    matvec_kernel<T, 2><<<blocks, kThreads>>>(data, rb, w.n_rows, w.n_cols, x, nn, y);
  } else if (n <= 4) {
    matvec_kernel<T, 4><<<blocks, kThreads>>>(data, rb, w.n_rows, w.n_cols, x, nn, y);
  } else {
    matvec_kernel<T, 8><<<blocks, kThreads>>>(data, rb, w.n_rows, w.n_cols, x, nn, y);
  }
}

template <GgmlType T>
__global__ void dequant_rows_kernel(const uint8_t* w, size_t row_bytes, int64_t n_cols, int64_t n, __half* out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    out[i] = __float2half(Dequant<T>::at(w + static_cast<size_t>(i / n_cols) * row_bytes, i % n_cols));
  }
}

__global__ void to_half_kernel(const float* x, int64_t n, __half* out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    out[i] = __float2half(x[i]);
  }
}
__global__ void to_bf16_kernel(const float* x, int64_t n, __nv_bfloat16* out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    out[i] = __float2bfloat16(x[i]);
  }
}

unsigned grid_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 8 ? b : 65535 * 8);
}

// The process's cuBLAS handle and the scratch buffers of the GEMM path (one driving thread).
struct GemmState {
  cublasHandle_t handle = nullptr;
  void* x16 = nullptr;  // x rounded to 16 bits
  size_t x16_bytes = 0;
  void* w16 = nullptr;  // a slice of dequantized rows
  size_t w16_bytes = 0;
};
GemmState& gemm_state() {
  static GemmState s;
  return s;
}

Status grow(void** p, size_t* have, size_t want) {
  if (*have >= want) return Status::Ok();
  if (*p != nullptr) cudaFree(*p);
  *p = nullptr;
  *have = 0;
  cudaError_t e = cudaMalloc(p, want);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return resource_exhausted("CUDA matmul: cannot allocate " + std::to_string(want) + " bytes of scratch: " +
                              cudaGetErrorString(e));
  }
  *have = want;
  return Status::Ok();
}

Status cublas_status(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return internal_error(std::string("cuBLAS ") + what + ": " + cublasGetStatusString(s));
}

// y[:, r0 : r0 + rows] = x · w16ᵀ for `rows` rows of 16-bit weights (type `dt`) at w16.
Status gemm16(cudaDataType dt, const void* w16, int64_t rows, int64_t r0, int64_t n_rows, int64_t k, const void* x16,
              int64_t n, float* y) {
  const float alpha = 1.f, beta = 0.f;
  // Column-major view: W is k x rows (ld k), x is k x n (ld k), y is n_rows x n (ld n_rows).
  return cublas_status(cublasGemmEx(gemm_state().handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows),
                                    static_cast<int>(n), static_cast<int>(k), &alpha, w16, dt, static_cast<int>(k), x16, dt,
                                    static_cast<int>(k), &beta, y + r0, CUDA_R_32F, static_cast<int>(n_rows),
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "GemmEx");
}

template <GgmlType T>
Status gemm_dequantized(const DeviceMatrix& w, const void* x16, int64_t n, float* y) {
  GemmState& s = gemm_state();
  const int64_t slice = std::max<int64_t>(1, static_cast<int64_t>(kSliceElems) / w.n_cols);
  const int64_t rows_max = std::min(slice, w.n_rows);
  RETURN_IF_ERROR(grow(&s.w16, &s.w16_bytes, static_cast<size_t>(rows_max * w.n_cols) * sizeof(__half)));
  const size_t rb = ggml_row_size(T, w.n_cols);
  for (int64_t r0 = 0; r0 < w.n_rows; r0 += slice) {
    const int64_t rows = std::min(slice, w.n_rows - r0);
    const int64_t elems = rows * w.n_cols;
    dequant_rows_kernel<T><<<grid_for(elems), kThreads>>>(static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r0) * rb,
                                                          rb, w.n_cols, elems, static_cast<__half*>(s.w16));
    RETURN_IF_ERROR(last_error("matmul dequantize"));
    RETURN_IF_ERROR(gemm16(CUDA_R_16F, s.w16, rows, r0, w.n_rows, w.n_cols, x16, n, y));
  }
  return Status::Ok();
}

Status gemm(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  GemmState& s = gemm_state();
  if (s.handle == nullptr) RETURN_IF_ERROR(cublas_status(cublasCreate(&s.handle), "create"));
  if (w.type == GgmlType::kF32) {
    const float alpha = 1.f, beta = 0.f;
    const int k = static_cast<int>(w.n_cols);
    return cublas_status(cublasSgemm(s.handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n_rows), static_cast<int>(n), k,
                                     &alpha, static_cast<const float*>(w.data), k, x, k, &beta, y,
                                     static_cast<int>(w.n_rows)),
                         "Sgemm");
  }
  const int64_t nx = n * w.n_cols;
  RETURN_IF_ERROR(grow(&s.x16, &s.x16_bytes, static_cast<size_t>(nx) * 2));
  if (w.type == GgmlType::kBF16) {
    to_bf16_kernel<<<grid_for(nx), kThreads>>>(x, nx, static_cast<__nv_bfloat16*>(s.x16));
    RETURN_IF_ERROR(last_error("matmul x to bf16"));
    return gemm16(CUDA_R_16BF, w.data, w.n_rows, 0, w.n_rows, w.n_cols, s.x16, n, y);
  }
  to_half_kernel<<<grid_for(nx), kThreads>>>(x, nx, static_cast<__half*>(s.x16));
  RETURN_IF_ERROR(last_error("matmul x to f16"));
  switch (w.type) {
    case GgmlType::kF16: return gemm16(CUDA_R_16F, w.data, w.n_rows, 0, w.n_rows, w.n_cols, s.x16, n, y);
    case GgmlType::kQ8_0: return gemm_dequantized<GgmlType::kQ8_0>(w, s.x16, n, y);
    case GgmlType::kQ4_0: return gemm_dequantized<GgmlType::kQ4_0>(w, s.x16, n, y);
    case GgmlType::kQ4_K: return gemm_dequantized<GgmlType::kQ4_K>(w, s.x16, n, y);
    case GgmlType::kQ6_K: return gemm_dequantized<GgmlType::kQ6_K>(w, s.x16, n, y);
    default: return unimplemented("CUDA matmul: no kernel for " + std::string(ggml_type_name(w.type)));
  }
}

}  // namespace

Status matmul(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  if (n <= 0 || w.n_rows <= 0) return Status::Ok();
  if (!supports_weight_type(w.type)) return unimplemented("CUDA matmul: no kernel for " + std::string(ggml_type_name(w.type)));
  if (n > kMatvecMaxTokens) return gemm(w, x, n, y);
  switch (w.type) {
    case GgmlType::kF32: launch_matvec<GgmlType::kF32>(w, x, n, y); break;
    case GgmlType::kF16: launch_matvec<GgmlType::kF16>(w, x, n, y); break;
    case GgmlType::kBF16: launch_matvec<GgmlType::kBF16>(w, x, n, y); break;
    case GgmlType::kQ8_0: launch_matvec<GgmlType::kQ8_0>(w, x, n, y); break;
    case GgmlType::kQ4_0: launch_matvec<GgmlType::kQ4_0>(w, x, n, y); break;
    case GgmlType::kQ4_K: launch_matvec<GgmlType::kQ4_K>(w, x, n, y); break;
    case GgmlType::kQ6_K: launch_matvec<GgmlType::kQ6_K>(w, x, n, y); break;
    default: break;
  }
  return last_error("matmul");
}

}  // namespace maas::cuda
