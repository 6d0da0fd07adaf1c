// dequant_test.cc — the weight-streaming mat-vec kernel's work split and decoding, checked on the
// host (no GPU needed; built with the CUDA backend, compiled by the host compiler): every output
// row of a job is computed by exactly one warp (warp_rows), and every tile of every row is
// staged as matvec.cu stages it (tile_span: the aligned 16-byte vectors around the tile) and each
// lane's eight elements are decoded with Decode8 from the staged bytes, which must equal
// kernels.h dequantize_row bit for bit — odd shapes included (rows of 18-, 34- and 210-byte
// blocks that are not 16-aligned, a short last tile, odd row counts).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/dequant.cuh"
#include "kernels/cuda/matvec_tile.cuh"
#include "kernels/kernels.h"

namespace maas::cuda {
namespace {

// Decodes every element of an (rows x cols) matrix as the kernel's lanes would and compares.
template <GgmlType T>
void check(int64_t rows, int64_t cols) {
  std::mt19937 rng(static_cast<uint32_t>(rows * 131 + cols));
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> f(static_cast<size_t>(rows * cols));
  for (float& v : f) v = dist(rng);
  const size_t row_bytes = ggml_row_size(T, cols);
  std::vector<uint8_t> storage(row_bytes * static_cast<size_t>(rows) + 32);
  // The matrix starts 16-aligned, as a cudaMalloc'd (or 256-aligned) weight does.
  uint8_t* base = storage.data() + (16 - reinterpret_cast<uintptr_t>(storage.data()) % 16) % 16;
  for (int64_t r = 0; r < rows; ++r) quantize_row(T, &f[static_cast<size_t>(r * cols)], base + r * row_bytes, cols);
  std::vector<float> want(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
  alignas(16) uint8_t stage[RowVecs<T>::kValue * 16];
  const int64_t n_tiles = (cols + Tile<T>::kElems - 1) / Tile<T>::kElems;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = base + r * row_bytes;
    dequantize_row(T, row, want.data(), cols);
    std::fill(got.begin(), got.end(), -12345.f);
    for (int64_t it = 0; it < n_tiles; ++it) {
      const TileSpan span = tile_span<T>(row, cols, it);
      ASSERT_LE(span.n_vecs, RowVecs<T>::kValue);
      std::memcpy(stage, span.aligned, static_cast<size_t>(span.n_vecs) * 16);  // the cp.async copies
      for (int k = 0; k < Tile<T>::kElems / 256; ++k) {
        for (int lane = 0; lane < 32; ++lane) {
          const int e = 256 * k + 8 * lane;
          if (e >= span.elems) continue;
          float v[8];
          Decode8<T>::run(stage + span.shift, e, span.shift == 0, v);
          for (int i = 0; i < 8; ++i) got[static_cast<size_t>(span.c0 + e + i)] = v[i];
        }
      }
    }
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(std::memcmp(&got[static_cast<size_t>(c)], &want[static_cast<size_t>(c)], sizeof(float)), 0)
          << ggml_type_name(T) << " " << rows << "x" << cols << " row " << r << " col " << c << ": " << got[static_cast<size_t>(c)]
          << " vs " << want[static_cast<size_t>(c)];
    }
  }
}

TEST(MatvecDecode, ThirtyTwoBlockAndFloatTypesMatchDequantizeRow) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 96}, {5, 1120}, {3, 4096}, {2, 32}}) {
    check<GgmlType::kF32>(rows, cols);
    check<GgmlType::kF16>(rows, cols);
    check<GgmlType::kBF16>(rows, cols);
    check<GgmlType::kQ8_0>(rows, cols);
    check<GgmlType::kQ4_0>(rows, cols);
  }
  check<GgmlType::kF16>(45, 200);  // F16 rows of 400 bytes: every other row starts 8 bytes off
  check<GgmlType::kF32>(45, 200);
}

TEST(MatvecDecode, KQuantsMatchDequantizeRow) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 1280}, {5, 256}, {3, 4096}, {4, 2304}, {2, 14336}}) {
    check<GgmlType::kQ4_K>(rows, cols);
    check<GgmlType::kQ6_K>(rows, cols);
  }
}

// Every row of every matrix of a job is computed by exactly one warp, from the right bytes, and
// written to the right output; SwiGLU pairs row j of gate with row j of up.
TEST(MatvecWork, EveryRowHasOneWarp) {
  const size_t row_bytes = 100;
  std::vector<uint8_t> a(row_bytes * 5), b(row_bytes * 1), c(row_bytes * 8);
  std::vector<float> ya(5), yb(1), yc(8);
  MatvecJob job;
  job.w[0] = a.data(), job.w[1] = b.data(), job.w[2] = c.data();
  job.y[0] = ya.data(), job.y[1] = yb.data(), job.y[2] = yc.data();
  job.n_rows[0] = 5, job.n_rows[1] = 1, job.n_rows[2] = 8;
  job.n_mats = 3;
  fill_first_warp(job);
  EXPECT_EQ(job.first_warp[3], 3 + 1 + 4);
  std::vector<int> seen_a(5), seen_b(1), seen_c(8);
  for (int64_t gw = 0; gw < job.first_warp[3]; ++gw) {
    const WarpRows w = warp_rows(job, row_bytes, gw);
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t i = w.out[r];
      const uint8_t* base = w.y == ya.data() ? a.data() : w.y == yb.data() ? b.data() : c.data();
      std::vector<int>& seen = w.y == ya.data() ? seen_a : w.y == yb.data() ? seen_b : seen_c;
      ASSERT_EQ(w.ld, static_cast<int64_t>(seen.size()));
      if (i < 0) {
        EXPECT_GE(w.row[r], base);  // a repeated valid row: read, never written
        EXPECT_LT(w.row[r], base + seen.size() * row_bytes);
        continue;
      }
      EXPECT_EQ(w.row[r], base + static_cast<size_t>(i) * row_bytes);
      ++seen[static_cast<size_t>(i)];
    }
  }
  for (const auto* seen : {&seen_a, &seen_b, &seen_c}) {
    for (int s : *seen) EXPECT_EQ(s, 1);
  }

  MatvecJob swiglu;
  swiglu.w[0] = c.data(), swiglu.w[1] = a.data();  // gate, up (as bytes: only addresses matter)
  swiglu.y[0] = swiglu.y[1] = yc.data();
  swiglu.n_rows[0] = swiglu.n_rows[1] = 5;
  swiglu.n_mats = 2;
  swiglu.epilogue = MatvecEpilogue::kSwiGlu;
  fill_first_warp(swiglu);
  EXPECT_EQ(swiglu.first_warp[2], 5);
  for (int64_t gw = 0; gw < 5; ++gw) {
    const WarpRows w = warp_rows(swiglu, row_bytes, gw);
    EXPECT_EQ(w.out[0], gw);
    EXPECT_EQ(w.out[1], -1);
    EXPECT_EQ(w.row[0], c.data() + gw * row_bytes);
    EXPECT_EQ(w.row[1], a.data() + gw * row_bytes);
    EXPECT_EQ(w.y, yc.data());
  }
}

}  // namespace
}  // namespace maas::cuda
