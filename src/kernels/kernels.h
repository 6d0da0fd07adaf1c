// kernels.h — the operations the forward pass is written in. Each op dispatches at run time to
// the best implementation this CPU has (AVX-512, AVX2, or the scalar reference in reference/),
// and every SIMD variant is checked against the reference by kernels_test.
//
// Weight matrices stay in their file's type: products run on the quantized blocks (activations
// are quantized to 8 bits on the fly where the type's dot product wants it), never on a fully
// dequantized copy. Threads: ops taking a ThreadPool split output rows across its threads;
// the others are single-threaded and cheap. No op allocates on the hot path after warm-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/thread_pool.h"
#include "gguf/ggml_type.h"

namespace maas {

// A row-major matrix of n_rows rows, each n_cols elements of `type` stored contiguously
// (ggml_row_size(type, n_cols) bytes per row). GGUF tensor {ne0 = n_cols, ne1 = n_rows}.
struct WeightMatrix {
  GgmlType type = GgmlType::kF32;
  const void* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  size_t row_bytes() const { return ggml_row_size(type, n_cols); }
};

// y[t][r] = sum_c W[r][c] * x[t][c] for t < n_tokens, r < n_rows.
// x: n_tokens x n_cols floats (row stride n_cols); y: n_tokens x n_rows floats (stride n_rows).
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Converts n elements of `type` (n a multiple of its block size) to floats, and back. quantize_row
// uses the same rounding rules as ggml's reference quantizers, so files written by maas load in
// llama.cpp and vice versa.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (out may alias x)
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
// out[i] = silu(gate[i]) * up[i]   (out may alias gate)
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
// x[i] = exp(x[i] - max) / sum  in place
void softmax(float* x, int64_t n);
// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);
// sum_i a[i] * b[i]  (attention scores)
float dot_f32(const float* a, const float* b, int64_t n);
// y[i] += a * x[i]   (attention weighted sum of values)
void axpy_f32(float a, const float* x, float* y, int64_t n);

// "avx512" | "avx2" | "scalar": the variant the dispatching ops use on this CPU. The
// MAAS_KERNELS=scalar|avx2|avx512 environment variable forces a lower one (tests, benchmarks).
std::string kernel_variant();

}  // namespace maas
