// interleave.cc — the kRows16 weight layout (quant_blocks.h): converting ggml's row order into
// groups of 16 interleaved rows at load time, back again (the variants without kRows16 kernels,
// the oracle), and reading one row of either layout as floats.
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas {
namespace {

constexpr int kG = 16;  // rows per group

// Group g's block b from the 16 kRows rows starting at `rows` (row stride row_bytes).
void interleave_block(GgmlType t, const uint8_t* rows, size_t row_bytes, int64_t b, uint8_t* out) {
  if (t == GgmlType::kQ8_0) {
    auto* o = reinterpret_cast<BlockQ8_0x16*>(out);
    for (int i = 0; i < kG; ++i) {
      const auto& blk = reinterpret_cast<const BlockQ8_0*>(rows + i * row_bytes)[b];
      o->d[i] = blk.d;
      for (int k = 0; k < 8; ++k) std::memcpy(o->qs[k][i], blk.qs + 4 * k, 4);
    }
  } else {
    auto* o = reinterpret_cast<BlockQ4_0x16*>(out);
    for (int i = 0; i < kG; ++i) {
      const auto& blk = reinterpret_cast<const BlockQ4_0*>(rows + i * row_bytes)[b];
      o->d[i] = blk.d;
      // ggml: byte j holds elements j (low) and 16 + j (high): 4k + m is byte 4k + m, as wanted
      for (int k = 0; k < 4; ++k) std::memcpy(o->qs[k][i], blk.qs + 4 * k, 4);
    }
  }
}

// Row i's block out of an interleaved group block (`in`), in ggml's layout (`out`).
void extract_block(GgmlType t, const uint8_t* in, int i, uint8_t* out) {
  if (t == GgmlType::kQ8_0) {
    const auto* g = reinterpret_cast<const BlockQ8_0x16*>(in);
    auto* blk = reinterpret_cast<BlockQ8_0*>(out);
    blk->d = g->d[i];
    for (int k = 0; k < 8; ++k) std::memcpy(blk->qs + 4 * k, g->qs[k][i], 4);
  } else {
    const auto* g = reinterpret_cast<const BlockQ4_0x16*>(in);
    auto* blk = reinterpret_cast<BlockQ4_0*>(out);
    blk->d = g->d[i];
    for (int k = 0; k < 4; ++k) std::memcpy(blk->qs + 4 * k, g->qs[k][i], 4);
  }
}

}  // namespace

bool interleave_pays(const WeightMatrix& w) {
  return w.layout == WeightLayout::kRows && (w.type == GgmlType::kQ8_0 || w.type == GgmlType::kQ4_0) &&
         w.n_rows % kG == 0 && w.n_rows > 0 && kern::active_kernels().mm_q8_0x16 != nullptr;
}

WeightMatrix interleave_rows16(const WeightMatrix& w, void* dst) {
  CHECK(w.layout == WeightLayout::kRows && (w.type == GgmlType::kQ8_0 || w.type == GgmlType::kQ4_0) &&
        w.n_rows % kG == 0);
  const size_t rb = w.row_bytes(), gb = rb * kG, blk = gb / static_cast<size_t>(w.n_cols / kQK0);
  const auto* src = static_cast<const uint8_t*>(w.data);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t g = 0; g < w.n_rows / kG; ++g) {
    for (int64_t b = 0; b < w.n_cols / kQK0; ++b) {
      interleave_block(w.type, src + g * gb, rb, b, out + g * gb + b * blk);
    }
  }
  WeightMatrix r = w;
  r.data = dst;
  r.layout = WeightLayout::kRows16;
  return r;
}

void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* dst) {
  CHECK(r >= 0 && r < w.n_rows);
  const auto* base = static_cast<const uint8_t*>(w.data);
  if (w.layout == WeightLayout::kRows) {
    dequantize_row(w.type, base + static_cast<size_t>(r) * w.row_bytes(), dst, w.n_cols);
    return;
  }
  // Rebuild the one row in ggml's layout from its slot in each interleaved block.
  thread_local std::vector<uint8_t> row;
  row.resize(w.row_bytes());
  const size_t gb = w.row_bytes() * kG, blk = gb / static_cast<size_t>(w.n_cols / kQK0);
  const uint8_t* group = base + static_cast<size_t>(r / kG) * gb;
  for (int64_t b = 0; b < w.n_cols / kQK0; ++b) {
    extract_block(w.type, group + b * blk, static_cast<int>(r % kG), row.data() + b * blk / kG);
  }
  dequantize_row(w.type, row.data(), dst, w.n_cols);
}

namespace kern {

void deinterleave_group16(const WeightMatrix& w, int64_t g, uint8_t* rows) {
  CHECK(w.layout == WeightLayout::kRows16);
  const size_t rb = w.row_bytes(), gb = rb * kG, blk = gb / static_cast<size_t>(w.n_cols / kQK0);
  const auto* src = static_cast<const uint8_t*>(w.data) + g * gb;
  for (int64_t b = 0; b < w.n_cols / kQK0; ++b) {
    for (int i = 0; i < kG; ++i) extract_block(w.type, src + b * blk, i, rows + i * rb + b * (blk / kG));
  }
}

}  // namespace kern
}  // namespace maas
