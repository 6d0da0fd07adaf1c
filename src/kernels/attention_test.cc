// attention_test.cc — attention_paged: the scalar reference against hand-computable cases, and
// the SIMD kernels (AVX2, AVX-512) against it over ragged shapes (key counts that are not a
// multiple of 16, one key, many blocks, odd block sizes, shuffled block tables, every GQA width),
// for each cache element type (F32, F16, Q8_0). The reference reads an F16 / Q8_0 cache exactly as
// an F32 cache of its dequantized values, and stays near the unrounded F32 result.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/attention_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern_test::gaussian;

struct Shape {
  int32_t head_dim, n_gqa, block_size, pos0, n_tokens;
};

// A paged cache with two KV heads (the kernel reads head 1), a shuffled block table, and queries
// for two groups (the kernel gets group 1): everything outside those must stay untouched. k and
// v are the floats drawn; kb and vb the cache's bytes in `type` (rows of kKvHeads * head_dim).
struct Case {
  static constexpr int32_t kKvHeads = 2;
  Shape s;
  GgmlType type;
  std::vector<float> k, v, q, out;
  std::vector<uint8_t> kb, vb;
  std::vector<int32_t> table;
  int64_t q_stride = 0;

  Case(const Shape& shape, uint32_t seed, float q_sigma = 1.f, GgmlType t = GgmlType::kF32) : s(shape), type(t) {
    const int32_t n_pos = s.pos0 + s.n_tokens, n_blocks = (n_pos + s.block_size - 1) / s.block_size + 3;
    const size_t cache = static_cast<size_t>(n_blocks) * s.block_size * kKvHeads * s.head_dim;
    k = gaussian(cache, seed);
    v = gaussian(cache, seed + 1);
    store();
    q_stride = int64_t{kKvHeads} * s.n_gqa * s.head_dim;
    q = gaussian(static_cast<size_t>(s.n_tokens * q_stride), seed + 2, q_sigma);
    out.assign(q.size(), -7.f);
    table.resize(static_cast<size_t>(n_blocks));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(seed));
  }
  int64_t row() const { return int64_t{kKvHeads} * s.head_dim; }
  // k, v into kb, vb in `type`, a row (slot) at a time as the CPU backend stores them.
  void store() {
    const size_t rb = ggml_row_size(type, row()), n_rows = k.size() / static_cast<size_t>(row());
    kb.resize(rb * n_rows);
    vb.resize(rb * n_rows);
    for (size_t r = 0; r < n_rows; ++r) {
      quantize_row(type, k.data() + r * row(), kb.data() + r * rb, row());
      quantize_row(type, v.data() + r * row(), vb.data() + r * rb, row());
    }
  }
  // The same case over an F32 cache of this one's dequantized K and V.
  Case dequantized() const {
    Case f = *this;
    f.type = GgmlType::kF32;
    const size_t rb = ggml_row_size(type, row()), n_rows = k.size() / static_cast<size_t>(row());
    for (size_t r = 0; r < n_rows; ++r) {
      dequantize_row(type, kb.data() + r * rb, f.k.data() + r * row(), row());
      dequantize_row(type, vb.data() + r * rb, f.v.data() + r * row(), row());
    }
    f.store();
    return f;
  }
  AttentionQueries queries() {
    const int64_t group = int64_t{s.n_gqa} * s.head_dim;
    return {q.data() + group, out.data() + group, q_stride, s.n_gqa, s.head_dim, s.pos0, s.n_tokens,
            1.f / std::sqrt(static_cast<float>(s.head_dim))};
  }
  PagedKv kv() const {
    const size_t head = ggml_row_size(type, s.head_dim);
    return {kb.data() + head, vb.data() + head, row(), table.data(), s.block_size, type};
  }
  // The float value row of position p, head 1, as drawn (before rounding to `type`).
  const float* value_row(int32_t p) const {
    return v.data() + (int64_t{table[static_cast<size_t>(p / s.block_size)]} * s.block_size + p % s.block_size) * row() +
           s.head_dim;
  }
};

const char* type_name(GgmlType t) { return t == GgmlType::kF32 ? "f32" : t == GgmlType::kF16 ? "f16" : "q8_0"; }
constexpr GgmlType kKvTypes[] = {GgmlType::kF32, GgmlType::kF16, GgmlType::kQ8_0};

TEST(AttentionRef, OneKeyCopiesItsValue) {
  Case c({16, 2, 4, 0, 1}, 1);
  ref::attention_paged(c.queries(), c.kv());
  const float* v0 = c.value_row(0);
  for (int i = 0; i < 2; ++i) {
    for (int d = 0; d < 16; ++d) EXPECT_FLOAT_EQ(c.out[static_cast<size_t>(32 + i * 16 + d)], v0[d]);
  }
  for (int d = 0; d < 32; ++d) EXPECT_EQ(c.out[static_cast<size_t>(d)], -7.f);  // group 0 untouched
}

TEST(AttentionRef, EqualScoresAverageTheValues) {
  Case c({16, 1, 3, 4, 1}, 2);  // position 4: keys 0..4
  std::fill(c.q.begin(), c.q.end(), 0.f);
  ref::attention_paged(c.queries(), c.kv());
  for (int d = 0; d < 16; ++d) {
    double mean = 0;
    for (int j = 0; j < 5; ++j) mean += c.value_row(j)[d] / 5.0;
    EXPECT_NEAR(c.out[static_cast<size_t>(16 + d)], mean, 1e-6);
  }
}

// F16 and Q8_0 caches: the reference reads them as an F32 cache of their dequantized values
// (bit for bit: the same floats in the same order), and lands near the unrounded F32 result.
TEST(AttentionRef, TypedCacheReadsAsItsDequantizedValues) {
  for (GgmlType type : {GgmlType::kF16, GgmlType::kQ8_0}) {
    for (const Shape& shape : {Shape{64, 4, 16, 0, 9}, Shape{128, 1, 5, 40, 1}, Shape{32, 3, 16, 13, 22}}) {
      Case typed(shape, 11, 1.f, type);
      Case deq = typed.dequantized(), exact(shape, 11);
      ref::attention_paged(typed.queries(), typed.kv());
      ref::attention_paged(deq.queries(), deq.kv());
      ref::attention_paged(exact.queries(), exact.kv());
      EXPECT_EQ(typed.out, deq.out) << type_name(type) << " head_dim " << shape.head_dim;
      // Gaussian K, V, q: the rounding of K and V moves an output (|o| < ~3) by about the
      // relative error of the type: F16 2^-11, Q8_0 ~1/254 of a block's largest element.
      // Measured worst: F16 about 1e-3, Q8_0 about 1.5e-2.
      const double tol = type == GgmlType::kF16 ? 4e-3 : 5e-2;
      double worst = 0;
      for (size_t i = 0; i < exact.out.size(); ++i) {
        worst = std::max(worst, std::fabs(static_cast<double>(typed.out[i]) - exact.out[i]));
      }
      std::printf("[ %-4s ] head_dim %3d: max |out - out(f32 cache)| %.3g (tolerance %.3g)\n", type_name(type),
                  shape.head_dim, worst, tol);
      EXPECT_LT(worst, tol) << type_name(type) << " head_dim " << shape.head_dim;
      EXPECT_GT(worst, 0.0) << type_name(type) << ": the cache was not rounded";
    }
  }
}

double max_error(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
  return worst;
}

using AttentionFn = void (*)(const AttentionQueries&, const PagedKv&);

struct Variant {
  const char* name;
  AttentionFn fn;
};

std::vector<Variant> simd_variants() {
  std::vector<Variant> v;
  if (kern::avx2_attention_supported()) v.push_back({"avx2", kern::attention_paged_avx2});
  if (kern::avx512_attention_supported()) v.push_back({"avx512", kern::attention_paged_avx512});
  return v;
}

void expect_matches_ref(const Variant& variant, const Shape& s, uint32_t seed, float q_sigma = 1.f,
                        GgmlType type = GgmlType::kF32) {
  Case want(s, seed, q_sigma, type), got(s, seed, q_sigma, type);
  ref::attention_paged(want.queries(), want.kv());
  variant.fn(got.queries(), got.kv());
  // Outputs are up to ~4 in size; both sides round the float dot products (and the scale) in
  // their own order, and an error of eps * |q| |k| in a score moves the output by about that
  // much, so the bound grows with the query scale. Measured worst: 2.2e-6 at q_sigma 1. Both
  // read an F16 / Q8_0 cache as the same floats, so the bound is the F32 one.
  const double err = max_error(got.out, want.out);
  EXPECT_LT(err, 5e-6 * q_sigma) << variant.name << " " << type_name(type) << " head_dim " << s.head_dim << " n_gqa "
                                 << s.n_gqa << " block " << s.block_size << " pos0 " << s.pos0 << " n_tokens "
                                 << s.n_tokens << " q_sigma " << q_sigma;
}

TEST(AttentionSimd, MatchesReferenceOnRaggedShapes) {
  if (simd_variants().empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (const Variant& variant : simd_variants()) {
    for (GgmlType type : kKvTypes) {
      uint32_t seed = 100;
      for (int32_t hd : {16, 32, 64, 128}) {
        if (type == GgmlType::kQ8_0 && hd % 32 != 0) continue;  // Q8_0 blocks of 32 along head_dim
        for (int32_t gqa : {1, 3, 4, 8, 20}) {
          for (int32_t bs : {1, 5, 16, 32}) {
            expect_matches_ref(variant, {hd, gqa, bs, 0, 1}, ++seed, 1.f, type);    // one key
            expect_matches_ref(variant, {hd, gqa, bs, 0, 7}, ++seed, 1.f, type);    // a short prompt
            expect_matches_ref(variant, {hd, gqa, bs, 40, 1}, ++seed, 1.f, type);   // decode, 41 keys
            expect_matches_ref(variant, {hd, gqa, bs, 13, 22}, ++seed, 1.f, type);  // prompt chunk after a prefix
          }
        }
      }
      expect_matches_ref(variant, {64, 4, 16, 0, 300}, ++seed, 1.f, type);    // many blocks, full tiles
      expect_matches_ref(variant, {64, 4, 16, 1000, 5}, ++seed, 1.f, type);   // long context
      expect_matches_ref(variant, {256, 2, 16, 60, 9}, ++seed, 1.f, type);    // the largest head
      expect_matches_ref(variant, {64, 4, 16, 70, 12}, ++seed, 8.f, type);    // peaked softmax, big rescales
      expect_matches_ref(variant, {64, 4, 16, 70, 12}, ++seed, 40.f, type);   // score gaps past e^-87: weights 0
    }
  }
}

TEST(Attention, DispatchedOpMatchesReference) {
  for (GgmlType type : kKvTypes) {
    for (int32_t hd : {8, 64}) {  // 8: not a SIMD shape, the reference runs
      if (type == GgmlType::kQ8_0 && hd % 32 != 0) continue;
      Case want({hd, 4, 16, 20, 10}, 7, 1.f, type), got({hd, 4, 16, 20, 10}, 7, 1.f, type);
      ref::attention_paged(want.queries(), want.kv());
      attention_paged(got.queries(), got.kv());
      EXPECT_LT(max_error(got.out, want.out), 2e-6) << type_name(type) << " " << hd;
    }
  }
}

TEST(Attention, ReadsTheKvTypes) {
  for (GgmlType type : kKvTypes) EXPECT_TRUE(attention_reads(type)) << type_name(type);
  EXPECT_FALSE(attention_reads(GgmlType::kQ4_0));
}

}  // namespace
}  // namespace maas
