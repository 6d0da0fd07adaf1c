// kernels_amx_bf16.cc — prompt-sized matmuls with F16 and BF16 weights on the AMX-BF16 tile unit
// (Sapphire Rapids and later). TDPBF16PS adds to a 16 x 16 fp32 C tile the products of a 16 x 32
// bf16 A tile (16 weight rows, 32 columns) and a B tile holding the same 32 columns of 16 tokens.
// The tile unit has no fp16 multiply on these CPUs, so the operands are split into bf16 parts:
//
//   F16 weight    w = w_hi + w_lo exactly: w_hi is w rounded to 8 significant bits (a bf16), and
//                 w - w_hi has at most 3 (a bf16 too).
//   BF16 weight   w is a bf16 already.
//   activation    x = x_hi + x_lo + e: x_hi = x rounded to 8 bits, x_lo = bf16(x - x_hi),
//                 |e| <= 2^-16 |x|.
//
//   F16:  y = w_hi.x_hi + w_lo.x_hi + w_hi.x_lo   (drops w_lo.x_lo, at most 2^-16 |w x| a term)
//   BF16: y = w.x_hi + w.x_lo
//
// A product of two bf16 is exact in fp32 and C accumulates in fp32, so the result is nearly as
// accurate as the AVX-512 FMA tiles' (fp32 x, exact weights) and far more than llama.cpp's F16
// path, which rounds x to fp16 (up to 2^-11 a term). Measured against the double-precision oracle
// (matmul_test AmxBf16.AccuracyVsAvx512: 256 rows x 2048 columns, 64 tokens, relative RMS error
// over all outputs): F16 3.7e-6 here vs 2.1e-7 on the AVX-512 tiles, BF16 2.5e-6 vs 2.1e-7.
//
// Layouts. A row group's A tiles: per k-step (32 columns) the hi tile, then for F16 the lo tile,
// 16 rows x 32 bf16 each. A token group's B tiles: per k-step the hi tile, then the lo tile, in
// the VNNI pair layout B[p][2 * token + q] = x[token][32 s + 2 p + q]. Columns past n_cols, rows
// past n_rows and tokens past n_tokens are zeros in the tiles and never written out.
//
// Work: the activations are split and packed once per call; the products run in units of a token
// chunk x a block of row pairs, which threads take as they become free (Plan below). Within a
// unit a chunk's activations of one K-block stay in L2 while the row pairs' weights stream past,
// with C tiles waiting in a per-thread buffer between K-blocks, so an F16 weight is converted
// once per chunk of up to 512 tokens. The conversion does not overlap the tile products
// (measured: vector work placed between TDPBF16PS instructions adds its full time), so it runs as
// its own step per row pair and K-block. 1B F16 shapes, one thread: about 5x the AVX-512 tiles'
// GFLOP/s at 512 tokens, 4x at 64.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/cpu/amx_tiles.h"
#include "kernels/kernels_internal.h"

namespace maas::kern {
namespace {

constexpr int kT = 16;                   // weight rows per row group, tokens per token group
constexpr int64_t kK = 32;               // columns per k-step (a tile row: 32 bf16)
constexpr int64_t kTileElems = kT * kK;  // bf16 per tile: 16 rows x 64 bytes
constexpr int64_t kMinTokens = 16;       // fewer would leave most of each B tile empty

// Tile registers (literals: the intrinsics paste them into the instruction text). C[i][j]: row
// group i x token group j; A: the two row groups' current weight tile; B: the two token groups'.
#define kC00 0
#define kC01 1
#define kC10 2
#define kC11 3
#define kA0 4
#define kA1 5
#define kB0 6
#define kB1 7

void configure_tiles() {
  static const amx::TileConfig config = [] {
    amx::TileConfig c;
    for (int t = 0; t < 8; ++t) c.set(t, 16, 64);  // every tile: 16 rows of 64 bytes
    return c;
  }();
  amx::use_tile_shapes(amx::TileShapes::kBf16, config);
}

// A 64-byte-aligned view of a grow-only buffer of at least `bytes` bytes.
template <class T>
T* aligned_scratch(std::vector<uint8_t>& buf, size_t bytes) {
  if (buf.size() < bytes + 64) buf.resize(bytes + 64);
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t{63});
}

// The first n lanes (n clamped to [0, lanes]).
inline __mmask16 mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}
inline __mmask32 mask32(int64_t n) {
  return n >= 32 ? ~__mmask32{0} : n <= 0 ? 0 : static_cast<__mmask32>((1u << n) - 1);
}

// Transposes the 16 x 16 dwords held in r (row i in r[i]): r[i][j] becomes r[j][i].
inline void transpose16x16(__m512i (&r)[16]) {
  __m512i a[16], b[16];
  for (int k = 0; k < 16; k += 2) {  // a[k], a[k+1]: per 128-bit lane, rows k, k+1 interleaved
    a[k] = _mm512_unpacklo_epi32(r[k], r[k + 1]);
    a[k + 1] = _mm512_unpackhi_epi32(r[k], r[k + 1]);
  }
  for (int k = 0; k < 16; k += 4) {  // b[k + m], lane L: column 4L + m of rows k .. k + 3
    b[k] = _mm512_unpacklo_epi64(a[k], a[k + 2]);
    b[k + 1] = _mm512_unpackhi_epi64(a[k], a[k + 2]);
    b[k + 2] = _mm512_unpacklo_epi64(a[k + 1], a[k + 3]);
    b[k + 3] = _mm512_unpackhi_epi64(a[k + 1], a[k + 3]);
  }
  for (int m = 0; m < 4; ++m) {  // column 4L + m: lane L of b[m], b[4 + m], b[8 + m], b[12 + m]
    const __m512i c = _mm512_shuffle_i32x4(b[m], b[4 + m], 0x88), d = _mm512_shuffle_i32x4(b[m], b[4 + m], 0xDD);
    const __m512i e = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0x88);
    const __m512i f = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0xDD);
    r[m] = _mm512_shuffle_i32x4(c, e, 0x88);
    r[4 + m] = _mm512_shuffle_i32x4(d, f, 0x88);
    r[8 + m] = _mm512_shuffle_i32x4(c, e, 0xDD);
    r[12 + m] = _mm512_shuffle_i32x4(d, f, 0xDD);
  }
}

// ---- operand splits ---------------------------------------------------------------------------

// f rounded to 8 significant bits, as a float: add half a bf16 unit to the bits and clear the low
// half (to nearest, ties away from zero). Kept as a float for the exact residual f - hi.
inline __m512 round_bf16(__m512 f) {
  const __m512i half = _mm512_set1_epi32(0x8000), top = _mm512_set1_epi32(static_cast<int32_t>(0xFFFF0000u));
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_add_epi32(_mm512_castps_si512(f), half), top));
}

// 32 floats that are bf16 values (f0: the first 16) as 32 bf16: their high halves.
inline __m512i pack_exact(__m512 f0, __m512 f1) {
  const __m512i odd = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27,
                                       25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  return _mm512_permutex2var_epi16(_mm512_castps_si512(f0), odd, _mm512_castps_si512(f1));
}

// 32 activations (f0: the first 16) -> x_hi and x_lo, 32 bf16 each in column order.
inline void split_x(__m512 f0, __m512 f1, __m512i& hi, __m512i& lo) {
  const __m512 h0 = round_bf16(f0), h1 = round_bf16(f1);
  hi = pack_exact(h0, h1);
  const __m512bh l = _mm512_cvtne2ps_pbh(_mm512_sub_ps(f1, h1), _mm512_sub_ps(f0, h0));  // rounds
  lo = reinterpret_cast<const __m512i&>(l);
}

// ---- activations: fp32 -> bf16 hi + lo B tiles ------------------------------------------------

// The first n_toks rows of x (16 at most, n_cols floats each) into one token group's B tiles.
// A token's 32 bf16 of a k-step are 16 column pairs (dwords); the transpose puts pair p of token j
// at row p, dword j.
void pack_act_group(const float* x, int64_t n_cols, int n_toks, int64_t n_k, uint16_t* dst) {
  for (int64_t s = 0; s < n_k; ++s, dst += 2 * kTileElems) {
    const int64_t c = s * kK;
    const __mmask16 m0 = mask16(n_cols - c), m1 = mask16(n_cols - c - 16);
    __m512i hi[kT], lo[kT];
    for (int j = 0; j < kT; ++j) {
      if (j < n_toks) {
        const float* xj = x + j * n_cols + c;
        split_x(_mm512_maskz_loadu_ps(m0, xj), _mm512_maskz_loadu_ps(m1, xj + 16), hi[j], lo[j]);
      } else {
        hi[j] = lo[j] = _mm512_setzero_si512();
      }
    }
    transpose16x16(hi);
    transpose16x16(lo);
    for (int p = 0; p < kT; ++p) {
      _mm512_store_si512(dst + p * kK, hi[p]);
      _mm512_store_si512(dst + kTileElems + p * kK, lo[p]);
    }
  }
}

// ---- weights: F16 -> bf16 hi + lo A tiles, BF16 copied -----------------------------------------

// Bf16 elements per k-step in a row group's A tiles: hi and lo for F16, the weights for BF16.
inline int64_t a_step(bool f16) { return f16 ? 2 * kTileElems : kTileElems; }

// 32 weights of one row (mask m: columns past n_cols and missing rows read as zeros) into the
// row of an A tile at dst: F16 split into w_hi there and w_lo one tile on (both exact, so packed
// without rounding), BF16 copied.
inline void convert_row_step(const uint16_t* src, __mmask32 m, bool f16, uint16_t* dst) {
  if (!f16) {
    _mm512_store_si512(dst, _mm512_maskz_loadu_epi16(m, src));
    return;
  }
  const __m512 f0 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>(m), src));
  const __m512 f1 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>(m >> 16), src + 16));
  const __m512 h0 = round_bf16(f0), h1 = round_bf16(f1);
  _mm512_store_si512(dst, pack_exact(h0, h1));
  _mm512_store_si512(dst + kTileElems, pack_exact(_mm512_sub_ps(f0, h0), _mm512_sub_ps(f1, h1)));
}

// ---- blocking ---------------------------------------------------------------------------------

// One call's blocking. Tokens are cut into chunks, the rows into row blocks and those into row
// pairs, the columns into K-blocks. A (chunk, row block) is a unit of work: its K-blocks run in
// turn, each over all the block's row pairs, so the chunk's B tiles of one K-block stay in L2
// while the row pairs' weights stream past, and the block's C tiles wait in a per-thread buffer
// from one K-block to the next. Threads take units in order as they finish the previous one; a
// unit's outputs do not depend on which thread runs it, so results are the same for any count.
struct Plan {
  bool f16 = false;
  int64_t n_k = 0;           // k-steps over all columns (n_cols padded to a multiple of 32)
  int64_t n_groups = 0;      // token groups (n_tokens padded to a multiple of 16)
  int64_t chunk_groups = 0;  // token groups per chunk
  int64_t kb_steps = 0;      // k-steps per K-block
  int64_t rb_rows = 0;       // rows per row block, a multiple of 32
  int64_t n_rblocks = 0;     // row blocks
  int64_t n_units() const { return (n_groups + chunk_groups - 1) / chunk_groups * n_rblocks; }
  int64_t n_tpairs() const { return (chunk_groups + 1) / 2; }  // token-group pairs per chunk
};

// Sizes measured on a 2 MiB-L2 Sapphire Rapids (1B F16 shapes, 512 tokens, one thread): a quarter
// of the C budget, or 256-token chunks, was 15-20% slower; twice the activation slice, 50%.
constexpr int64_t kMaxChunkGroups = 32;     // 512 tokens: an F16 weight converted once per chunk
constexpr int64_t kMaxKbSteps = 64;         // 2048 columns: A tiles of a row pair up to 256 KiB
constexpr size_t kActSliceBytes = 1 << 20;  // a chunk's B tiles of one K-block
constexpr size_t kCBytes = 1 << 20;         // a row block's C tiles over a chunk
// Units per thread and chunk: taking units as they come evens out threads that run at different
// speeds (a busy SMT sibling, the OS), but each row block reloads the activations into L2, so
// blocks keep at least 4 row pairs (on this 2-core VM, 2 threads: 2x the static split of 2048
// rows when one core was slowed down, 20% slower with blocks of 2 row pairs on 512 rows).
constexpr int64_t kUnitsPerThread = 4;
constexpr int64_t kMinBlockPairs = 4;

// The size of the parts when n is cut into the fewest parts of at most max_part, rounded up to a
// multiple of `align` (the last part is the shorter one).
int64_t even_part(int64_t n, int64_t max_part, int64_t align) {
  const int64_t parts = (n + max_part - 1) / max_part;
  const int64_t part = (n + parts - 1) / parts;
  return (part + align - 1) / align * align;
}

Plan make_plan(const WeightMatrix& w, int64_t n_tokens, int n_threads) {
  Plan p;
  p.f16 = w.type == GgmlType::kF16;
  p.n_k = (w.n_cols + kK - 1) / kK;
  p.n_groups = (n_tokens + kT - 1) / kT;
  p.chunk_groups = std::min(p.n_groups, even_part(p.n_groups, kMaxChunkGroups, 2));
  const int64_t slice_steps = static_cast<int64_t>(kActSliceBytes) / (p.chunk_groups * 2 * kTileElems * 2);
  p.kb_steps = even_part(p.n_k, std::clamp<int64_t>(slice_steps, 4, kMaxKbSteps), 1);
  const int64_t c_bytes_per_pair = p.n_tpairs() * 4 * kT * kT * 4;
  const int64_t max_pairs = std::max<int64_t>(1, static_cast<int64_t>(kCBytes) / c_bytes_per_pair);
  const int64_t n_pairs = (w.n_rows + 2 * kT - 1) / (2 * kT);
  const int64_t balance_pairs = std::max<int64_t>(kMinBlockPairs, n_pairs / (kUnitsPerThread * n_threads));
  p.rb_rows = 2 * kT * std::min(max_pairs, balance_pairs);
  p.n_rblocks = (w.n_rows + p.rb_rows - 1) / p.rb_rows;
  return p;
}

// A row pair's K-block for one token chunk: what one A tile conversion serves.
struct Item {
  int64_t g0, g1;    // token groups [g0, g1)
  int64_t s0, s1;    // k-steps [s0, s1)
  int64_t r, r_end;  // rows [r, r_end), 32 at most: two row groups when r_end > r + 16
  int64_t pair;      // the row pair's index in its row block (where its C tiles wait)
  int n_rgroups() const { return r_end - r > kT ? 2 : 1; }
};

// The items of unit u in the order they run (grow-only `items`).
void plan_items(const Plan& p, int64_t n_rows, int64_t u, std::vector<Item>& items) {
  items.clear();
  const int64_t g0 = u / p.n_rblocks * p.chunk_groups, g1 = std::min(p.n_groups, g0 + p.chunk_groups);
  const int64_t rb = u % p.n_rblocks * p.rb_rows, rb_end = std::min(n_rows, rb + p.rb_rows);
  for (int64_t s0 = 0; s0 < p.n_k; s0 += p.kb_steps) {
    const int64_t s1 = std::min(p.n_k, s0 + p.kb_steps);
    for (int64_t r = rb; r < rb_end; r += 2 * kT) {
      items.push_back({g0, g1, s0, s1, r, std::min(rb_end, r + 2 * kT), (r - rb) / (2 * kT)});
    }
  }
}

// An item's A tiles into dst: row group i's k-step s0 + s at dst + (i * kb_steps + s) * a_step.
// The k-step is the outer loop, so the 16 or 32 rows are read as parallel streams: a K-block is
// often only 8 k-steps (512 bytes) of each row, too short for the prefetchers to pick up alone.
void convert_item(const WeightMatrix& w, const Plan& p, const Item& it, uint16_t* dst) {
  const int n = it.n_rgroups() * kT;
  const uint16_t* src[2 * kT];
  bool valid[2 * kT];
  for (int i = 0; i < n; ++i) {
    valid[i] = it.r + i < it.r_end;  // rows past the end read nothing (mask 0): zeros
    const int64_t row = valid[i] ? it.r + i : it.r;
    src[i] = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(w.data) +
                                               static_cast<size_t>(row) * w.row_bytes());
  }
  const int64_t step = a_step(p.f16);
  const __mmask32 tail = mask32(w.n_cols - (p.n_k - 1) * kK);
  for (int64_t s = it.s0; s < it.s1; ++s) {
    const __mmask32 m = s + 1 < p.n_k ? ~__mmask32{0} : tail;
    uint16_t* out = dst + (s - it.s0) * step;
    for (int i = 0; i < n; ++i) {
      convert_row_step(src[i] + s * kK, valid[i] ? m : 0, p.f16, out + (i / kT) * p.kb_steps * step + (i % kT) * kK);
    }
  }
}

// ---- tiles ------------------------------------------------------------------------------------

template <int NR>
inline void load_a(const uint16_t* a0, const uint16_t* a1) {
  _tile_loadd(kA0, a0, 64);
  if constexpr (NR == 2) _tile_loadd(kA1, a1, 64);
}
template <int NT>
inline void load_b(const uint16_t* b0, const uint16_t* b1) {
  _tile_loadd(kB0, b0, 64);
  if constexpr (NT == 2) _tile_loadd(kB1, b1, 64);
}
// C[i][j] += A[i] . B[j] for the NR x NT tiles in flight.
template <int NR, int NT>
inline void dot_all() {
  _tile_dpbf16ps(kC00, kA0, kB0);
  if constexpr (NT == 2) _tile_dpbf16ps(kC01, kA0, kB1);
  if constexpr (NR == 2) _tile_dpbf16ps(kC10, kA1, kB0);
  if constexpr (NR == 2 && NT == 2) _tile_dpbf16ps(kC11, kA1, kB1);
}

// One tile block: NR row groups x NT token groups over n_steps k-steps.
struct Block {
  const uint16_t* w[2];  // the row groups' A tiles at the first k-step
  const uint16_t* x[2];  // the token groups' B tiles at the first k-step
  int64_t n_steps;
  float* c;     // C[i][j] (16 rows x 16 tokens of fp32) at c + (2 i + j) * 256
  bool load_c;  // continue from c (a later K-block) rather than from zero
};

// Per k-step an A or B register is reloaded only when the next products need another part: the
// F16 order is w_lo.x_hi, w_hi.x_hi, w_hi.x_lo (8 tile loads for 12 products), BF16's w.x_hi,
// w.x_lo (6 for 8).
template <int NR, int NT, bool kF16>
void tile_block(const Block& b) {
  if (b.load_c) {
    _tile_loadd(kC00, b.c, 64);
    if constexpr (NT == 2) _tile_loadd(kC01, b.c + 256, 64);
    if constexpr (NR == 2) _tile_loadd(kC10, b.c + 512, 64);
    if constexpr (NR == 2 && NT == 2) _tile_loadd(kC11, b.c + 768, 64);
  } else {
    _tile_zero(kC00);
    if constexpr (NT == 2) _tile_zero(kC01);
    if constexpr (NR == 2) _tile_zero(kC10);
    if constexpr (NR == 2 && NT == 2) _tile_zero(kC11);
  }
  const int64_t wstep = a_step(kF16), xstep = 2 * kTileElems;
  const uint16_t *w0 = b.w[0], *w1 = b.w[1], *x0 = b.x[0], *x1 = b.x[1];
  for (int64_t s = 0; s < b.n_steps; ++s, w0 += wstep, w1 += wstep, x0 += xstep, x1 += xstep) {
    load_b<NT>(x0, x1);  // x_hi
    if constexpr (kF16) {
      load_a<NR>(w0 + kTileElems, w1 + kTileElems);  // w_lo
      dot_all<NR, NT>();
    }
    load_a<NR>(w0, w1);  // w_hi (BF16: w)
    dot_all<NR, NT>();
    load_b<NT>(x0 + kTileElems, x1 + kTileElems);  // x_lo
    dot_all<NR, NT>();
  }
  _tile_stored(kC00, b.c, 64);
  if constexpr (NT == 2) _tile_stored(kC01, b.c + 256, 64);
  if constexpr (NR == 2) _tile_stored(kC10, b.c + 512, 64);
  if constexpr (NR == 2 && NT == 2) _tile_stored(kC11, b.c + 768, 64);
}

void run_tile_block(bool f16, int nr, int nt, const Block& b) {
  using Fn = void (*)(const Block&);
  static constexpr Fn kFns[2][2][2] = {
      {{tile_block<1, 1, false>, tile_block<1, 2, false>}, {tile_block<2, 1, false>, tile_block<2, 2, false>}},
      {{tile_block<1, 1, true>, tile_block<1, 2, true>}, {tile_block<2, 1, true>, tile_block<2, 2, true>}}};
  kFns[f16][nr - 1][nt - 1](b);
}

// One stored C tile (16 rows x 16 tokens) into y (token-major, stride y_stride): the first n_rows
// rows of the first n_toks tokens.
void write_c(const float* c, int n_rows, int n_toks, float* y, int64_t y_stride) {
  __m512i v[kT];
  for (int i = 0; i < kT; ++i) v[i] = _mm512_load_si512(c + i * kT);
  transpose16x16(v);  // v[j]: the 16 rows of token j
  const __mmask16 m = mask16(n_rows);
  for (int j = 0; j < n_toks; ++j) _mm512_mask_storeu_ps(y + j * y_stride, m, _mm512_castsi512_ps(v[j]));
}

// ---- one thread's rows ------------------------------------------------------------------------

struct Call {
  const WeightMatrix& w;
  const Plan& p;
  const uint16_t* act;  // the packed B tiles, group_elems() bf16 per token group
  int64_t n_tokens;
  float* y;
  int64_t group_elems() const { return p.n_k * 2 * kTileElems; }
};

// Item `it` from its A tiles at a; its C tiles wait at c (the row block's buffer) until the last
// K-block writes them to y.
void run_item(const Call& k, const Item& it, const uint16_t* a, float* c) {
  const int nr = it.n_rgroups();
  for (int64_t g = it.g0, tp = 0; g < it.g1; g += 2, ++tp) {
    const int nt = g + 1 < it.g1 ? 2 : 1;
    Block b;
    b.w[0] = a;
    b.w[1] = a + (nr - 1) * k.p.kb_steps * a_step(k.p.f16);
    b.x[0] = k.act + g * k.group_elems() + it.s0 * 2 * kTileElems;
    b.x[1] = b.x[0] + (nt - 1) * k.group_elems();
    b.n_steps = it.s1 - it.s0;
    b.c = c + (it.pair * k.p.n_tpairs() + tp) * 4 * kT * kT;
    b.load_c = it.s0 > 0;
    run_tile_block(k.p.f16, nr, nt, b);
    if (it.s1 < k.p.n_k) continue;
    for (int i = 0; i < nr; ++i) {
      const int rows = static_cast<int>(std::min<int64_t>(kT, it.r_end - it.r - i * kT));
      for (int j = 0; j < nt; ++j) {
        const int64_t t = (g + j) * kT;
        const int toks = static_cast<int>(std::min<int64_t>(kT, k.n_tokens - t));
        write_c(b.c + (2 * i + j) * kT * kT, rows, toks, k.y + t * k.w.n_rows + it.r + i * kT, k.w.n_rows);
      }
    }
  }
}

// Runs units, taken from next_unit, until none are left.
void run_units(const Call& k, std::atomic<int64_t>& next_unit) {
  thread_local std::vector<Item> items;
  thread_local std::vector<uint8_t> a_buf, c_buf;  // grow-only: one item's A tiles; C tiles
  configure_tiles();
  uint16_t* a = aligned_scratch<uint16_t>(a_buf, static_cast<size_t>(2 * k.p.kb_steps * a_step(k.p.f16)) * 2);
  const int64_t c_floats = k.p.rb_rows / (2 * kT) * k.p.n_tpairs() * 4 * kT * kT;  // per row pair and token pair
  float* c = aligned_scratch<float>(c_buf, static_cast<size_t>(c_floats) * sizeof(float));
  for (int64_t u = next_unit++; u < k.p.n_units(); u = next_unit++) {
    plan_items(k.p, k.w.n_rows, u, items);
    for (const Item& it : items) {
      convert_item(k.w, k.p, it, a);
      // The tile loads are asm statements without memory operands: keep the stores above them.
      // (The tile stores that end each block clobber memory: the next item's stores stay below.)
      asm volatile("" ::: "memory");
      run_item(k, it, a, c);
    }
  }
}

}  // namespace

bool amx_matmul_float(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  if (n_tokens < kMinTokens || w.layout != WeightLayout::kRows) return false;
  if (w.type != GgmlType::kF16 && w.type != GgmlType::kBF16) return false;
  const Plan p = make_plan(w, n_tokens, pool.n_threads());

  // Activations: split and packed once, a token group at a time to whichever thread is free.
  thread_local std::vector<uint8_t> act_buf;  // the calling thread's, grow-only
  uint16_t* act = aligned_scratch<uint16_t>(act_buf, static_cast<size_t>(p.n_groups * p.n_k * 2 * kTileElems) * 2);
  const Call k{w, p, act, n_tokens, y};
  std::atomic<int64_t> next_group{0};
  pool.run([&](int, int) {
    for (int64_t g = next_group++; g < p.n_groups; g = next_group++) {
      const int toks = static_cast<int>(std::min<int64_t>(kT, n_tokens - g * kT));
      pack_act_group(x + g * kT * w.n_cols, w.n_cols, toks, p.n_k, act + g * k.group_elems());
    }
  });

  // The products, a unit at a time likewise.
  std::atomic<int64_t> next_unit{0};
  pool.run([&](int, int) { run_units(k, next_unit); });
  return true;
}

}  // namespace maas::kern
