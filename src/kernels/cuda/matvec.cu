// matvec.cu — the decode path of matmul (n <= kMatvecMaxTokens tokens): a weight-streaming
// matrix-vector kernel per weight type that reads each weight byte once per step for all n
// tokens, with the fused epilogues of cuda_ops.h (plain store, residual add, SwiGLU) and several
// matrices of one type and width (Q, K, V; gate, up) in one launch.
//
// Design (an H200 streams ~4.2 TB/s; a decode step reads every weight once, so the weights are
// the step's time):
// - Work: one warp per pair of output rows (kRowsPerWarp = 2), 8 warps per block, no block-wide
//   synchronisation. Two rows per warp halve the activation reads (each x element loaded from
//   L1 feeds two rows) and keep registers low enough for n = 8 (2 x 8 accumulators, 2 x 8
//   decoded weights, 8 activations). SwiGLU pairs row j of gate with row j of up instead, so
//   silu(g) * u is computed in registers and the up product never reaches memory.
// - Weight bytes: the warp copies a tile of each of its rows (kTile elements: 256 for F32, 512
//   for F16/BF16/Q8_0, 1024 for Q4_0/Q4_K/Q6_K; 0.5-1 KiB of bytes) into shared memory with
//   128-bit cp.async loads from the 16-aligned address at or below the tile's start, coalesced
//   across the warp, whatever the block size (the file's 18-, 34- or 210-byte blocks are not
//   16-aligned). Two stages: the tile after the current one is in flight while the current one
//   is decoded, so every warp keeps the next tile of both rows (1-2 KiB) outstanding, and up to
//   twice that while it waits; with the ~16-40 resident warps of an SM that is the 30-60 KiB per
//   SM that Little's law asks for at ~4 TB/s and ~1 us of latency. (The first knobs to turn on
//   a GPU: kStages, the tile sizes, kRowsPerWarp; maas-matvec-bench measures them.) Shared
//   memory per block: 8 x 2 x 2 x (tile bytes + 16), at most 33 KiB (F32), so several blocks
//   fit an SM. The aligned copies may read up to 15 bytes
//   before a row's start or after its end, always inside a 16-byte-aligned chunk that holds one
//   of its bytes (so never another page); those bytes are never decoded.
//   Registers (ptxas, sm_90): 40-80 for most types and n, 112 for Q4_K at n = 8; no spills
//   beyond a few bytes for Q4_K at n = 2 and 4.
// - Decoding: lane l takes elements 8l .. 8l+7 of every 256 of the tile (dequant.cuh Decode8: a
//   block's scales read once per 8 elements, integers to floats with the exponent trick, no
//   I2F), multiplies them with the float activations of each token (two 128-bit loads per token,
//   shared by the warp's two rows through registers) and accumulates in float.
// - Activations stay float, unrounded (not int8 + dp4a as the CPU kernels and llama.cpp do): the
//   fidelity results (bench/RESULTS.md, issue 16) show activation rounding is what separates an
//   engine from exact arithmetic — the CPU's per-256 int8 activations double the K-quants' KL
//   divergence. The cost: an H200 issues ~33 T lane-ops/s of FP32 (132 SMs x 128 x 1.98 GHz),
//   ~8 per byte of its ~4.2 TB/s. At n = 1 a weight element costs one FMA plus ~2 decode ops
//   (PRMT, FADD; the scale multiply per element for block types): ~1.5 ops per byte for BF16,
//   ~4-6 for Q4_0 (1.8 elements per byte), under the 8, so the kernel stays memory-bound. At
//   n = 8 the 4-bit types need ~18 ops per byte and become compute-bound (roughly half the
//   bandwidth); dp4a on int8 activations would be ~2x faster there, at the fidelity cost above.
//   More than kMatvecMaxTokens tokens go to cuBLAS (matmul.cu).
// - Fallback: F32/F16/BF16 rows whose width is not a multiple of 8, or activations not 16-byte
//   aligned, take matvec_scalar_kernel (one element per lane, Dequant<T>::at).
// Reference: kernels/reference/matmul_ref.cc (double accumulation); parity in cuda_ops_test.cc.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/cuda/dequant.cuh"
#include "kernels/cuda/matvec.h"
#include "kernels/cuda/matvec_tile.cuh"

namespace maas::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kStages = 2;

__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + expf(-g)) * u; }

template <GgmlType T, int NT>
__global__ void __launch_bounds__(kThreads) matvec_kernel(MatvecJob job, size_t row_bytes, int64_t n_cols,
                                                          const float* __restrict__ x, int n) {
  constexpr int kTile = Tile<T>::kElems, kVecs = RowVecs<T>::kValue;
  __shared__ uint4 stage[kWarps][kStages][kRowsPerWarp][kVecs];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t gw = static_cast<int64_t>(blockIdx.x) * kWarps + warp;
  if (gw >= job.first_warp[job.n_mats]) return;  // whole warps leave; nothing below syncs the block
  const WarpRows rows = warp_rows(job, row_bytes, gw);

  // Queue the copy of tile `it` of every row into stage s (one commit group per tile).
  auto issue = [&](int64_t it, int s) {
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const TileSpan span = tile_span<T>(rows.row[r], n_cols, it);
      for (int i = lane; i < span.n_vecs; i += 32) __pipeline_memcpy_async(&stage[warp][s][r][i], span.aligned + 16 * i, 16);
    }
    __pipeline_commit();
  };

  float acc[kRowsPerWarp][NT];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[r][t] = 0.f;
  }
  const int64_t n_tiles = (n_cols + kTile - 1) / kTile;
  issue(0, 0);
  for (int64_t it = 0; it < n_tiles; ++it) {
    if (it + 1 < n_tiles) {
      issue(it + 1, static_cast<int>((it + 1) % kStages));
    } else {
      __pipeline_commit();  // an empty group keeps "all but the newest" meaning this tile
    }
    __pipeline_wait_prior(1);
    __syncwarp();  // every lane's copies of this tile are visible to the whole warp
    const int s = static_cast<int>(it % kStages);
    const uint8_t* tile[kRowsPerWarp];
    bool aligned[kRowsPerWarp];
    int64_t c0 = 0, te = 0;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const TileSpan span = tile_span<T>(rows.row[r], n_cols, it);
      tile[r] = reinterpret_cast<const uint8_t*>(stage[warp][s][r]) + span.shift;
      aligned[r] = span.shift == 0;
      c0 = span.c0;
      te = span.elems;
    }
#pragma unroll
    for (int k = 0; k < kTile / 256; ++k) {
      const int e = 256 * k + 8 * lane;
      if (e < te) {
        float wv[kRowsPerWarp][8];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) Decode8<T>::run(tile[r], e, aligned[r], wv[r]);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          if (t < n) {
            const float4* xp = reinterpret_cast<const float4*>(x + t * n_cols + c0 + e);
            const float4 a = __ldg(xp), b = __ldg(xp + 1);
            const float xv[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
            for (int r = 0; r < kRowsPerWarp; ++r) {
#pragma unroll
              for (int i = 0; i < 8; ++i) acc[r][t] = fmaf(wv[r][i], xv[i], acc[r][t]);
            }
          }
        }
      }
    }
    __syncwarp();  // the stage is read; the next issue may overwrite it
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      for (int o = 16; o > 0; o /= 2) acc[r][t] += __shfl_xor_sync(0xffffffffu, acc[r][t], o);
    }
  }
  if (lane != 0) return;
#pragma unroll
  for (int t = 0; t < NT; ++t) {
    if (t >= n) break;
    float* yt = rows.y + t * rows.ld;
    if (job.epilogue == MatvecEpilogue::kSwiGlu) {
      yt[rows.out[0]] = silu_times(acc[0][t], acc[1][t]);
      continue;
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      if (rows.out[r] < 0) continue;
      if (job.epilogue == MatvecEpilogue::kAdd) {
        yt[rows.out[r]] += acc[r][t];
      } else {
        yt[rows.out[r]] = acc[r][t];
      }
    }
  }
}

// One warp per output row, one element per lane (Dequant<T>::at): shapes the tiled kernel does
// not take. Store or add only (SwiGLU is composed by the caller).
template <GgmlType T, int NT>
__global__ void matvec_scalar_kernel(const uint8_t* w, size_t row_bytes, int64_t n_rows, int64_t n_cols, const float* x,
                                     int n, float* y, bool add) {
  const int lane = threadIdx.x % 32;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
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
    if (lane == 0 && t < n) {
      float* out = y + t * n_rows + r;
      *out = add ? *out + s : s;
    }
  }
}

template <GgmlType T, int NT>
void launch_tiled(const MatvecJob& job, int64_t n_cols, const float* x, int n) {
  const int64_t warps = job.first_warp[job.n_mats];
  const unsigned blocks = static_cast<unsigned>((warps + kWarps - 1) / kWarps);
  matvec_kernel<T, NT><<<blocks, kThreads>>>(job, ggml_row_size(T, n_cols), n_cols, x, n);
}

template <GgmlType T, int NT>
void launch_scalar(const MatvecJob& job, int64_t n_cols, const float* x, int n) {
  for (int m = 0; m < job.n_mats; ++m) {
    const unsigned blocks = static_cast<unsigned>((job.n_rows[m] + kWarps - 1) / kWarps);
    matvec_scalar_kernel<T, NT><<<blocks, kThreads>>>(job.w[m], ggml_row_size(T, n_cols), job.n_rows[m], n_cols, x, n,
                                                      job.y[m], job.epilogue == MatvecEpilogue::kAdd);
  }
}

template <GgmlType T>
void launch(const MatvecJob& job, int64_t n_cols, const float* x, int n, bool tiled) {
  auto go = [&](auto nt) {
    constexpr int NT = decltype(nt)::value;
    if (tiled) {
      launch_tiled<T, NT>(job, n_cols, x, n);
    } else {
      launch_scalar<T, NT>(job, n_cols, x, n);
    }
  };
  if (n == 1) {
    go(std::integral_constant<int, 1>{});
  } else if (n == 2) {
    go(std::integral_constant<int, 2>{});
  } else if (n <= 4) {
    go(std::integral_constant<int, 4>{});
  } else {
    go(std::integral_constant<int, 8>{});
  }
}

}  // namespace

bool matvec_tiled(int64_t n_cols, const float* x) {
  return n_cols % 8 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0;  // block types: always n_cols % 32 == 0
}

Status matvec(GgmlType type, MatvecJob job, int64_t n_cols, const float* x, int64_t n) {
  if (n < 1 || n > kMatvecMaxTokens) return invalid_argument("CUDA matvec: " + std::to_string(n) + " tokens");
  if (job.n_mats < 1 || job.n_mats > kMatvecMaxMats) return invalid_argument("CUDA matvec: 1 to 4 matrices");
  const bool swiglu = job.epilogue == MatvecEpilogue::kSwiGlu;
  if (swiglu && (job.n_mats != 2 || job.n_rows[0] != job.n_rows[1])) {
    return invalid_argument("CUDA matvec: SwiGLU takes a gate and an up matrix of the same shape");
  }
  // Warps of each matrix: a pair of rows each; SwiGLU: one per gate row (that warp reads up's row too).
  fill_first_warp(job);
  const bool tiled = matvec_tiled(n_cols, x);
  if (!tiled && swiglu) return invalid_argument("CUDA matvec: SwiGLU needs the tiled kernel");
  const int nn = static_cast<int>(n);
  switch (type) {
    case GgmlType::kF32: launch<GgmlType::kF32>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kF16: launch<GgmlType::kF16>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kBF16: launch<GgmlType::kBF16>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kQ8_0: launch<GgmlType::kQ8_0>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kQ4_0: launch<GgmlType::kQ4_0>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kQ4_K: launch<GgmlType::kQ4_K>(job, n_cols, x, nn, tiled); break;
    case GgmlType::kQ6_K: launch<GgmlType::kQ6_K>(job, n_cols, x, nn, tiled); break;
    default: return unimplemented("CUDA matvec: no kernel for " + std::string(ggml_type_name(type)));
  }
  return last_error("matvec");
}

}  // namespace maas::cuda
