// interleave.cc — the kRows16 weight layout (quant_blocks.h): converting ggml's row order into
// groups of 16 interleaved rows at load time, back again (the variants without kRows16 kernels,
// the oracle), and reading one row of either layout as floats.
#include <cstddef>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas {
namespace {

constexpr int kG = 16;  // rows per group

// Where a row's bytes go. A row's ggml block is cut into runs of equal pieces (fp16 scales: 2
// bytes, Q4_K / Q6_K scale bytes: 1, quant bytes: 4); piece n of a run moves from src + n * size
// in the row's block to dst + n * dst_step + i * size in the group block for row i (the 16 rows'
// copies of a piece sit side by side). Interleaving and extracting walk this one map.
struct Piece {
  uint16_t src, dst, dst_step;
  uint8_t size, count;
};

std::vector<Piece> make_pieces(GgmlType t) {
  std::vector<Piece> p;
  auto add = [&](size_t src, size_t dst, int size, int count = 1, int dst_step = 0) {
    p.push_back({static_cast<uint16_t>(src), static_cast<uint16_t>(dst), static_cast<uint16_t>(dst_step),
                 static_cast<uint8_t>(size), static_cast<uint8_t>(count)});
  };
  switch (t) {
    case GgmlType::kQ8_0:
      add(offsetof(BlockQ8_0, d), offsetof(BlockQ8_0x16, d), 2);
      add(offsetof(BlockQ8_0, qs), offsetof(BlockQ8_0x16, qs), 4, 8, 64);
      break;
    case GgmlType::kQ4_0:
      // ggml: byte j holds elements j (low) and 16 + j (high): 4k + m is byte 4k + m, as wanted
      add(offsetof(BlockQ4_0, d), offsetof(BlockQ4_0x16, d), 2);
      add(offsetof(BlockQ4_0, qs), offsetof(BlockQ4_0x16, qs), 4, 4, 64);
      break;
    case GgmlType::kQ4_K:
      add(offsetof(BlockQ4K, d), offsetof(BlockQ4Kx16, d), 2);
      add(offsetof(BlockQ4K, dmin), offsetof(BlockQ4Kx16, dmin), 2);
      add(offsetof(BlockQ4K, scales), offsetof(BlockQ4Kx16, scales), 1, 12, 16);
      add(offsetof(BlockQ4K, qs), offsetof(BlockQ4Kx16, qs), 4, 32, 64);
      break;
    case GgmlType::kQ6_K:
      add(offsetof(BlockQ6K, d), offsetof(BlockQ6Kx16, d), 2);
      add(offsetof(BlockQ6K, scales), offsetof(BlockQ6Kx16, scales), 1, 16, 16);
      for (int h = 0; h < 2; ++h) {  // lines (h, k, 0 / 1 / 2) are 64 bytes apart, 192 per k
        const size_t line = offsetof(BlockQ6Kx16, q) + 64 * 3 * 8 * h;
        add(offsetof(BlockQ6K, ql) + 64 * h, line, 4, 8, 192);
        add(offsetof(BlockQ6K, ql) + 64 * h + 32, line + 64, 4, 8, 192);
        add(offsetof(BlockQ6K, qh) + 32 * h, line + 128, 4, 8, 192);
      }
      break;
    default:
      CHECK_MSG(false, "kRows16: unsupported type");
  }
  return p;
}

// One run's pieces of rows [i0, i1), with the piece size known to the compiler. blk[i] is row i's
// block in ggml's layout, group the interleaved group block.
template <int kSize>
inline void run_to_group(const Piece& p, const uint8_t* const* blk, uint8_t* group, int i0, int i1) {
  for (int n = 0; n < p.count; ++n) {
    uint8_t* o = group + p.dst + n * p.dst_step;
    for (int i = i0; i < i1; ++i) std::memcpy(o + i * kSize, blk[i] + p.src + n * kSize, kSize);
  }
}
template <int kSize>
inline void run_from_group(const Piece& p, const uint8_t* group, uint8_t* const* blk, int i0, int i1) {
  for (int n = 0; n < p.count; ++n) {
    const uint8_t* f = group + p.dst + n * p.dst_step;
    for (int i = i0; i < i1; ++i) std::memcpy(blk[i] + p.src + n * kSize, f + i * kSize, kSize);
  }
}

const std::vector<Piece>& pieces(GgmlType t) {
  static const std::vector<Piece> q8 = make_pieces(GgmlType::kQ8_0), q4 = make_pieces(GgmlType::kQ4_0),
                                   q4k = make_pieces(GgmlType::kQ4_K), q6k = make_pieces(GgmlType::kQ6_K);
  switch (t) {
    case GgmlType::kQ8_0: return q8;
    case GgmlType::kQ4_0: return q4;
    case GgmlType::kQ4_K: return q4k;
    default: return q6k;
  }
}

bool has_rows16(GgmlType t) {
  return t == GgmlType::kQ8_0 || t == GgmlType::kQ4_0 || t == GgmlType::kQ4_K || t == GgmlType::kQ6_K;
}

// A group block from the 16 rows' blocks blk[0..15].
void interleave_block(GgmlType t, const uint8_t* const* blk, uint8_t* group) {
  for (const Piece& p : pieces(t)) {
    switch (p.size) {
      case 4: run_to_group<4>(p, blk, group, 0, kG); break;
      case 2: run_to_group<2>(p, blk, group, 0, kG); break;
      default: run_to_group<1>(p, blk, group, 0, kG); break;
    }
  }
}

// Rows [i0, i1)'s blocks (blk[i]) in ggml's layout out of a group block.
void extract_block(GgmlType t, const uint8_t* group, uint8_t* const* blk, int i0, int i1) {
  for (const Piece& p : pieces(t)) {
    switch (p.size) {
      case 4: run_from_group<4>(p, group, blk, i0, i1); break;
      case 2: run_from_group<2>(p, group, blk, i0, i1); break;
      default: run_from_group<1>(p, group, blk, i0, i1); break;
    }
  }
}

}  // namespace

bool interleave_pays(const WeightMatrix& w) {
  return w.layout == WeightLayout::kRows && has_rows16(w.type) && w.n_rows % kG == 0 && w.n_rows > 0 &&
         kern::active_kernels().for_type_rows16(w.type) != nullptr;
}

WeightMatrix interleave_rows16(const WeightMatrix& w, void* dst) {
  CHECK(w.layout == WeightLayout::kRows && has_rows16(w.type) && w.n_rows % kG == 0);
  const int64_t nb = w.n_cols / ggml_traits(w.type).block_size;
  const size_t rb = w.row_bytes(), gb = rb * kG, blk = gb / static_cast<size_t>(nb);
  const auto* src = static_cast<const uint8_t*>(w.data);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t g = 0; g < w.n_rows / kG; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* rows[kG];
      for (int i = 0; i < kG; ++i) rows[i] = src + g * gb + i * rb + b * (blk / kG);
      interleave_block(w.type, rows, out + g * gb + b * blk);
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
  const int64_t nb = w.n_cols / ggml_traits(w.type).block_size;
  const size_t gb = w.row_bytes() * kG, blk = gb / static_cast<size_t>(nb);
  const uint8_t* group = base + static_cast<size_t>(r / kG) * gb;
  const int i = static_cast<int>(r % kG);
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* rows[kG] = {};
    rows[i] = row.data() + b * blk / kG;
    extract_block(w.type, group + b * blk, rows, i, i + 1);
  }
  dequantize_row(w.type, row.data(), dst, w.n_cols);
}

namespace kern {

void deinterleave_group16(const WeightMatrix& w, int64_t g, uint8_t* rows) {
  CHECK(w.layout == WeightLayout::kRows16);
  const int64_t nb = w.n_cols / ggml_traits(w.type).block_size;
  const size_t rb = w.row_bytes(), gb = rb * kG, blk = gb / static_cast<size_t>(nb);
  const auto* src = static_cast<const uint8_t*>(w.data) + g * gb;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* blks[kG];
    for (int i = 0; i < kG; ++i) blks[i] = rows + i * rb + b * (blk / kG);
    extract_block(w.type, src + b * blk, blks, 0, kG);
  }
}

}  // namespace kern
}  // namespace maas
