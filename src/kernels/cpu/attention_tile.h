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
//
// Each per-ISA source defines its Isa in its anonymous namespace (like tile_loop.h's Kern), so
// the instantiation has internal linkage: compiled with that source's ISA flags, private to it.
// Everything here is a template member for that reason: no inline function shared across ISAs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/attention_internal.h"

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

  // Where the keys j0 .. j0 + n_keys - 1 live; spare entries repeat the last key (masked out).
  static inline void locate_keys(const PagedKv& kv, int n_keys, int32_t& block, int32_t& slot,
                                 const float** kp, const float** vp) {
    for (int j = 0; j < n_keys; ++j) {
      const int64_t row = (static_cast<int64_t>(kv.block_table[block]) * kv.block_size + slot) * kv.row_stride;
      kp[j] = kv.k + row, vp[j] = kv.v + row;
      if (++slot == kv.block_size) slot = 0, ++block;
    }
    for (int j = n_keys; j < kKeys; ++j) kp[j] = kp[j - 1], vp[j] = vp[j - 1];
  }

  static void run_tile(const AttentionQueries& a, const PagedKv& kv, const Tile& tile, float* qt,
                       float* ot) {
    const int32_t hd = a.head_dim;
    const F scale = Isa::set1(a.scale);
    for (int32_t d = 0; d < hd; ++d) {
      Isa::store(qt + d * kLanes, Isa::mul(Isa::gather(tile.q + d, tile.off), scale));
      Isa::store(ot + d * kLanes, Isa::zero());
    }
    const F neg_inf = Isa::set1(-std::numeric_limits<float>::infinity());
    F m = neg_inf, l = Isa::zero();
    alignas(64) float p[kKeys * kLanes];
    const float* kp[kKeys];
    const float* vp[kKeys];
    int32_t block = 0, slot = 0;  // of key j0
    for (int32_t j0 = 0; j0 < tile.n_kv; j0 += kKeys) {
      const int n_keys = std::min(kKeys, tile.n_kv - j0);
      locate_keys(kv, n_keys, block, slot, kp, vp);
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

  // attention_paged for head_dim % 16 == 0, head_dim <= kAttentionMaxHeadDim.
  static void run(const AttentionQueries& a, const PagedKv& kv) {
    alignas(64) float qt[kAttentionMaxHeadDim * kLanes];  // scale * Q^T of the tile
    alignas(64) float ot[kAttentionMaxHeadDim * kLanes];  // unnormalised O^T of the tile
    const int32_t n_rows = a.n_tokens * a.n_heads;
    for (int32_t r0 = 0; r0 < n_rows; r0 += kLanes) {
      run_tile(a, kv, make_tile(a, r0, std::min(kLanes, n_rows - r0)), qt, ot);
    }
  }
};

}  // namespace maas::kern
