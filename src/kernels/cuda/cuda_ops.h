// cuda_ops.h — the CUDA versions of kernels.h's ops, one .cu file per op, callable from host
// code compiled without nvcc (no CUDA type crosses this header).
//
// Every op is queued on the current device's default stream and returns at once; pointers are
// device memory (device_buffer.h) unless a name says host. Errors of a launch surface as a
// Status from the op or from synchronize(). Each op has a parity test against the scalar
// reference of kernels.h (cuda_ops_test.cc, ctest label gpu: skipped where no device is present).
// Weights are read in their file's layout (ggml's blocks, quant_blocks.h), never kRows16.
// Built when MAAS_CUDA is ON (CMakeLists.txt: nvcc found, sm_80 and sm_90).
// Thread safety: one host thread drives the ops (matmul's scratch and cuBLAS handle are shared).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/status.h"
#include "gguf/ggml_type.h"

namespace maas::cuda {

// Devices the driver reports; 0 when there is no driver, no device, or any error asking.
int device_count();
// Makes device `index` current for this thread. Unavailable when it does not exist.
Status set_device(int index);
// The current device's name ("NVIDIA H200"), or an empty string on error.
const char* device_name();
// Free and total bytes of the current device's memory.
Status memory_info(size_t* free_bytes, size_t* total_bytes);
// Waits for everything queued on the current device; the first error of it, as Internal.
Status synchronize();
// The first error a launch left behind (cudaGetLastError), as Internal; clears it.
Status last_error(const char* what);
// n bytes device to device, and host <-> device (the host copies are synchronous).
Status copy_device(void* dst, const void* src, size_t n);
Status copy_to_device(void* dst, const void* host_src, size_t n);
Status copy_to_host(void* host_dst, const void* src, size_t n);

// A process-wide count of reallocations of the ops' internal scratch buffers (matmul's GEMM
// scratch; any op that keeps one bumps it when it reallocates): a captured graph (graph.h) that
// points into the old buffer must be dropped when it changes.
uint64_t scratch_generation();
void bump_scratch_generation();

// Whether the ops below read weights of this type (F32 F16 BF16 Q8_0 Q4_0 Q4_K Q6_K).
bool supports_weight_type(GgmlType type);

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w for n rows of d floats (out may alias x).
Status rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps);

// x[t] = row tokens[t] of `table` as floats: table holds rows of n_cols elements of `type` in
// the file's layout (Unimplemented for a type supports_weight_type refuses), tokens n ids in
// device memory, x [n, n_cols].
Status embed(GgmlType type, const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x);

// A weight matrix in device memory: n_rows rows of n_cols elements of `type`, ggml row layout.
struct DeviceMatrix {
  GgmlType type = GgmlType::kF32;
  const void* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
};
// y = x · wᵀ: x [n, n_cols], y [n, n_rows] (kernels.h matmul). Up to kMatvecMaxTokens tokens,
// one weight-streaming kernel (matvec.cu) reads each weight once for all of them, in float
// (activations unrounded); see matmul_streams. More tokens go to cuBLAS: F32 as SGEMM; F16 and BF16 with x rounded to the
// weight's type and float accumulation (tensor cores); block types dequantized to F16 in
// slices of rows first.
// Block types (Q8_0, Q4_0, Q4_K, Q6_K) take the mat-vec kernel up to kMatvecMaxTokensBlocks
// tokens, in passes of kMatvecMaxTokens: two passes read a Q4_0 element's 0.56 bytes twice, where
// the dequantize-to-F16 GEMM path moves ~4.6 bytes per element (read, write and read F16).
constexpr int64_t kMatvecMaxTokens = 8;
constexpr int64_t kMatvecMaxTokensBlocks = 16;
// Whether matmul of n tokens on `type` weights streams them through the mat-vec kernel (float
// activations) rather than cuBLAS.
bool matmul_streams(GgmlType type, int64_t n);
Status matmul(const DeviceMatrix& w, const float* x, int64_t n, float* y);
// y += x · wᵀ (the residual add after a projection, fused: the mat-vec kernel's epilogue, or
// cuBLAS's beta = 1).
Status matmul_add(const DeviceMatrix& w, const float* x, int64_t n, float* y);
// y_i = x · w_iᵀ for each of `count` targets (Q, K, V; gate, up): up to kMatvecMaxTokens tokens,
// each run of matrices of one type and width is one launch (more rows in flight for the small K
// and V projections).
struct MatmulTarget {
  DeviceMatrix w;
  float* y = nullptr;
};
Status matmul_many(const MatmulTarget* outs, int count, const float* x, int64_t n);
// out = silu(x · gateᵀ) ⊙ (x · upᵀ) [n, gate.n_rows]: one pass over both matrices when the
// mat-vec kernel takes the shape (the up product stays in registers); otherwise the two products
// (up's into up_scratch [n, up.n_rows]) and silu_mul.
Status matmul_swiglu(const DeviceMatrix& gate, const DeviceMatrix& up, const float* x, int64_t n, float* out,
                     float* up_scratch);

// out = silu(gate) ⊙ up over n floats (out may alias gate).
Status silu_mul(const float* gate, const float* up, float* out, int64_t n);
// y += x over n floats.
Status add(float* y, const float* x, int64_t n);
// out[r] = x[rows[r]] for r < n_rows, rows of d floats (rows in device memory).
Status gather_rows(const float* x, const int32_t* rows, int64_t n_rows, int64_t d, float* out);

// One layer of the paged KV cache in device memory: K and V each [block][slot][n_head_kv * head_dim]
// elements of F32 or F16 (kv_cache.h's layout); slot s of block b is row b * block_size + s.
enum class KvElem : uint8_t { kF32, kF16 };
struct DeviceKvLayer {
  void* k = nullptr;
  void* v = nullptr;
  KvElem elem = KvElem::kF32;
  int32_t block_size = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
};

// The step's tokens in device memory, n of them: position, and where the token's sequence's block
// table starts in `tables` (position p of the token's sequence is in cache row
// tables[table_offset + p / block_size] * block_size + p % block_size).
struct DeviceTokens {
  const int32_t* pos = nullptr;
  const int32_t* table_offset = nullptr;
  const int32_t* tables = nullptr;  // every sequence's block table, concatenated
  int64_t n = 0;
};

// RoPE (model/rope.h: pairs (2i, 2i+1) of each head, theta_i = pos * inv_freq[i], i < n_rot/2,
// in double as the CPU) on q [n, n_head * head_dim] and k [n, n_head_kv * head_dim] in place,
// then k and v written to each token's cache row (rounded to F16 for an F16 cache).
// inv_freq: n_rot/2 doubles in device memory.
Status rope_store_kv(const double* inv_freq, int32_t n_rot, float* q, int32_t n_head, float* k, const float* v,
                     const DeviceKvLayer& kv, const DeviceTokens& tokens);

// Causal attention with grouped KV heads (kernels.h attention_paged for every token and group):
// out[t, h] = sum_{j <= pos[t]} softmax_j(scale * q[t, h] · K[h / n_gqa, j]) V[h / n_gqa, j],
// online softmax (no score matrix), head_dim <= 256. q, out [n, n_head * head_dim].
// This form is the simple one (attention.cu): one warp per (token, head) walks every position;
// it needs no plan and serves as the device-side baseline of the planned form below.
Status attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens, float scale,
                 float* out);

// A step's attention plan (attention_plan.h, made on the host by plan_attention) as the kernels
// read it; device_plan() (attention_plan.h) fills it from the plan and its uploaded indices.
struct DeviceAttentionPlan {
  int32_t split_size = 0;                  // positions per split
  int32_t max_splits = 0;                  // splits per token: every position < split_size * max_splits
  const int32_t* decode_tokens = nullptr;  // n_decode batch indices (device); nullptr: 0 .. n_decode - 1
  int64_t n_decode = 0;
  const int32_t* prefill_tiles = nullptr;  // n_tiles pairs (first token, n tokens) in device memory
  int64_t n_tiles = 0;
  float* workspace = nullptr;  // device, attention_workspace_bytes(n_decode, shape, max_splits) bytes
  size_t workspace_bytes = 0;
  // Prefill tiles on tensor cores (attention_prefill_mma.cu: q, K, V and the probabilities
  // rounded to half, ~1e-3 from the reference) where head_dim is 64 or 128; off: float kernel.
  bool prefill_mma = false;
};

// The same attention, planned: the plan's decode tokens through the split (flash-decoding)
// kernel and its reduce, its prefill tiles through the tiled kernel (attention_plan.h says which
// and why); every token of the step must be in exactly one of them. The launch grids depend only
// on (n_decode, n_head_kv, max_splits) and (n_tiles, n_head_kv): a plan made once for a context
// bound serves any positions below it (what a CUDA graph replay needs). InvalidArgument for a
// shape check_attention_shape refuses or a workspace smaller than the plan needs.
Status attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                 const DeviceAttentionPlan& plan, float scale, float* out);

}  // namespace maas::cuda
