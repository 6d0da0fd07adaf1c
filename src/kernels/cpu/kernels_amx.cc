// kernels_amx.cc — prompt-sized matmuls on Intel AMX (Sapphire Rapids and later): the quantized
// types' integer dot products run on the tile unit (TDPBSSD / TDPBUSD: a 16 x 16 int32 tile from
// 16 x 32 weight bytes and 32 x 16 activation bytes per instruction), and AVX-512 scales each
// block's integer tile into float accumulators. It is the AVX-512 variant plus this whole-matmul
// path, which takes calls with at least kMinTokens tokens; decode stays on the AVX-512 tiles.
//
// Layouts. The A tile is 16 weight rows x 32 bytes of one block: each thread unpacks its 16-row
// group once per token chunk into int8 (Q8_0 bytes, Q4_0 nibble - 8, Q6_K q - 32) or uint8 (Q4_K
// nibbles), [block][row][32], with the block scales as floats beside them. The B tile wants the
// activations in the VNNI layout, B[k / 4][4 * token + k % 4]: the activations are quantized with
// the same rules as the other variants (BlockQ8A / BlockQ8K, so the integer sums are identical)
// and then packed per group of 16 tokens, once per call. Q6_K's 16-element sub-blocks use the
// first or second half of a 32-element B tile (4 of its 8 rows).
//
// Interleaved (kRows16) Q4_K / Q6_K groups are converted back to ggml's rows before the unpack;
// interleaved Q8_0 / Q4_0 matrices take the other orientation (amx_matmul_rows16): their
// blocks already are B tiles, and the activations' rows are the A tile.
//
// The tile registers are configured per thread (configure_tiles below, amx_tiles.h) and never
// released. F16 / BF16 weights take the AMX-BF16 path of kernels_amx_bf16.cc (dispatch.cc).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "kernels/cpu/amx_tiles.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas::kern {
namespace {

constexpr int kT = 16;                      // tokens per tile (C columns) and weight rows per tile (C rows)
constexpr int64_t kMinTokens = 16;          // fewer tokens: the AVX-512 tiles are as fast
// Interleaved K-quants are unpacked per call here, while the AVX-512 kRows16 kernels read them as
// they are: those win below ~64 tokens (1B Q4_K_M, 2 threads: pp16 93 vs 42 t/s, pp32 100 vs 65,
// pp64 about even, pp128 93 vs 113).
constexpr int64_t kMinTokensKRows16 = 64;
constexpr size_t kActChunkBytes = 1 << 20;  // packed activations per token chunk: stays in L2

// Tile registers: C accumulators, A (weights) and B (activations) for two blocks in flight, and
// the 16-element shapes of Q6_K. Macros, not constants: the tile intrinsics paste their register
// number into the instruction text, so it must reach them as a literal (the T* wrappers below
// expand these names first).
#define kC0 0
#define kC1 1
#define kA0 2
#define kA1 3
#define kB0 4
#define kB1 5
#define kA16 6
#define kB16 7
#define TLOAD(t, p, stride) _tile_loadd(t, p, stride)
#define TSTORE(t, p, stride) _tile_stored(t, p, stride)
#define TZERO(t) _tile_zero(t)
#define TDP_SS(c, a, b) _tile_dpbssd(c, a, b)
#define TDP_US(c, a, b) _tile_dpbusd(c, a, b)

// The int8 paths' tile shapes, loaded into the thread's tile registers unless it already holds
// them (amx_tiles.h: the bf16 path of kernels_amx_bf16.cc uses other shapes).
void configure_tiles() {
  static const amx::TileConfig config = [] {
    amx::TileConfig c;
    c.set(kC0, 16, 64);
    c.set(kC1, 16, 64);
    c.set(kA0, 16, 32);
    c.set(kA1, 16, 32);
    c.set(kB0, 8, 64);
    c.set(kB1, 8, 64);
    c.set(kA16, 16, 16);
    c.set(kB16, 4, 64);
    return c;
  }();
  amx::use_tile_shapes(amx::TileShapes::kInt8, config);
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// ---- activations ------------------------------------------------------------------------------

// 32 activation bytes of 16 tokens in the VNNI layout, and the tokens' block scales. For the
// K-quants, xs[s][j] = d_j * (sum of token j's bytes in 32-element sub-block s), for Q4_K's mins.
struct alignas(64) ActBlock32 {
  int8_t q[8][64];
  float d[16];
};
struct alignas(64) ActSuper {
  int8_t q[8][8][64];
  float d[16];
  float xs[8][16];
};
static_assert(sizeof(ActBlock32) == 576 && sizeof(ActSuper) == 4672);

// Token j's 32 bytes into column j of a B tile: dword k of the token goes to row k.
inline void scatter32(const int8_t* src, int j, int8_t (*q)[64]) {
  for (int k = 0; k < 8; ++k) std::memcpy(&q[k][4 * j], src + 4 * k, 4);
}

bool is_ktype(GgmlType t) { return t == GgmlType::kQ4_K || t == GgmlType::kQ6_K; }

size_t group_bytes(GgmlType t, int64_t n_cols) {
  return is_ktype(t) ? static_cast<size_t>(n_cols / kQKK) * sizeof(ActSuper)
                     : static_cast<size_t>(n_cols / kQK0) * sizeof(ActBlock32);
}

// Quantizes tokens [16 g, 16 g + 16) of x into group g of dst (missing tokens are zeros).
void pack_group(GgmlType type, const float* x, int64_t n_tokens, int64_t n_cols, int64_t g, uint8_t* dst,
                std::vector<uint8_t>& row) {
  row.resize(act_row_bytes(type, n_cols));
  std::memset(dst, 0, group_bytes(type, n_cols));
  for (int j = 0; j < kT && g * kT + j < n_tokens; ++j) {
    prepare_act_row(type, x + (g * kT + j) * n_cols, row.data(), n_cols);
    if (is_ktype(type)) {
      const auto* xb = reinterpret_cast<const BlockQ8K*>(row.data());
      auto* out = reinterpret_cast<ActSuper*>(dst);
      for (int64_t b = 0; b < n_cols / kQKK; ++b) {
        for (int s = 0; s < 8; ++s) {
          scatter32(xb[b].qs + 32 * s, j, out[b].q[s]);
          out[b].xs[s][j] = xb[b].d * static_cast<float>(xb[b].bsums[2 * s] + xb[b].bsums[2 * s + 1]);
        }
        out[b].d[j] = xb[b].d;
      }
    } else {
      const auto* xb = reinterpret_cast<const BlockQ8A*>(row.data());
      auto* out = reinterpret_cast<ActBlock32*>(dst);
      for (int64_t b = 0; b < n_cols / kQK0; ++b) {
        scatter32(xb[b].qs, j, out[b].q);
        out[b].d[j] = xb[b].d;
      }
    }
  }
}

// ---- weights ----------------------------------------------------------------------------------

// One thread's unpacked 16-row group: q holds, per 32 (Q6_K: 16) elements, the 16 rows' bytes
// contiguously (one A tile); sc the matching per-row float scales; mn Q4_K's dmin * m.
struct RowGroup {
  std::vector<int8_t> q;
  std::vector<float> sc, mn;
};

void unpack_rows(const WeightMatrix& w, int64_t r, RowGroup& g) {
  const uint8_t* base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * w.row_bytes();
  if (w.layout == WeightLayout::kRows16) {  // K-quants: back to ggml's rows first (r is 16-aligned)
    thread_local std::vector<uint8_t> rows;
    rows.resize(w.row_bytes() * kT);
    deinterleave_group16(w, r / kT, rows.data());
    base = rows.data();
  }
  const int64_t n = w.n_cols;
  const int64_t units = w.type == GgmlType::kQ6_K ? n / 16 : n / 32;  // A tiles per row group
  const int unit = w.type == GgmlType::kQ6_K ? 16 : 32;
  g.q.assign(static_cast<size_t>(n) * kT, 0);
  g.sc.assign(static_cast<size_t>(units) * kT, 0.f);
  if (w.type == GgmlType::kQ4_K) g.mn.assign(static_cast<size_t>(units) * kT, 0.f);
  for (int i = 0; i < kT && r + i < w.n_rows; ++i) {
    const uint8_t* row = base + static_cast<size_t>(i) * w.row_bytes();
    auto q_at = [&](int64_t u) { return g.q.data() + (u * kT + i) * unit; };
    auto sc_at = [&](int64_t u) -> float& { return g.sc[static_cast<size_t>(u * kT + i)]; };
    switch (w.type) {
      case GgmlType::kQ8_0: {
        const auto* blk = reinterpret_cast<const BlockQ8_0*>(row);
        for (int64_t b = 0; b < n / kQK0; ++b) {
          std::memcpy(q_at(b), blk[b].qs, kQK0);
          sc_at(b) = h2f(blk[b].d);
        }
        break;
      }
      case GgmlType::kQ4_0: {
        const auto* blk = reinterpret_cast<const BlockQ4_0*>(row);
        for (int64_t b = 0; b < n / kQK0; ++b) {
          int8_t* q = q_at(b);
          for (int k = 0; k < 16; ++k) {
            q[k] = static_cast<int8_t>((blk[b].qs[k] & 15) - 8);
            q[k + 16] = static_cast<int8_t>((blk[b].qs[k] >> 4) - 8);
          }
          sc_at(b) = h2f(blk[b].d);
        }
        break;
      }
      case GgmlType::kQ4_K: {
        const auto* blk = reinterpret_cast<const BlockQ4K*>(row);
        for (int64_t b = 0; b < n / kQKK; ++b) {
          const float d = h2f(blk[b].d), dmin = h2f(blk[b].dmin);
          for (int s = 0; s < 8; ++s) {
            uint8_t sc, m;
            scale_min_k4(s, blk[b].scales, &sc, &m);
            const uint8_t* qs = blk[b].qs + 32 * (s / 2);
            int8_t* q = q_at(8 * b + s);  // unsigned nibbles (TDPBUSD)
            for (int k = 0; k < 32; ++k) q[k] = static_cast<int8_t>(s % 2 ? qs[k] >> 4 : qs[k] & 15);
            sc_at(8 * b + s) = d * sc;
            g.mn[static_cast<size_t>((8 * b + s) * kT + i)] = dmin * m;
          }
        }
        break;
      }
      case GgmlType::kQ6_K: {
        const auto* blk = reinterpret_cast<const BlockQ6K*>(row);
        for (int64_t b = 0; b < n / kQKK; ++b) {
          const float d = h2f(blk[b].d);
          int8_t vals[kQKK];
          for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = blk[b].ql + 64 * h;
            const uint8_t* qh = blk[b].qh + 32 * h;
            int8_t* v = vals + 128 * h;
            for (int l = 0; l < 32; ++l) {
              v[l] = static_cast<int8_t>(((ql[l] & 15) | ((qh[l] >> 0 & 3) << 4)) - 32);
              v[l + 32] = static_cast<int8_t>(((ql[l + 32] & 15) | ((qh[l] >> 2 & 3) << 4)) - 32);
              v[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4)) - 32);
              v[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)) - 32);
            }
          }
          for (int s = 0; s < 16; ++s) {
            std::memcpy(q_at(16 * b + s), vals + 16 * s, 16);
            sc_at(16 * b + s) = d * blk[b].scales[s];
          }
        }
        break;
      }
      default: break;
    }
  }
}

// ---- tiles ------------------------------------------------------------------------------------

// C = A . B into c (16 x 16 int32): A is 16 rows of 32 bytes, a_stride apart; B is 8 rows of 64
// bytes (the VNNI layout). kUnsignedA: A's bytes are u8 (TDPBUSD), else s8 (TDPBSSD).
template <bool kUnsignedA>
inline void dot1(const void* a, size_t a_stride, const void* b, int32_t* c) {
  TLOAD(kA0, a, a_stride);
  TLOAD(kB0, b, 64);
  TZERO(kC0);
  if constexpr (kUnsignedA) {
    TDP_US(kC0, kA0, kB0);
  } else {
    TDP_SS(kC0, kA0, kB0);
  }
  TSTORE(kC0, c, 64);
}

// Two independent products in flight on separate tiles: c0 = A0 . B0, c1 = A1 . B1 (as dot1).
template <bool kUnsignedA>
inline void dot2(const void* a0, const void* a1, size_t a_stride, const void* b0, const void* b1, int32_t* c0,
                 int32_t* c1) {
  TLOAD(kA0, a0, a_stride);
  TLOAD(kB0, b0, 64);
  TLOAD(kA1, a1, a_stride);
  TLOAD(kB1, b1, 64);
  TZERO(kC0);
  TZERO(kC1);
  if constexpr (kUnsignedA) {
    TDP_US(kC0, kA0, kB0);
    TDP_US(kC1, kA1, kB1);
  } else {
    TDP_SS(kC0, kA0, kB0);
    TDP_SS(kC1, kA1, kB1);
  }
  TSTORE(kC0, c0, 64);
  TSTORE(kC1, c1, 64);
}

// acc[i] += C[i] * (dx * scale[i]) for the 16 rows of a stored C tile.
inline void scale_add(const int32_t* c, __m512 dx, const float* scale, __m512 (&acc)[kT]) {
  for (int i = 0; i < kT; ++i) {
    const __m512 s = _mm512_mul_ps(dx, _mm512_set1_ps(scale[i]));
    acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + kT * i)), s, acc[i]);
  }
}

// 16 rows x 16 tokens over all of K for the 32-element-block types (signed x signed), two blocks
// in flight on separate tiles.
void tile_q32(const RowGroup& g, const ActBlock32* x, int64_t nb, __m512 (&acc)[kT]) {
  alignas(64) int32_t c0[kT * kT], c1[kT * kT];
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    dot2<false>(g.q.data() + b * 512, g.q.data() + (b + 1) * 512, 32, x[b].q, x[b + 1].q, c0, c1);
    scale_add(c0, _mm512_load_ps(x[b].d), g.sc.data() + b * kT, acc);
    scale_add(c1, _mm512_load_ps(x[b + 1].d), g.sc.data() + (b + 1) * kT, acc);
  }
  if (b < nb) {
    dot1<false>(g.q.data() + b * 512, 32, x[b].q, c0);
    scale_add(c0, _mm512_load_ps(x[b].d), g.sc.data() + b * kT, acc);
  }
}

// Q4_K: unsigned nibbles x signed activations per 32-element sub-block, scaled by d * sc; the
// mins come off as dmin * m * (d_x * sum of the sub-block's activation bytes).
void tile_q4k(const RowGroup& g, const ActSuper* x, int64_t nsb, __m512 (&acc)[kT]) {
  alignas(64) int32_t c0[kT * kT], c1[kT * kT];
  for (int64_t b = 0; b < nsb; ++b) {
    const __m512 dx = _mm512_load_ps(x[b].d);
    for (int s = 0; s < 8; s += 2) {
      const int64_t u = 8 * b + s;
      dot2<true>(g.q.data() + u * 512, g.q.data() + (u + 1) * 512, 32, x[b].q[s], x[b].q[s + 1], c0, c1);
      scale_add(c0, dx, g.sc.data() + u * kT, acc);
      scale_add(c1, dx, g.sc.data() + (u + 1) * kT, acc);
      const __m512 xs0 = _mm512_load_ps(x[b].xs[s]), xs1 = _mm512_load_ps(x[b].xs[s + 1]);
      const float* m0 = g.mn.data() + u * kT;
      const float* m1 = m0 + kT;
      for (int i = 0; i < kT; ++i) {
        acc[i] = _mm512_fnmadd_ps(_mm512_set1_ps(m0[i]), xs0, acc[i]);
        acc[i] = _mm512_fnmadd_ps(_mm512_set1_ps(m1[i]), xs1, acc[i]);
      }
    }
  }
}

// Q6_K: (q - 32) x activations per 16-element sub-block, scaled by d * scale. Sub-block 2s + h
// reads rows 4h..4h+3 of the activations' 32-element B tile s.
void tile_q6k(const RowGroup& g, const ActSuper* x, int64_t nsb, __m512 (&acc)[kT]) {
  alignas(64) int32_t c0[kT * kT], c1[kT * kT];
  for (int64_t b = 0; b < nsb; ++b) {
    const __m512 dx = _mm512_load_ps(x[b].d);
    for (int s = 0; s < 8; ++s) {
      const int64_t u = 16 * b + 2 * s;
      TLOAD(kA16, g.q.data() + u * 256, 16);
      TLOAD(kB16, x[b].q[s][0], 64);
      TZERO(kC0);
      TDP_SS(kC0, kA16, kB16);
      TSTORE(kC0, c0, 64);
      TLOAD(kA16, g.q.data() + (u + 1) * 256, 16);
      TLOAD(kB16, x[b].q[s][4], 64);
      TZERO(kC1);
      TDP_SS(kC1, kA16, kB16);
      TSTORE(kC1, c1, 64);
      scale_add(c0, dx, g.sc.data() + u * kT, acc);
      scale_add(c1, dx, g.sc.data() + (u + 1) * kT, acc);
    }
  }
}

// Scratch that outlives calls (grow-only): the packed activations live with the calling thread,
// each worker's row group with the worker.
std::vector<uint8_t>& packed_scratch() {
  thread_local std::vector<uint8_t> buf;
  return buf;
}

// ---- kRows16 matrices: the weights are the B tile ----------------------------------------------
//
// An interleaved Q8_0 block (quant_blocks.h) is qs[k][row][4]: exactly the VNNI layout of a B tile
// whose 16 columns are the group's rows. So the weights load straight from memory as B (Q4_0:
// after a vectorized nibble unpack, once per row group and token chunk), the activations' BlockQ8A
// rows load straight as A (16 tokens x 32 bytes, stride one activation row), and C[token][row]
// holds 16 rows of one token: the accumulators are per token, written to y without a transpose.
// Nothing is packed per call but the activations' quantization.

// Q4_0 group block -> B tile bytes: rows k < 4 the low nibbles of line k, rows 4..7 the high, - 8.
inline void unpack_q4_0x16(const BlockQ4_0x16& blk, int8_t* out) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  for (int k = 0; k < 4; ++k) {
    const __m512i raw = _mm512_loadu_si512(blk.qs[k]);
    _mm512_store_si512(out + 64 * k, _mm512_sub_epi8(_mm512_and_si512(raw, m4), eight));
    _mm512_store_si512(out + 64 * (k + 4), _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), m4), eight));
  }
}

// acc[j] += C[j] * (d_w(16 rows) * d_x[token j]) for the 16 token rows of a stored C tile.
inline void scale_add_rows16(const int32_t* c, __m512 dw, const uint8_t* x, size_t x_row_bytes, int64_t b,
                             __m512 (&acc)[kT]) {
  for (int j = 0; j < kT; ++j) {
    const float dx = reinterpret_cast<const BlockQ8A*>(x + j * x_row_bytes)[b].d;
    acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + kT * j)), _mm512_mul_ps(dw, _mm512_set1_ps(dx)),
                             acc[j]);
  }
}

// Software prefetch of a row group's blocks this far ahead: the tile loads of one sequential
// stream per thread otherwise wait on DRAM (perf of pp16 Q8_0: over half the samples on the
// instructions after the weight tile loads), as in the AVX-512 decode kernels.
constexpr size_t kPrefetchBytes = 2048;
inline void prefetch_span(const uint8_t* p, size_t n) {
  for (size_t o = 0; o < n; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchBytes + o), _MM_HINT_T0);
}

// 16 tokens (activation rows from x) x one 16-row group over all blocks. Block b's B tile is at
// wq + b * qstride (Q8_0: in the group's blocks; Q4_0: unpacked), its 16 fp16 scales at
// wd + b * dstride. prefetch: wd's blocks are read from memory here (Q8_0, first token group).
void tile_rows16(const int8_t* wq, size_t qstride, const uint8_t* wd, size_t dstride, const uint8_t* x,
                 size_t x_row_bytes, int64_t nb, bool prefetch, __m512 (&acc)[kT]) {
  alignas(64) int32_t c0[kT * kT], c1[kT * kT];
  const uint8_t* xq = x + offsetof(BlockQ8A, qs);
  auto dw_at = [&](int64_t b) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wd + b * dstride)));
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    if (prefetch) prefetch_span(wd + b * dstride, 2 * dstride);
    dot2<false>(xq + b * sizeof(BlockQ8A), xq + (b + 1) * sizeof(BlockQ8A), x_row_bytes, wq + b * qstride,
                wq + (b + 1) * qstride, c0, c1);
    scale_add_rows16(c0, dw_at(b), x, x_row_bytes, b, acc);
    scale_add_rows16(c1, dw_at(b + 1), x, x_row_bytes, b + 1, acc);
  }
  if (b < nb) {
    dot1<false>(xq + b * sizeof(BlockQ8A), x_row_bytes, wq + b * qstride, c0);
    scale_add_rows16(c0, dw_at(b), x, x_row_bytes, b, acc);
  }
}

bool amx_matmul_rows16(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const int64_t nb = w.n_cols / kQK0;
  const size_t xrb = act_row_bytes(w.type, w.n_cols), group_bytes16 = w.row_bytes() * kT;
  const size_t wstride = group_bytes16 / static_cast<size_t>(nb);  // bytes per interleaved block
  const int64_t n_groups = (n_tokens + kT - 1) / kT;
  // Activation rows, the last group padded with zero rows (d = 0).
  std::vector<uint8_t>& act = packed_scratch();
  if (act.size() < xrb * static_cast<size_t>(n_groups * kT)) act.resize(xrb * static_cast<size_t>(n_groups * kT));
  pool.run([&](int ith, int nth) {
    long t0, t1;
    ThreadPool::split(static_cast<long>(n_groups * kT), ith, nth, kT, &t0, &t1);
    for (long t = t0; t < t1; ++t) {
      uint8_t* row = act.data() + static_cast<size_t>(t) * xrb;
      if (t < n_tokens) {
        prepare_act_row(w.type, x + t * w.n_cols, row, w.n_cols);
      } else {
        std::memset(row, 0, xrb);
      }
    }
  });
  const int64_t chunk_groups = std::max<int64_t>(1, static_cast<int64_t>(kActChunkBytes / (xrb * kT)));
  // Row groups are dealt in chunks from a shared counter (about 8 per thread), not in fixed halves:
  // on this shared host one core is often slower, and the other waited at the join (perf of pp16
  // Q8_0: 13% of samples spinning in the pool).
  const long n_row_groups = static_cast<long>(w.n_rows / kT);
  pool.deal(n_row_groups, std::max(1L, n_row_groups / (8 * pool.n_threads())), [&](long u0, long u1) {
    configure_tiles();
    thread_local std::vector<int8_t> unpacked;  // Q4_0: the row group's B tiles
    const int64_t r0 = u0 * kT, r1 = u1 * kT;
    for (int64_t c0 = 0; c0 < n_groups; c0 += chunk_groups) {
      const int64_t c1 = std::min(n_groups, c0 + chunk_groups);
      for (int64_t r = r0; r < r1; r += kT) {
        const uint8_t* group = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r / kT) * group_bytes16;
        const int8_t* wq;
        size_t stride;
        bool from_memory = false;
        if (w.type == GgmlType::kQ8_0) {
          wq = reinterpret_cast<const int8_t*>(group + offsetof(BlockQ8_0x16, qs));
          stride = wstride;
          from_memory = c0 == 0;
        } else {
          unpacked.resize(static_cast<size_t>(nb) * 512 + 64);
          int8_t* u8 = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(unpacked.data()) + 63) & ~uintptr_t{63});
          for (int64_t b = 0; b < nb; ++b) {
            if (c0 == 0) prefetch_span(group + b * wstride, wstride);
            unpack_q4_0x16(*reinterpret_cast<const BlockQ4_0x16*>(group + b * wstride), u8 + b * 512);
          }
          wq = u8;
          stride = 512;
        }
        for (int64_t g = c0; g < c1; ++g) {
          __m512 acc[kT];
          for (int j = 0; j < kT; ++j) acc[j] = _mm512_setzero_ps();
          tile_rows16(wq, stride, group, wstride, act.data() + static_cast<size_t>(g * kT) * xrb, xrb, nb,
                      from_memory && g == c0, acc);
          const int toks = static_cast<int>(std::min<int64_t>(kT, n_tokens - g * kT));
          for (int j = 0; j < toks; ++j) _mm512_storeu_ps(y + (g * kT + j) * w.n_rows + r, acc[j]);
        }
      }
    }
  });
  return true;
}

}  // namespace

bool amx_matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const GgmlType t = w.type;
  if (n_tokens < kMinTokens) return false;
  if (w.layout == WeightLayout::kRows16 && is_ktype(t) && n_tokens < kMinTokensKRows16) return false;
  if (w.layout == WeightLayout::kRows16 && (t == GgmlType::kQ8_0 || t == GgmlType::kQ4_0)) {
    return amx_matmul_rows16(w, x, n_tokens, y, pool);
  }
  if (t != GgmlType::kQ8_0 && t != GgmlType::kQ4_0 && t != GgmlType::kQ4_K && t != GgmlType::kQ6_K) return false;

  // Activations: quantized and packed once, groups split across the threads.
  const int64_t n_groups = (n_tokens + kT - 1) / kT;
  const size_t gbytes = group_bytes(t, w.n_cols);
  std::vector<uint8_t>& packed = packed_scratch();
  if (packed.size() < gbytes * static_cast<size_t>(n_groups) + 64) packed.resize(gbytes * static_cast<size_t>(n_groups) + 64);
  uint8_t* act = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(packed.data()) + 63) & ~uintptr_t{63});
  pool.run([&](int ith, int nth) {
    thread_local std::vector<uint8_t> row;
    long g0, g1;
    ThreadPool::split(static_cast<long>(n_groups), ith, nth, 1, &g0, &g1);
    for (long g = g0; g < g1; ++g) pack_group(t, x, n_tokens, w.n_cols, g, act + static_cast<size_t>(g) * gbytes, row);
  });

  // Token chunks keep the packed activations a thread sweeps per row group within L2.
  const int64_t chunk_groups = std::max<int64_t>(1, static_cast<int64_t>(kActChunkBytes / gbytes));
  // Row groups dealt in chunks from a counter, as in amx_matmul_rows16.
  const long n_row_groups = static_cast<long>((w.n_rows + kT - 1) / kT);
  pool.deal(n_row_groups, std::max(1L, n_row_groups / (8 * pool.n_threads())), [&](long u0, long u1) {
    configure_tiles();
    thread_local RowGroup rg;
    const int64_t r0 = u0 * kT, r1 = std::min<int64_t>(w.n_rows, u1 * kT);
    for (int64_t c0 = 0; c0 < n_groups; c0 += chunk_groups) {
      const int64_t c1 = std::min(n_groups, c0 + chunk_groups);
      for (int64_t r = r0; r < r1; r += kT) {
        unpack_rows(w, r, rg);
        for (int64_t g = c0; g < c1; ++g) {
          __m512 acc[kT];
          for (int i = 0; i < kT; ++i) acc[i] = _mm512_setzero_ps();
          const uint8_t* xg = act + static_cast<size_t>(g) * gbytes;
          if (t == GgmlType::kQ4_K) {
            tile_q4k(rg, reinterpret_cast<const ActSuper*>(xg), w.n_cols / kQKK, acc);
          } else if (t == GgmlType::kQ6_K) {
            tile_q6k(rg, reinterpret_cast<const ActSuper*>(xg), w.n_cols / kQKK, acc);
          } else {
            tile_q32(rg, reinterpret_cast<const ActBlock32*>(xg), w.n_cols / kQK0, acc);
          }
          // acc[i] holds row r + i for the group's 16 tokens; y is token-major.
          alignas(64) float out[kT][kT];
          for (int i = 0; i < kT; ++i) _mm512_store_ps(out[i], acc[i]);
          const int rows = static_cast<int>(std::min<int64_t>(kT, r1 - r));
          const int toks = static_cast<int>(std::min<int64_t>(kT, n_tokens - g * kT));
          for (int j = 0; j < toks; ++j) {
            float* yr = y + (g * kT + j) * w.n_rows + r;
            for (int i = 0; i < rows; ++i) yr[i] = out[i][j];
          }
        }
      }
    }
  });
  return true;
}

}  // namespace maas::kern
