// matvec_tile.cuh — how matvec.cu splits its work, as host and device code: which rows each warp
// computes (warp_rows), and the tiles it stages into shared memory (how many elements a tile has
// per weight type, how many bytes that is, which 16-byte-aligned span of a row holds it).
// dequant_test.cc replays both on the host (no GPU): every output row computed by exactly one
// warp, and Decode8 checked on exactly the bytes the kernel would see.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cuda/matvec.h"

namespace maas::cuda {

// Elements per tile (a multiple of 256: a lane decodes 8 of every 256), and the block geometry
// that turns elements into bytes.
template <GgmlType T>
struct Tile;
template <> struct Tile<GgmlType::kF32> { static constexpr int kElems = 256, kBlock = 1, kBlockBytes = 4; };
template <> struct Tile<GgmlType::kF16> { static constexpr int kElems = 512, kBlock = 1, kBlockBytes = 2; };
template <> struct Tile<GgmlType::kBF16> { static constexpr int kElems = 512, kBlock = 1, kBlockBytes = 2; };
template <> struct Tile<GgmlType::kQ8_0> { static constexpr int kElems = 512, kBlock = 32, kBlockBytes = 34; };
template <> struct Tile<GgmlType::kQ4_0> { static constexpr int kElems = 1024, kBlock = 32, kBlockBytes = 18; };
template <> struct Tile<GgmlType::kQ4_K> { static constexpr int kElems = 1024, kBlock = 256, kBlockBytes = 144; };
template <> struct Tile<GgmlType::kQ6_K> { static constexpr int kElems = 1024, kBlock = 256, kBlockBytes = 210; };

// Bytes of `elems` elements (a multiple of the block size) of type T.
template <GgmlType T>
__host__ __device__ __forceinline__ int64_t bytes_of(int64_t elems) {
  return elems / Tile<T>::kBlock * Tile<T>::kBlockBytes;
}

// 16-byte vectors a staged row needs: the tile's bytes plus up to 15 before it (alignment).
template <GgmlType T>
struct RowVecs {
  static constexpr int kValue = (Tile<T>::kElems / Tile<T>::kBlock * Tile<T>::kBlockBytes + 15) / 16 + 1;
};

// Tile `it` of a row of n_cols elements starting at `row`: its elements, and the aligned span the
// kernel copies: n_vecs 16-byte vectors from `aligned`; the tile's first byte is `shift` bytes in.
struct TileSpan {
  int64_t c0 = 0;     // first element
  int64_t elems = 0;  // elements in this tile (the last may be short)
  const uint8_t* aligned = nullptr;
  int shift = 0;
  int n_vecs = 0;
};
template <GgmlType T>
__host__ __device__ __forceinline__ TileSpan tile_span(const uint8_t* row, int64_t n_cols, int64_t it) {
  TileSpan s;
  s.c0 = it * Tile<T>::kElems;
  s.elems = n_cols - s.c0 < Tile<T>::kElems ? n_cols - s.c0 : Tile<T>::kElems;
  const uintptr_t src = reinterpret_cast<uintptr_t>(row + bytes_of<T>(s.c0));
  s.aligned = reinterpret_cast<const uint8_t*>(src & ~uintptr_t{15});
  s.shift = static_cast<int>(src & 15);
  s.n_vecs = static_cast<int>((s.shift + bytes_of<T>(s.elems) + 15) / 16);
  return s;
}

// --- Rows --------------------------------------------------------------------------------------
constexpr int kRowsPerWarp = 2;

// Fills job.first_warp: each matrix gets a warp per pair of rows; SwiGLU a warp per gate row
// (which reads up's row of the same index too), none for up.
inline void fill_first_warp(MatvecJob& job) {
  const bool swiglu = job.epilogue == MatvecEpilogue::kSwiGlu;
  job.first_warp[0] = 0;
  for (int m = 0; m < job.n_mats; ++m) {
    const int64_t warps = swiglu ? (m == 0 ? job.n_rows[0] : 0) : (job.n_rows[m] + kRowsPerWarp - 1) / kRowsPerWarp;
    job.first_warp[m + 1] = job.first_warp[m] + warps;
  }
}

// The rows warp gw (< job.first_warp[job.n_mats]) computes, and where its results go.
struct WarpRows {
  const uint8_t* row[kRowsPerWarp];
  float* y;                   // the output matrix [n, ld]
  int64_t ld;                 // its row count
  int64_t out[kRowsPerWarp];  // output column of each row; -1: none (past the matrix's end; row
                              // then repeats a valid row, which is read but not written)
};
__host__ __device__ inline WarpRows warp_rows(const MatvecJob& job, size_t row_bytes, int64_t gw) {
  int m = 0;
  while (gw >= job.first_warp[m + 1]) ++m;
  const int64_t j = gw - job.first_warp[m];
  WarpRows w;
  w.y = job.y[m];
  w.ld = job.n_rows[m];
  if (job.epilogue == MatvecEpilogue::kSwiGlu) {  // row j of gate (w[0]) and of up (w[1])
    w.row[0] = job.w[0] + static_cast<size_t>(j) * row_bytes;
    w.row[1] = job.w[1] + static_cast<size_t>(j) * row_bytes;
    w.out[0] = j;
    w.out[1] = -1;
    return w;
  }
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int64_t i = kRowsPerWarp * j + r;
    w.out[r] = i < job.n_rows[m] ? i : -1;
    w.row[r] = job.w[m] + static_cast<size_t>(i < job.n_rows[m] ? i : kRowsPerWarp * j) * row_bytes;
  }
  return w;
}

}  // namespace maas::cuda
