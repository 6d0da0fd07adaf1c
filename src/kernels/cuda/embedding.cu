// embedding.cu — token embedding lookup: x[t] = table[tokens[t]] as floats, for every weight type
// of dequant.cuh (the file's layout). Grid: one block row per token, blocks of 256 columns.
// Reference: kernels.h dequantize_row on the token's row (bit-equal: same scale arithmetic).
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/dequant.cuh"

namespace maas::cuda {
namespace {

constexpr int kThreads = 256;

template <GgmlType T>
__global__ void embed_kernel(const uint8_t* table, size_t row_bytes, int64_t n_cols, const int32_t* tokens, float* x) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (col >= n_cols) return;
  const uint8_t* row = table + static_cast<size_t>(tokens[blockIdx.y]) * row_bytes;
  x[blockIdx.y * n_cols + col] = Dequant<T>::at(row, col);
}

// Tokens in chunks of at most 65535 (the grid's y limit).
template <GgmlType T>
void launch(const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x) {
  for (int64_t t0 = 0; t0 < n; t0 += 65535) {
    const int64_t chunk = n - t0 < 65535 ? n - t0 : 65535;
    dim3 grid(static_cast<unsigned>((n_cols + kThreads - 1) / kThreads), static_cast<unsigned>(chunk));
    embed_kernel<T><<<grid, kThreads>>>(static_cast<const uint8_t*>(table), ggml_row_size(T, n_cols), n_cols, tokens + t0,
                                        x + t0 * n_cols);
  }
}

}  // namespace

Status embed(GgmlType type, const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x) {
  if (n <= 0 || n_cols <= 0) return Status::Ok();
  switch (type) {
    case GgmlType::kF32: launch<GgmlType::kF32>(table, n_cols, tokens, n, x); break;
    case GgmlType::kF16: launch<GgmlType::kF16>(table, n_cols, tokens, n, x); break;
    case GgmlType::kBF16: launch<GgmlType::kBF16>(table, n_cols, tokens, n, x); break;
    case GgmlType::kQ8_0: launch<GgmlType::kQ8_0>(table, n_cols, tokens, n, x); break;
    case GgmlType::kQ4_0: launch<GgmlType::kQ4_0>(table, n_cols, tokens, n, x); break;
    case GgmlType::kQ4_K: launch<GgmlType::kQ4_K>(table, n_cols, tokens, n, x); break;
    case GgmlType::kQ6_K: launch<GgmlType::kQ6_K>(table, n_cols, tokens, n, x); break;
    default: return unimplemented("CUDA embed: no kernel for " + std::string(ggml_type_name(type)));
  }
  return last_error("embed");
}

}  // namespace maas::cuda
