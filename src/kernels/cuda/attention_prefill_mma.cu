// attention_prefill_mma.cu — the tiled prefill attention of attention_prefill.cu on tensor cores
// (WMMA, FP16 inputs, FP32 accumulation), for head_dim 64 and 128. Opt-in
// (DeviceAttentionPlan::prefill_mma): its inputs are rounded to half (q after scaling, K, V, and
// the probabilities P), so it agrees with the reference to ~1e-3 rather than ~1e-5.
//
// Work item (tile, KV head g) as in attention_prefill.cu: up to kRows query rows (tokens x the
// group's query heads). kWarps warps, warp w owns rows [16 w, 16 w + 16). Per KV tile of kCols
// positions: the CTA stages K and V as half in shared memory; each warp computes its 16 x kCols
// scores S = Q Kᵀ with WMMA into shared memory, applies the causal mask and the online softmax
// (two lanes per row: max, rescale factor, P as half), rescales its rows of the output O (float,
// shared memory) and adds P V with WMMA, loading and storing O as the accumulator, so no
// fragment's element layout is ever assumed. At the end each row is divided by its sum.
// Shared memory (bytes, every section a multiple of 32 for WMMA's alignment):
//   Q half [kRows][hd + 8] | K half [kCols][hd + 8] | V half [kCols][hd + 8] |
//   S float [kRows][kCols + 4] | P half [kRows][kCols + 8] | O float [kRows][hd + 4] |
//   m, l, c float [kRows] each.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <string>

#include "kernels/cuda/attention_kernels.h"
#include "kernels/cuda/attention_load.cuh"
#include "kernels/cuda/attention_plan.h"

namespace maas::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kRows = kPrefillTileRows;  // 64 query rows
constexpr int kCols = 64;                // KV positions per tile
constexpr int kWarps = kRows / 16;
constexpr int kThreads = kWarps * 32;

struct MmaLayout {
  int ldh, lds, ldp, ldo;                   // row strides (elements) of Q/K/V, S, P, O
  size_t q, k, v, s, p, o, m, l, c, bytes;  // byte offsets
};

__host__ __device__ inline MmaLayout mma_layout(int hd) {
  MmaLayout L;
  L.ldh = hd + 8;
  L.lds = kCols + 4;
  L.ldp = kCols + 8;
  L.ldo = hd + 4;
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t here = at;
    at += (bytes + 31) / 32 * 32;
    return here;
  };
  L.q = take(sizeof(__half) * kRows * L.ldh);
  L.k = take(sizeof(__half) * kCols * L.ldh);
  L.v = take(sizeof(__half) * kCols * L.ldh);
  L.s = take(sizeof(float) * kRows * L.lds);
  L.p = take(sizeof(__half) * kRows * L.ldp);
  L.o = take(sizeof(float) * kRows * L.ldo);
  L.m = take(sizeof(float) * kRows);
  L.l = take(sizeof(float) * kRows);
  L.c = take(sizeof(float) * kRows);
  L.bytes = at;
  return L;
}

template <typename E>
struct MmaArgs : AttentionArgs<E> {
  const int32_t* tiles;  // pairs (first token, n tokens)
  float* out;
};

// Scores of the warp's 16 rows against the tile's kCols positions: S = Q Kᵀ (K is Kᵀ read
// column-major).
template <int HD>
__device__ void tile_scores(const __half* qh, const __half* kh, float* s, const MmaLayout& L, int warp) {
#pragma unroll
  for (int j = 0; j < kCols / 16; ++j) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.f);
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
      wmma::load_matrix_sync(a, qh + 16 * warp * L.ldh + 16 * kk, L.ldh);
      wmma::load_matrix_sync(b, kh + 16 * j * L.ldh + 16 * kk, L.ldh);
      wmma::mma_sync(acc, a, b, acc);
    }
    wmma::store_matrix_sync(s + 16 * warp * L.lds + 16 * j, acc, L.lds, wmma::mem_row_major);
  }
}

// Online softmax of the warp's 16 rows over the tile's scores (lanes 2r, 2r + 1 share row r, half
// the columns each): the causal mask, the new max, the rescale factor c of the row's old state,
// P = 2^(s - max) as half, the sum over the rounded P (what P V adds).
__device__ void tile_softmax(const float* s, __half* p, float* m, float* l, float* c, const MmaLayout& L, int warp,
                             int lane, int j0, int row_pos) {
  const int r = 16 * warp + lane / 2, c0 = (lane % 2) * (kCols / 2);
  float mx = -INFINITY;
  for (int jj = c0; jj < c0 + kCols / 2; ++jj) {
    if (j0 + jj <= row_pos) mx = fmaxf(mx, s[r * L.lds + jj]);
  }
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
  const float m_old = m[r], m_new = fmaxf(m_old, mx);  // finite: the first tile holds position 0
  float sum = 0.f;
  for (int jj = c0; jj < c0 + kCols / 2; ++jj) {
    const float x = j0 + jj <= row_pos ? exp2f(s[r * L.lds + jj] - m_new) : 0.f;
    const __half h = __float2half(x);
    p[r * L.ldp + jj] = h;
    sum += __half2float(h);
  }
  sum += __shfl_xor_sync(0xffffffffu, sum, 1);
  if (lane % 2 == 0) {
    const float corr = exp2f(m_old - m_new);
    c[r] = corr;
    l[r] = l[r] * corr + sum;
    m[r] = m_new;
  }
}

// O[warp's rows] = c * O + P V, O loaded and stored as the accumulator.
template <int HD>
__device__ void tile_output(const __half* p, const __half* vh, float* o, const float* c, const MmaLayout& L, int warp,
                            int lane) {
  for (int idx = lane; idx < 16 * HD; idx += 32) {
    const int r = 16 * warp + idx / HD;
    o[r * L.ldo + idx % HD] *= c[r];
  }
  __syncwarp();
#pragma unroll
  for (int n = 0; n < HD / 16; ++n) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::load_matrix_sync(acc, o + 16 * warp * L.ldo + 16 * n, L.ldo, wmma::mem_row_major);
#pragma unroll
    for (int kk = 0; kk < kCols / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> b;
      wmma::load_matrix_sync(a, p + 16 * warp * L.ldp + 16 * kk, L.ldp);
      wmma::load_matrix_sync(b, vh + 16 * kk * L.ldh + 16 * n, L.ldh);
      wmma::mma_sync(acc, a, b, acc);
    }
    wmma::store_matrix_sync(o + 16 * warp * L.ldo + 16 * n, acc, L.ldo, wmma::mem_row_major);
  }
}

template <typename E, int HD>
__global__ void __launch_bounds__(kThreads) mma_prefill_kernel(MmaArgs<E> a) {
  extern __shared__ __align__(128) float smem[];  // WMMA needs 32-byte aligned tiles
  const MmaLayout L = mma_layout(HD);
  uint8_t* base = reinterpret_cast<uint8_t*>(smem);
  __half* qh = reinterpret_cast<__half*>(base + L.q);
  __half* kh = reinterpret_cast<__half*>(base + L.k);
  __half* vh = reinterpret_cast<__half*>(base + L.v);
  float* s = reinterpret_cast<float*>(base + L.s);
  __half* p = reinterpret_cast<__half*>(base + L.p);
  float* o = reinterpret_cast<float*>(base + L.o);
  float* m = reinterpret_cast<float*>(base + L.m);
  float* l = reinterpret_cast<float*>(base + L.l);
  float* c = reinterpret_cast<float*>(base + L.c);
  const int g = static_cast<int>(blockIdx.y), n_gqa = a.n_head / a.n_head_kv;
  const int64_t t0 = a.tiles[2 * blockIdx.x];
  const int n_tok = a.tiles[2 * blockIdx.x + 1], n_rows = n_tok * n_gqa;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int idx = threadIdx.x; idx < kRows * HD; idx += kThreads) {
    const int r = idx / HD, d = idx % HD;
    float x = 0.f;
    if (r < n_rows) x = a.q[((t0 + r / n_gqa) * a.n_head + g * n_gqa + r % n_gqa) * HD + d] * a.scale_log2;
    qh[r * L.ldh + d] = __float2half(x);
    o[r * L.ldo + d] = 0.f;
  }
  for (int r = threadIdx.x; r < kRows; r += kThreads) {
    m[r] = -INFINITY;
    l[r] = 0.f;
  }
  const int my_row = 16 * warp + lane / 2;                               // the row this lane's softmax share belongs to
  const int row_pos = my_row < n_rows ? a.pos[t0 + my_row / n_gqa] : 0;  // rows past the tile: as position 0
  const int kv_end = a.pos[t0 + n_tok - 1] + 1;
  const int32_t* table = a.tables + a.table_offset[t0];
  const int64_t dkv = static_cast<int64_t>(a.n_head_kv) * HD;
  for (int j0 = 0; j0 < kv_end; j0 += kCols) {
    __syncthreads();  // the previous tile's K and V reads are done (and Q, O, m, l stored)
    for (int idx = threadIdx.x; idx < kCols * HD; idx += kThreads) {
      const int jj = idx / HD, d = idx % HD, j = j0 + jj;
      float kx = 0.f, vx = 0.f;
      if (j < kv_end) {
        const int64_t r = (static_cast<int64_t>(table[j / a.block_size]) * a.block_size + j % a.block_size) * dkv +
                          static_cast<int64_t>(g) * HD + d;
        kx = load_float(a.k + r);
        vx = load_float(a.v + r);
      }
      kh[jj * L.ldh + d] = __float2half(kx);
      vh[jj * L.ldh + d] = __float2half(vx);
    }
    __syncthreads();
    tile_scores<HD>(qh, kh, s, L, warp);
    __syncwarp();
    tile_softmax(s, p, m, l, c, L, warp, lane, j0, row_pos);
    __syncwarp();
    tile_output<HD>(p, vh, o, c, L, warp, lane);
  }
  __syncwarp();
  for (int idx = lane; idx < 16 * HD; idx += 32) {
    const int r = 16 * warp + idx / HD, d = idx % HD;
    if (r < n_rows) a.out[((t0 + r / n_gqa) * a.n_head + g * n_gqa + r % n_gqa) * HD + d] = o[r * L.ldo + d] / l[r];
  }
}

template <typename E, int HD>
Status launch(const MmaArgs<E>& a, int64_t n_tiles) {
  const size_t bytes = mma_layout(HD).bytes;
  const cudaError_t e = cudaFuncSetAttribute(mma_prefill_kernel<E, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(bytes));
  if (e != cudaSuccess) {
    return internal_error(std::string("CUDA tensor-core attention: shared memory: ") + cudaGetErrorString(e));
  }
  const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(a.n_head_kv));
  mma_prefill_kernel<E, HD><<<grid, kThreads, bytes>>>(a);
  return Status::Ok();
}

template <typename E>
Status launch_for_head_dim(const MmaArgs<E>& a, int64_t n_tiles) {
  return a.head_dim == 64 ? launch<E, 64>(a, n_tiles) : launch<E, 128>(a, n_tiles);
}

template <typename E>
MmaArgs<E> mma_args(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                    const DeviceAttentionPlan& plan, float scale, float* out) {
  MmaArgs<E> a;
  static_cast<AttentionArgs<E>&>(a) = attention_args<E>(q, n_head, kv, tokens, scale);
  a.tiles = plan.prefill_tiles;
  a.out = out;
  return a;
}

}  // namespace

bool mma_prefill_takes(int32_t head_dim) { return head_dim == 64 || head_dim == 128; }

Status mma_prefill_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                             const DeviceAttentionPlan& plan, float scale, float* out) {
  if (plan.n_tiles <= 0) return Status::Ok();
  if (!mma_prefill_takes(kv.head_dim) || plan.n_tiles > INT32_MAX) {
    return invalid_argument("CUDA tensor-core attention: head_dim " + std::to_string(kv.head_dim) + ", " +
                            std::to_string(plan.n_tiles) + " tiles");
  }
  Status s = kv.elem == KvElem::kF32
                 ? launch_for_head_dim(mma_args<float>(q, n_head, kv, tokens, plan, scale, out), plan.n_tiles)
                 : launch_for_head_dim(mma_args<__half>(q, n_head, kv, tokens, plan, scale, out), plan.n_tiles);
  if (!s.ok()) return s;
  return last_error("tensor-core prefill attention");
}

}  // namespace maas::cuda
