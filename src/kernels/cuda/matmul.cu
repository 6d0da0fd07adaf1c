// matmul.cu — y = x · wᵀ for every weight type, weights in the file's layout (dequant.cuh).
//
// n <= kMatvecMaxTokens (decode, small batches; block types up to kMatvecMaxTokensBlocks in
// passes of 8): matvec.cu's weight-streaming kernel (its design is drawn there): every weight
// byte read once per pass for all its tokens, float activations
// unrounded, float accumulation; several matrices of one type and width in one launch, and the
// residual add and SwiGLU as epilogues. Reference: kernels/reference/matmul_ref.cc (double
// accumulation).
// More tokens (prefill, large batches): cuBLAS. F32: SGEMM. F16 / BF16: GemmEx on the
// weights as they are, x rounded to the weight's type, float accumulation. Block types: slices of
// rows dequantized to F16 in a scratch buffer, then GemmEx on each slice. The residual add is
// cuBLAS's beta = 1; SwiGLU is gate and up products then silu_mul.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/dequant.cuh"
#include "kernels/cuda/matvec.h"

namespace maas::cuda {
namespace {

constexpr int kThreads = 256;
// F16 scratch for one slice of dequantized rows: 16 MiB, under the L2 cache of an A100 (40 MB),
// H100 (50 MB) or H200, so GemmEx reads the slice the dequantize kernel just wrote from L2 rather
// than HBM (a 64 MiB slice made the path write and read ~4 bytes per weight element in HBM).
constexpr size_t kSliceElems = size_t{8} << 20;

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
  void* workspace = nullptr;  // cuBLAS's, set explicitly: a graph capture must not allocate it
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
  bump_scratch_generation();  // a captured graph pointing into the old buffer is stale
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

// y[:, r0 : r0 + rows] = x · w16ᵀ (+ y when beta is 1) for `rows` rows of 16-bit weights (type
// `dt`) at w16.
Status gemm16(cudaDataType dt, const void* w16, int64_t rows, int64_t r0, int64_t n_rows, int64_t k, const void* x16,
              int64_t n, float* y, float beta) {
  const float alpha = 1.f;
  // Column-major view: W is k x rows (ld k), x is k x n (ld k), y is n_rows x n (ld n_rows).
  return cublas_status(cublasGemmEx(gemm_state().handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows),
                                    static_cast<int>(n), static_cast<int>(k), &alpha, w16, dt, static_cast<int>(k), x16, dt,
                                    static_cast<int>(k), &beta, y + r0, CUDA_R_32F, static_cast<int>(n_rows),
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "GemmEx");
}

// The handle, bound to the thread's default stream (per-thread: graph.h) with a workspace of
// its own (cublasSetStream resets the workspace, so it comes second).
constexpr size_t kCublasWorkspace = size_t{32} << 20;  // what cuBLAS recommends for Hopper
Status create_handle(GemmState& s) {
  RETURN_IF_ERROR(cublas_status(cublasCreate(&s.handle), "create"));
  RETURN_IF_ERROR(cublas_status(cublasSetStream(s.handle, cudaStreamPerThread), "set stream"));
  size_t have = 0;
  RETURN_IF_ERROR(grow(&s.workspace, &have, kCublasWorkspace));
  return cublas_status(cublasSetWorkspace(s.handle, s.workspace, kCublasWorkspace), "set workspace");
}

template <GgmlType T>
Status gemm_dequantized(const DeviceMatrix& w, const void* x16, int64_t n, float* y, float beta) {
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
    RETURN_IF_ERROR(gemm16(CUDA_R_16F, s.w16, rows, r0, w.n_rows, w.n_cols, x16, n, y, beta));
  }
  return Status::Ok();
}

// y = x · wᵀ, or y += x · wᵀ when beta is 1.
Status gemm(const DeviceMatrix& w, const float* x, int64_t n, float* y, float beta) {
  GemmState& s = gemm_state();
  if (s.handle == nullptr) RETURN_IF_ERROR(create_handle(s));
  if (w.type == GgmlType::kF32) {
    const float alpha = 1.f;
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
    return gemm16(CUDA_R_16BF, w.data, w.n_rows, 0, w.n_rows, w.n_cols, s.x16, n, y, beta);
  }
  to_half_kernel<<<grid_for(nx), kThreads>>>(x, nx, static_cast<__half*>(s.x16));
  RETURN_IF_ERROR(last_error("matmul x to f16"));
  switch (w.type) {
    case GgmlType::kF16: return gemm16(CUDA_R_16F, w.data, w.n_rows, 0, w.n_rows, w.n_cols, s.x16, n, y, beta);
    case GgmlType::kQ8_0: return gemm_dequantized<GgmlType::kQ8_0>(w, s.x16, n, y, beta);
    case GgmlType::kQ4_0: return gemm_dequantized<GgmlType::kQ4_0>(w, s.x16, n, y, beta);
    case GgmlType::kQ4_K: return gemm_dequantized<GgmlType::kQ4_K>(w, s.x16, n, y, beta);
    case GgmlType::kQ6_K: return gemm_dequantized<GgmlType::kQ6_K>(w, s.x16, n, y, beta);
    default: return unimplemented("CUDA matmul: no kernel for " + std::string(ggml_type_name(w.type)));
  }
}

Status unsupported(GgmlType type) { return unimplemented("CUDA matmul: no kernel for " + std::string(ggml_type_name(type))); }

// The mat-vec kernel over n tokens in passes of at most kMatvecMaxTokens (matmul_streams).
Status matvec_passes(GgmlType type, const MatvecJob& job, int64_t n_cols, const float* x, int64_t n) {
  for (int64_t t0 = 0; t0 < n; t0 += kMatvecMaxTokens) {
    MatvecJob pass = job;
    for (int m = 0; m < pass.n_mats; ++m) pass.y[m] += t0 * pass.n_rows[m];
    RETURN_IF_ERROR(matvec(type, pass, n_cols, x + t0 * n_cols, std::min(kMatvecMaxTokens, n - t0)));
  }
  return Status::Ok();
}

MatvecJob one_matrix(const DeviceMatrix& w, float* y, MatvecEpilogue epilogue) {
  MatvecJob job;
  job.w[0] = static_cast<const uint8_t*>(w.data);
  job.y[0] = y;
  job.n_rows[0] = w.n_rows;
  job.n_mats = 1;
  job.epilogue = epilogue;
  return job;
}

}  // namespace

bool matmul_streams(GgmlType type, int64_t n) {
  const bool block = type == GgmlType::kQ8_0 || type == GgmlType::kQ4_0 || type == GgmlType::kQ4_K || type == GgmlType::kQ6_K;
  return n <= kMatvecMaxTokens || (block && n <= kMatvecMaxTokensBlocks);
}

Status matmul(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  if (n <= 0 || w.n_rows <= 0) return Status::Ok();
  if (!supports_weight_type(w.type)) return unsupported(w.type);
  if (!matmul_streams(w.type, n)) return gemm(w, x, n, y, 0.f);
  return matvec_passes(w.type, one_matrix(w, y, MatvecEpilogue::kStore), w.n_cols, x, n);
}

Status matmul_add(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  if (n <= 0 || w.n_rows <= 0) return Status::Ok();
  if (!supports_weight_type(w.type)) return unsupported(w.type);
  if (!matmul_streams(w.type, n)) return gemm(w, x, n, y, 1.f);
  return matvec_passes(w.type, one_matrix(w, y, MatvecEpilogue::kAdd), w.n_cols, x, n);
}

Status matmul_many(const MatmulTarget* outs, int count, const float* x, int64_t n) {
  if (n <= 0) return Status::Ok();
  for (int i = 0; i < count;) {
    // A run of matrices with the first's type and width, at most kMatvecMaxMats, in one launch.
    const DeviceMatrix& w = outs[i].w;
    if (!supports_weight_type(w.type)) return unsupported(w.type);
    if (!matmul_streams(w.type, n)) {
      RETURN_IF_ERROR(gemm(w, x, n, outs[i].y, 0.f));
      ++i;
      continue;
    }
    MatvecJob job;
    for (; i < count && job.n_mats < kMatvecMaxMats && outs[i].w.type == w.type && outs[i].w.n_cols == w.n_cols; ++i) {
      job.w[job.n_mats] = static_cast<const uint8_t*>(outs[i].w.data);
      job.y[job.n_mats] = outs[i].y;
      job.n_rows[job.n_mats] = outs[i].w.n_rows;
      ++job.n_mats;
    }
    RETURN_IF_ERROR(matvec_passes(w.type, job, w.n_cols, x, n));
  }
  return Status::Ok();
}

Status matmul_swiglu(const DeviceMatrix& gate, const DeviceMatrix& up, const float* x, int64_t n, float* out,
                     float* up_scratch) {
  if (n <= 0 || gate.n_rows <= 0) return Status::Ok();
  const bool fused = matmul_streams(gate.type, n) && gate.type == up.type && gate.n_rows == up.n_rows &&
                     gate.n_cols == up.n_cols && matvec_tiled(gate.n_cols, x) && supports_weight_type(gate.type);
  if (!fused) {
    RETURN_IF_ERROR(matmul(gate, x, n, out));
    RETURN_IF_ERROR(matmul(up, x, n, up_scratch));
    return silu_mul(out, up_scratch, out, n * gate.n_rows);
  }
  MatvecJob job;
  job.w[0] = static_cast<const uint8_t*>(gate.data);
  job.w[1] = static_cast<const uint8_t*>(up.data);
  job.y[0] = job.y[1] = out;
  job.n_rows[0] = job.n_rows[1] = gate.n_rows;
  job.n_mats = 2;
  job.epilogue = MatvecEpilogue::kSwiGlu;
  return matvec_passes(gate.type, job, gate.n_cols, x, n);
}

}  // namespace maas::cuda
