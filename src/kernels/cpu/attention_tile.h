// attention_tile.h — the SIMD body of attention_paged, written once over a small ISA interface
// (Isa = Avx512 or Avx2 traits, defined in cpu/attention_<isa>.cc). A tile is Isa::kLanes query
// rows (the heads of a GQA group for a few consecutive tokens), one per vector lane: every key
// and value row is loaded once for all of them, the inner loops are FMAs with a broadcast memory
// operand, and the softmax is lane-wise (no horizontal reductions, no per-key calls).
//
// Per tile the keys go by Isa::kKeys at a time with an online softmax (Milakov & Gimelshein
// 2018, the recurrence of FlashAttention, Dao et al. 2022); vectors run over the tile's rows:
//   S[j]  = Qt . K[j]                       Qt = scale * Q^T   [head_dim][kLanes]
//   m'    = max(m, max_j S[j])              lane r sees key j only if j <= pos[r] (causal)
//   P[j]  = e^(S[j] - m'),   l = l * e^(m - m') + sum_j P[j]
//   Ot[d] = Ot[d] * e^(m - m') + sum_j P[j] * V[j][d]
// and at the end out[r][d] = Ot[d][r] / l[r]. Q^T and O^T (16 KiB each at most) sit on the stack.
// A cache of F16 or Q8_0 (PagedKv::type) has each step's kKeys K and V rows converted to floats
// in a stack scratch first (the exact floats dequantize_row gives), then read as an F32 cache is.
//
// Each per-ISA source defines its Isa in its anonymous namespace (like tile_loop.h's Kern), so
// the instantiation has internal linkage: compiled with that source's ISA flags, private to it.
// Everything here is a template member for that reason: no inline function shared across ISAs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/attention_internal.h"
#include "kernels/quant_blocks.h"

#define MAAS_ATTN_UNROLL _Pragma("GCC unroll 16")

namespace maas::kern {

// e^x, about 1 ulp, in the ISA's operations: Cephes' expf (n = round(x / ln 2), a degree-6
// polynomial in r = x - n ln 2, ln 2 split in two for exactness), times 2^n. Below -87.3 (where
// e^x leaves the normal floats) the result is 0, so no denormal ever reaches the accumulators.
template <class Isa>
typename Isa::F exp_approx(typename Isa::F x) {
  using F = typename Isa::F;
  const F clamped = Isa::min(Isa::max(x, Isa::set1(-87.3f)), Isa::set1(88.f));
  const F n = Isa::round(Isa::mul(clamped, Isa::set1(1.44269504088896341f)));
  F r = Isa::fmadd(n, Isa::set1(-0.693359375f), clamped);
  r = Isa::fmadd(n, Isa::set1(2.12194440e-4f), r);
  F p = Isa::set1(1.9875691500e-4f);
  p = Isa::fmadd(p, r, Isa::set1(1.3981999507e-3f));
  p = Isa::fmadd(p, r, Isa::set1(8.3334519073e-3f));
  p = Isa::fmadd(p, r, Isa::set1(4.1665795894e-2f));
  p = Isa::fmadd(p, r, Isa::set1(1.6666665459e-1f));
  p = Isa::fmadd(p, r, Isa::set1(5.0000001201e-1f));
  p = Isa::fmadd(p, Isa::mul(r, r), Isa::add(r, Isa::set1(1.f)));
  return Isa::scale_pow2_or_zero(p, n, x);
}

template <class Isa>
struct AttentionKernel {
  using F = typename Isa::F;
  using Mask = typename Isa::Mask;
  static constexpr int kLanes = Isa::kLanes, kKeys = Isa::kKeys;

  // Rows r0 .. r0 + n_rows - 1 of the group, row r = token (r / n_heads), head (r % n_heads).
  // Spare lanes repeat the last row (never stored), so every lane computes something finite.
  struct Tile {
    const float* q = nullptr;  // the first row's token: a lane's row is at q + off[lane]
    float* out = nullptr;      // likewise
    typename Isa::I off;       // floats from q (and out) to each lane's row
    typename Isa::I pos;       // each lane's position: it sees keys 0 .. pos
    int32_t n_rows = 0;        // lanes holding a real row
    int32_t n_kv = 0;          // keys the tile reads: the last row's position + 1
  };

  static Tile make_tile(const AttentionQueries& a, int32_t r0, int32_t n_rows) {
    alignas(64) int32_t off[kLanes], pos[kLanes];
    const int32_t t0 = r0 / a.n_heads;
    for (int32_t lane = 0; lane < kLanes; ++lane) {
      const int32_t r = r0 + std::min(lane, n_rows - 1), t = r / a.n_heads, i = r % a.n_heads;
      off[lane] = static_cast<int32_t>((t - t0) * a.stride + static_cast<int64_t>(i) * a.head_dim);
      pos[lane] = a.pos0 + t;
    }
    Tile tile;
    tile.q = a.q + t0 * a.stride;
    tile.out = a.out + t0 * a.stride;
    tile.off = Isa::load_i(off);
    tile.pos = Isa::load_i(pos);
    tile.n_rows = n_rows;
    tile.n_kv = pos[kLanes - 1] + 1;
    return tile;
  }

  // s[j] = Qt . K[j] for the keys at kp[]: kScoreDims dims of Qt in registers at a time.
  static inline void scores(const float* qt, const float* const* kp, int32_t head_dim, F* s) {
    constexpr int kDims = Isa::kScoreDims;
    MAAS_ATTN_UNROLL
    for (int j = 0; j < kKeys; ++j) s[j] = Isa::zero();
    for (int32_t d = 0; d < head_dim; d += kDims) {
      F q[kDims];
      MAAS_ATTN_UNROLL
      for (int e = 0; e < kDims; ++e) q[e] = Isa::load(qt + (d + e) * kLanes);
      MAAS_ATTN_UNROLL
      for (int j = 0; j < kKeys; ++j) {
        const float* k = kp[j] + d;
        MAAS_ATTN_UNROLL
        for (int e = 0; e < kDims; ++e) s[j] = Isa::fmadd(q[e], Isa::set1(k[e]), s[j]);
      }
    }
  }

  // Ot = Ot * alpha + sum_{j < n_keys} P[j] * V[j], kValueDims dims of Ot in registers at a time.
  // vp[] is advanced through the dims (consumed): indexing vp[j] + d instead, GCC keeps the 16
  // offsets (d + e) * 4 in registers, runs out, and reloads them in the inner loop.
  static inline void accumulate_values(float* ot, const float* p, const float** vp, int n_keys, int32_t head_dim,
                                       F alpha) {
    constexpr int kDims = Isa::kValueDims;
    for (int32_t d = 0; d < head_dim; d += kDims) {
      F o[kDims];
      MAAS_ATTN_UNROLL
      for (int e = 0; e < kDims; ++e) o[e] = Isa::mul(Isa::load(ot + (d + e) * kLanes), alpha);
      for (int j = 0; j < n_keys; ++j) {
        const F pj = Isa::load(p + j * kLanes);
        const float* v = vp[j];
        MAAS_ATTN_UNROLL
        for (int e = 0; e < kDims; ++e) o[e] = Isa::fmadd(pj, Isa::set1(v[e]), o[e]);
        vp[j] = v + kDims;
      }
      MAAS_ATTN_UNROLL
      for (int e = 0; e < kDims; ++e) Isa::store(ot + (d + e) * kLanes, o[e]);
    }
  }

  // Bytes of n cached elements (ggml_row_size, spelled out here: no inline function shared across ISAs).
  static size_t row_bytes_of(GgmlType type, int64_t n) {
    const size_t u = static_cast<size_t>(n);
    return type == GgmlType::kF32 ? u * 4 : type == GgmlType::kF16 ? u * 2 : u / kQK0 * sizeof(BlockQ8_0);
  }

  // Where the keys j0 .. j0 + n_keys - 1 live: the byte addresses of their K and V rows.
  static inline void locate_keys(const PagedKv& kv, size_t row_bytes, int n_keys, int32_t& block, int32_t& slot,
                                 const uint8_t** kr, const uint8_t** vr) {
    for (int j = 0; j < n_keys; ++j) {
      const size_t row = (static_cast<size_t>(kv.block_table[block]) * kv.block_size + slot) * row_bytes;
      kr[j] = static_cast<const uint8_t*>(kv.k) + row, vr[j] = static_cast<const uint8_t*>(kv.v) + row;
      if (++slot == kv.block_size) slot = 0, ++block;
    }
  }

  // The head_dim elements of a cached F16 or Q8_0 row as floats (dst aligned, head_dim % 32 == 0
  // for Q8_0): each element is exactly what dequantize_row gives (a Q8_0 element is d * q).
  static inline void convert_row(GgmlType type, const uint8_t* src, int32_t head_dim, float* dst) {
    if (type == GgmlType::kF16) {
      const auto* h = reinterpret_cast<const uint16_t*>(src);
      for (int32_t d = 0; d < head_dim; d += kLanes) Isa::store(dst + d, Isa::load_f16(h + d));
      return;
    }
    const auto* b = reinterpret_cast<const BlockQ8_0*>(src);
    for (int32_t i = 0; i < head_dim / kQK0; ++i) {
      const F scale = Isa::set1(Isa::half_to_float(b[i].d));
      MAAS_ATTN_UNROLL
      for (int e = 0; e < kQK0; e += kLanes) {
        Isa::store(dst + i * kQK0 + e, Isa::mul(scale, Isa::load_i8(b[i].qs + e)));
      }
    }
  }

  // kp[], vp[]: the float rows of the keys j0 .. j0 + n_keys - 1, the cache's own for F32, else
  // converted into kf / vf ([kKeys][head_dim]); spare entries repeat the last key (masked out).
  static inline void key_rows(const PagedKv& kv, const uint8_t* const* kr, const uint8_t* const* vr, int n_keys,
                              int32_t head_dim, float* kf, float* vf, const float** kp, const float** vp) {
    for (int j = 0; j < n_keys; ++j) {
      if (kv.type == GgmlType::kF32) {
        kp[j] = reinterpret_cast<const float*>(kr[j]), vp[j] = reinterpret_cast<const float*>(vr[j]);
      } else {
        convert_row(kv.type, kr[j], head_dim, kf + j * head_dim);
        convert_row(kv.type, vr[j], head_dim, vf + j * head_dim);
        kp[j] = kf + j * head_dim, vp[j] = vf + j * head_dim;
      }
    }
    for (int j = n_keys; j < kKeys; ++j) kp[j] = kp[j - 1], vp[j] = vp[j - 1];
  }

  static void run_tile(const AttentionQueries& a, const PagedKv& kv, const Tile& tile, float* qt, float* ot,
                       float* kf, float* vf) {
    const int32_t hd = a.head_dim;
    const F scale = Isa::set1(a.scale);
    for (int32_t d = 0; d < hd; ++d) {
      Isa::store(qt + d * kLanes, Isa::mul(Isa::gather(tile.q + d, tile.off), scale));
      Isa::store(ot + d * kLanes, Isa::zero());
    }
    const F neg_inf = Isa::set1(-std::numeric_limits<float>::infinity());
    F m = neg_inf, l = Isa::zero();
    alignas(64) float p[kKeys * kLanes];
    const size_t row_bytes = row_bytes_of(kv.type, kv.row_stride);
    const uint8_t* kr[kKeys];
    const uint8_t* vr[kKeys];
    const float* kp[kKeys];
    const float* vp[kKeys];
    int32_t block = 0, slot = 0;  // of key j0
    for (int32_t j0 = 0; j0 < tile.n_kv; j0 += kKeys) {
      const int n_keys = std::min(kKeys, tile.n_kv - j0);
      locate_keys(kv, row_bytes, n_keys, block, slot, kr, vr);
      key_rows(kv, kr, vr, n_keys, hd, kf, vf, kp, vp);
      F s[kKeys];
      scores(qt, kp, hd, s);
      Mask seen[kKeys];
      F s_max = neg_inf;
      MAAS_ATTN_UNROLL
      for (int j = 0; j < kKeys; ++j) {
        seen[j] = j < n_keys ? Isa::sees(tile.pos, j0 + j) : Isa::none();
        s_max = Isa::max_where(seen[j], s_max, s[j]);
      }
      const F m_new = Isa::max(m, s_max);  // finite: key 0 is seen by every row
      const F alpha = exp_approx<Isa>(Isa::sub(m, m_new));
      F sum = Isa::zero();
      MAAS_ATTN_UNROLL
      for (int j = 0; j < kKeys; ++j) {
        const F pj = Isa::zero_unless(seen[j], exp_approx<Isa>(Isa::sub(s[j], m_new)));
        Isa::store(p + j * kLanes, pj);
        sum = Isa::add(sum, pj);
      }
      l = Isa::fmadd(l, alpha, sum);
      m = m_new;
      accumulate_values(ot, p, vp, n_keys, hd, alpha);
    }
    const F inv_l = Isa::div(Isa::set1(1.f), l);
    for (int32_t d = 0; d < hd; ++d) {
      Isa::scatter(tile.out + d, tile.off, tile.n_rows, Isa::mul(Isa::load(ot + d * kLanes), inv_l));
    }
  }

  // attention_paged for head_dim % 16 == 0, head_dim <= kAttentionMaxHeadDim (and % 32 for Q8_0).
  static void run(const AttentionQueries& a, const PagedKv& kv) {
    alignas(64) float qt[kAttentionMaxHeadDim * kLanes];  // scale * Q^T of the tile
    alignas(64) float ot[kAttentionMaxHeadDim * kLanes];  // unnormalised O^T of the tile
    alignas(64) float kf[kAttentionMaxHeadDim * kKeys];   // a step's K rows as floats (F16, Q8_0)
    alignas(64) float vf[kAttentionMaxHeadDim * kKeys];   // and its V rows
    const int32_t n_rows = a.n_tokens * a.n_heads;
    for (int32_t r0 = 0; r0 < n_rows; r0 += kLanes) {
      run_tile(a, kv, make_tile(a, r0, std::min(kLanes, n_rows - r0)), qt, ot, kf, vf);
    }
  }
};

}  // namespace maas::kern
