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
#include <initializer_list>
#include <string>

#include "base/thread_pool.h"
#include "gguf/ggml_type.h"

namespace maas {

// How a matrix's blocks are ordered. kRows: ggml's (row after row). kRows16: Q8_0 / Q4_0 / Q4_K /
// Q6_K with n_rows a multiple of 16, interleaved at load time in groups of 16 rows (quant_blocks.h) for
// the decode kernels; the same bytes in total.
enum class WeightLayout : uint8_t { kRows, kRows16 };

// A matrix of n_rows rows, each n_cols elements of `type` (ggml_row_size(type, n_cols) bytes per
// row), stored as `layout` says. GGUF tensor {ne0 = n_cols, ne1 = n_rows}.
struct WeightMatrix {
  GgmlType type = GgmlType::kF32;
  const void* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  WeightLayout layout = WeightLayout::kRows;
  size_t row_bytes() const { return ggml_row_size(type, n_cols); }
  size_t bytes() const { return row_bytes() * static_cast<size_t>(n_rows); }
};

// Row r of w as floats (any layout).
void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* dst);

// Whether interleaving w (kRows) into kRows16 makes its products faster on this CPU's variant.
bool interleave_pays(const WeightMatrix& w);
// Writes w (kRows, Q8_0 / Q4_0 / Q4_K / Q6_K, n_rows % 16 == 0) into dst (w.bytes() bytes) as
// kRows16 and returns the matrix over dst.
WeightMatrix interleave_rows16(const WeightMatrix& w, void* dst);

// y[t][r] = sum_c W[r][c] * x[t][c] for t < n_tokens, r < n_rows.
// x: n_tokens x n_cols floats (row stride n_cols); y: n_tokens x n_rows floats (stride n_rows).
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);
// Several products of the same x (Q, K and V; gate and up), up to four: out.y = out.w · x for each,
// as matmul() computes them. x is quantized once per activation format and, for the calls the
// tile kernels take (decode, short batches), the matrices' rows are dealt to the threads from one
// counter with one join. The matrices have x's n_cols.
struct MatmulOut {
  const WeightMatrix* w;
  float* y;
};
void matmul_many(std::initializer_list<MatmulOut> outs, const float* x, int64_t n_tokens, ThreadPool& pool);

// Converts n elements of `type` (n a multiple of its block size) to floats, and back. quantize_row
// uses the same rounding rules as ggml's reference quantizers, so files written by maas load in
// llama.cpp and vice versa.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (out may alias x)
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
// out[i] = silu(gate[i]) * up[i]   (out may alias gate)
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);

// "avx512" | "avx2" | "scalar": the variant the dispatching ops use on this CPU. The
// MAAS_KERNELS=scalar|avx2|avx512 environment variable forces a lower one (tests, benchmarks).
std::string kernel_variant();

// One sequence's cached keys and values for one KV head in one layer of the paged KV cache
// (model/kv_cache.h: [block][slot][n_embd_kv] elements of `type`, position p in slot
// p % block_size of block block_table[p / block_size]). The head_dim elements of position p start
//   ggml_row_size(type, (block_table[p / block_size] * block_size + p % block_size) * row_stride)
// bytes after k (likewise v): k and v point at the KV head's first element in block 0, slot 0.
// type is F32, F16, or Q8_0 (ggml's blocks of 32 along head_dim: head_dim and row_stride are
// multiples of 32); every implementation reads a row as dequantize_row gives it, in floats.
struct PagedKv {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t row_stride = 0;  // elements from one slot to the next (n_embd_kv)
  const int32_t* block_table = nullptr;
  int32_t block_size = 0;
  GgmlType type = GgmlType::kF32;
};

// Whether attention_paged reads a cache of this element type: F32, F16, Q8_0.
bool attention_reads(GgmlType type);

// The n_heads query heads that share one KV head (a GQA group), for n_tokens consecutive new
// tokens of one sequence at positions pos0, pos0 + 1, ...: head i of token t is
//   q[t * stride + i * head_dim + d], d < head_dim, and its result goes to out[same index].
struct AttentionQueries {
  const float* q = nullptr;
  float* out = nullptr;
  int64_t stride = 0;
  int32_t n_heads = 0;
  int32_t head_dim = 0;
  int32_t pos0 = 0;
  int32_t n_tokens = 0;
  float scale = 1.f;  // 1 / sqrt(head_dim) for Llama
};

// Causal attention of a GQA group over the paged cache (positions 0 .. pos0 + n_tokens - 1 must
// be written): out[t, i] = sum_{j <= pos0 + t} softmax_j(scale * q[t, i] . K[j]) V[j].
// Single-threaded; calls with disjoint `out` may run concurrently. No allocation.
void attention_paged(const AttentionQueries& a, const PagedKv& kv);

}  // namespace maas
