// attention_prefill.cu — tiled causal attention for prefill runs (FlashAttention-2, Dao 2023),
// GQA-aware, in float on CUDA cores (no tensor cores yet). Work item (tile, KV head g): the tile's
// query rows are its tokens (consecutive, one sequence, positions p0 .. p0 + n - 1) x the n_gqa
// query heads of group g, row r = token (r / n_gqa), head (r % n_gqa); at most kRows of them.
// The CTA walks the KV positions 0 .. p0 + n - 1 in tiles of kCols: the tile's K and V rows are
// staged in shared memory as floats (read once for every query row of the group), each of the
// kRows x kCols scores is computed by one of a row's kThreadsPerRow threads, masked causally
// (position > the row's token's position), and folded into the row's online softmax (max, sum,
// output accumulator in registers, kDims output dims per thread); the probabilities pass through
// shared memory to the P·V product. The score matrix never exists beyond one kRows x kCols tile.
// Shared memory (floats): Q [kRows][hd + 1] | K [kCols][hd + 1] | V [kCols][hd] | P [kRows][kCols + 1]
// (the +1 strides keep the threads of a warp on distinct banks). Reference: kernels.h
// attention_paged (reference/attention_ref.cc).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/attention_kernels.h"
#include "kernels/cuda/attention_load.cuh"
#include "kernels/cuda/attention_plan.h"

namespace maas::cuda {
namespace {

constexpr int kRows = kPrefillTileRows;  // query rows of a tile
constexpr int kCols = 32;                // KV positions of a tile
constexpr int kThreadsPerRow = 4;
constexpr int kThreads = kRows * kThreadsPerRow;
constexpr int kColsPerThread = kCols / kThreadsPerRow;  // thread c scores positions c, c + 4, ...

template <typename E>
struct TileArgs : AttentionArgs<E> {
  const int32_t* tiles;  // pairs (first token, n tokens)
  float* out;
};

size_t shared_bytes(int head_dim) {
  const size_t floats = static_cast<size_t>(kRows) * (head_dim + 1) + static_cast<size_t>(kCols) * (head_dim + 1) +
                        static_cast<size_t>(kCols) * head_dim + static_cast<size_t>(kRows) * (kCols + 1);
  return floats * sizeof(float);
}

// The tile's rows of q, pre-scaled by scale * log2(e); rows past the tile's are zeros.
__device__ void load_queries(const float* q, int n_head, int head_dim, int64_t t0, int n_rows, int n_gqa, int h0,
                             float scale_log2, float* qs) {
  for (int idx = threadIdx.x; idx < kRows * head_dim; idx += kThreads) {
    const int r = idx / head_dim, d = idx % head_dim;
    float x = 0.f;
    if (r < n_rows) x = q[((t0 + r / n_gqa) * n_head + h0 + r % n_gqa) * head_dim + d] * scale_log2;
    qs[r * (head_dim + 1) + d] = x;
  }
}

// K and V rows [j0, j0 + kCols) of group g as floats; rows at or past kv_end are zeros.
template <typename E>
__device__ void load_kv(const TileArgs<E>& a, const int32_t* table, int g, int j0, int kv_end, float* ks, float* vs) {
  const int hd = a.head_dim;
  const int64_t dkv = static_cast<int64_t>(a.n_head_kv) * hd;
  for (int idx = threadIdx.x; idx < kCols * hd; idx += kThreads) {
    const int jj = idx / hd, d = idx % hd, j = j0 + jj;
    float kx = 0.f, vx = 0.f;
    if (j < kv_end) {
      const int64_t r = (static_cast<int64_t>(table[j / a.block_size]) * a.block_size + j % a.block_size) * dkv +
                        static_cast<int64_t>(g) * hd + d;
      kx = load_float(a.k + r);
      vx = load_float(a.v + r);
    }
    ks[jj * (hd + 1) + d] = kx;
    vs[jj * hd + d] = vx;
  }
}

template <typename E, int kDims>
__global__ void __launch_bounds__(kThreads) tiled_prefill_kernel(TileArgs<E> a) {
  extern __shared__ float smem[];
  const int hd = a.head_dim;
  float* qs = smem;
  float* ks = qs + kRows * (hd + 1);
  float* vs = ks + kCols * (hd + 1);
  float* ps = vs + kCols * hd;
  const int g = static_cast<int>(blockIdx.y), n_gqa = a.n_head / a.n_head_kv;
  const int64_t t0 = a.tiles[2 * blockIdx.x];
  const int n_tok = a.tiles[2 * blockIdx.x + 1], n_rows = n_tok * n_gqa;
  const int r = threadIdx.x / kThreadsPerRow, c = threadIdx.x % kThreadsPerRow;
  load_queries(a.q, a.n_head, hd, t0, n_rows, n_gqa, g * n_gqa, a.scale_log2, qs);
  // A row past the tile's computes on zeros as if at position 0 (finite, never written).
  const int row_pos = r < n_rows ? a.pos[t0 + r / n_gqa] : 0;
  const int kv_end = a.pos[t0 + n_tok - 1] + 1;
  const int32_t* table = a.tables + a.table_offset[t0];

  float acc[kDims], m = -INFINITY, l = 0.f;
#pragma unroll
  for (int i = 0; i < kDims; ++i) acc[i] = 0.f;
  for (int j0 = 0; j0 < kv_end; j0 += kCols) {
    __syncthreads();  // the previous tile's K, V and P reads are done (and the queries stored)
    load_kv(a, table, g, j0, kv_end, ks, vs);
    __syncthreads();
    float s[kColsPerThread];
#pragma unroll
    for (int k = 0; k < kColsPerThread; ++k) s[k] = 0.f;
    const float* qrow = qs + r * (hd + 1);
    for (int d = 0; d < hd; ++d) {
      const float qd = qrow[d];
#pragma unroll
      for (int k = 0; k < kColsPerThread; ++k) s[k] += qd * ks[(c + kThreadsPerRow * k) * (hd + 1) + d];
    }
    float tile_max = -INFINITY;
#pragma unroll
    for (int k = 0; k < kColsPerThread; ++k) {
      if (j0 + c + kThreadsPerRow * k > row_pos) s[k] = -INFINITY;  // causal (and past kv_end)
      tile_max = fmaxf(tile_max, s[k]);
    }
    // The row's kThreadsPerRow threads are adjacent lanes.
    for (int off = 1; off < kThreadsPerRow; off *= 2)
      tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, off));
    const float m_new = fmaxf(m, tile_max);  // finite: the first tile holds position 0 <= row_pos
    const float corr = exp2f(m - m_new);
    float p_sum = 0.f;
#pragma unroll
    for (int k = 0; k < kColsPerThread; ++k) {
      const float p = exp2f(s[k] - m_new);
      ps[r * (kCols + 1) + c + kThreadsPerRow * k] = p;
      p_sum += p;
    }
    l = l * corr + p_sum;  // this thread's share of the row's sum; corr is the row's
    m = m_new;
#pragma unroll
    for (int i = 0; i < kDims; ++i) acc[i] *= corr;
    __syncthreads();
    const float* prow = ps + r * (kCols + 1);
    for (int jj = 0; jj < kCols; ++jj) {
      const float p = prow[jj];
      const float* vrow = vs + jj * hd;
#pragma unroll
      for (int i = 0; i < kDims; ++i) {
        const int d = c + kThreadsPerRow * i;
        if (d < hd) acc[i] += p * vrow[d];
      }
    }
  }
  for (int off = 1; off < kThreadsPerRow; off *= 2) l += __shfl_xor_sync(0xffffffffu, l, off);
  if (r >= n_rows) return;
  float* o = a.out + ((t0 + r / n_gqa) * a.n_head + g * n_gqa + r % n_gqa) * hd;
#pragma unroll
  for (int i = 0; i < kDims; ++i) {
    const int d = c + kThreadsPerRow * i;
    if (d < hd) o[d] = acc[i] / l;
  }
}

template <typename E, int kDims>
Status launch(const TileArgs<E>& a, int64_t n_tiles) {
  const size_t bytes = shared_bytes(a.head_dim);
  const cudaError_t e = cudaFuncSetAttribute(tiled_prefill_kernel<E, kDims>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (e != cudaSuccess)
    return internal_error(std::string("CUDA tiled attention: shared memory: ") + cudaGetErrorString(e));
  const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(a.n_head_kv));
  tiled_prefill_kernel<E, kDims><<<grid, kThreads, bytes>>>(a);
  return Status::Ok();
}

template <typename E>
Status launch_for_head_dim(const TileArgs<E>& a, int64_t n_tiles) {
  if (a.head_dim <= 64) return launch<E, 64 / kThreadsPerRow>(a, n_tiles);
  if (a.head_dim <= 128) return launch<E, 128 / kThreadsPerRow>(a, n_tiles);
  return launch<E, kAttentionMaxHeadDim / kThreadsPerRow>(a, n_tiles);
}

template <typename E>
TileArgs<E> tile_args(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                      const DeviceAttentionPlan& plan, float scale, float* out) {
  TileArgs<E> a;
  static_cast<AttentionArgs<E>&>(a) = attention_args<E>(q, n_head, kv, tokens, scale);
  a.tiles = plan.prefill_tiles;
  a.out = out;
  return a;
}

}  // namespace

Status tiled_prefill_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                               const DeviceAttentionPlan& plan, float scale, float* out) {
  if (plan.n_tiles <= 0) return Status::Ok();
  if (plan.n_tiles > INT32_MAX)
    return invalid_argument("CUDA tiled attention: " + std::to_string(plan.n_tiles) + " tiles");
  Status s = kv.elem == KvElem::kF32
                 ? launch_for_head_dim(tile_args<float>(q, n_head, kv, tokens, plan, scale, out), plan.n_tiles)
                 : launch_for_head_dim(tile_args<__half>(q, n_head, kv, tokens, plan, scale, out), plan.n_tiles);
  if (!s.ok()) return s;
  return last_error("tiled prefill attention");
}

}  // namespace maas::cuda
