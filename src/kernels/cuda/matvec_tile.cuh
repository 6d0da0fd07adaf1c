// matvec_tile.cuh — the tiles matvec.cu stages into shared memory: how many elements a tile has
// per weight type, how many bytes that is, and which 16-byte-aligned span of a row holds it.
// Host and device code: the kernel uses it, and dequant_test.cc replays the staging on the host
// (no GPU) to check Decode8 on exactly the bytes the kernel would see.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gguf/ggml_type.h"

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

}  // namespace maas::cuda
