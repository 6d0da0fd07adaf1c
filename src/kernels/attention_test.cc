// attention_test.cc — attention_paged: the scalar reference against hand-computable cases, and
// the SIMD kernels (AVX2, AVX-512) against it over ragged shapes (key counts that are not a
// multiple of 16, one key, many blocks, odd block sizes, shuffled block tables, every GQA width).
#include <algorithm>
#include <cmath>
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
// for two groups (the kernel gets group 1): everything outside those must stay untouched.
struct Case {
  static constexpr int32_t kKvHeads = 2;
  Shape s;
  std::vector<float> k, v, q, out;
  std::vector<int32_t> table;
  int64_t q_stride = 0;

  Case(const Shape& shape, uint32_t seed, float q_sigma = 1.f) : s(shape) {
    const int32_t n_pos = s.pos0 + s.n_tokens, n_blocks = (n_pos + s.block_size - 1) / s.block_size + 3;
    const size_t cache = static_cast<size_t>(n_blocks) * s.block_size * kKvHeads * s.head_dim;
    k = gaussian(cache, seed);
    v = gaussian(cache, seed + 1);
    q_stride = int64_t{kKvHeads} * s.n_gqa * s.head_dim;
    q = gaussian(static_cast<size_t>(s.n_tokens * q_stride), seed + 2, q_sigma);
    out.assign(q.size(), -7.f);
    table.resize(static_cast<size_t>(n_blocks));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(seed));
  }
  AttentionQueries queries() {
    const int64_t group = int64_t{s.n_gqa} * s.head_dim;
    return {q.data() + group, out.data() + group, q_stride, s.n_gqa, s.head_dim, s.pos0, s.n_tokens,
            1.f / std::sqrt(static_cast<float>(s.head_dim))};
  }
  PagedKv kv() const {
    return {k.data() + s.head_dim, v.data() + s.head_dim, int64_t{kKvHeads} * s.head_dim, table.data(), s.block_size};
  }
};

TEST(AttentionRef, OneKeyCopiesItsValue) {
  Case c({16, 2, 4, 0, 1}, 1);
  ref::attention_paged(c.queries(), c.kv());
  const float* v0 = c.kv().v + int64_t{c.table[0]} * 4 * c.kv().row_stride;
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
    for (int j = 0; j < 5; ++j) mean += c.kv().v[(int64_t{c.table[static_cast<size_t>(j / 3)]} * 3 + j % 3) * 32 + d] / 5.0;
    EXPECT_NEAR(c.out[static_cast<size_t>(16 + d)], mean, 1e-6);
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

void expect_matches_ref(const Variant& variant, const Shape& s, uint32_t seed, float q_sigma = 1.f) {
  Case want(s, seed, q_sigma), got(s, seed, q_sigma);
  ref::attention_paged(want.queries(), want.kv());
  variant.fn(got.queries(), got.kv());
  // Outputs are up to ~4 in size; both sides round the float dot products (and the scale) in
  // their own order, and an error of eps * |q| |k| in a score moves the output by about that
  // much, so the bound grows with the query scale. Measured worst: 2.2e-6 at q_sigma 1.
  const double err = max_error(got.out, want.out);
  EXPECT_LT(err, 5e-6 * q_sigma) << variant.name << " head_dim " << s.head_dim << " n_gqa " << s.n_gqa << " block "
                                 << s.block_size << " pos0 " << s.pos0 << " n_tokens " << s.n_tokens << " q_sigma "
                                 << q_sigma;
}

TEST(AttentionSimd, MatchesReferenceOnRaggedShapes) {
  if (simd_variants().empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (const Variant& variant : simd_variants()) {
    uint32_t seed = 100;
    for (int32_t hd : {16, 64, 128}) {
      for (int32_t gqa : {1, 3, 4, 8, 20}) {
        for (int32_t bs : {1, 5, 16, 32}) {
          expect_matches_ref(variant, {hd, gqa, bs, 0, 1}, ++seed);    // one key
          expect_matches_ref(variant, {hd, gqa, bs, 0, 7}, ++seed);    // a short prompt
          expect_matches_ref(variant, {hd, gqa, bs, 40, 1}, ++seed);   // decode, 41 keys
          expect_matches_ref(variant, {hd, gqa, bs, 13, 22}, ++seed);  // prompt chunk after a prefix
        }
      }
    }
    expect_matches_ref(variant, {64, 4, 16, 0, 300}, ++seed);       // many blocks, full tiles
    expect_matches_ref(variant, {64, 4, 16, 1000, 5}, ++seed);      // long context
    expect_matches_ref(variant, {256, 2, 16, 60, 9}, ++seed);       // the largest head
    expect_matches_ref(variant, {64, 4, 16, 70, 12}, ++seed, 8.f);  // peaked softmax, big rescales
    expect_matches_ref(variant, {64, 4, 16, 70, 12}, ++seed, 40.f);  // score gaps past e^-87: weights 0
  }
}

TEST(Attention, DispatchedOpMatchesReference) {
  for (int32_t hd : {8, 64}) {  // 8: not a SIMD shape, the reference runs
    Case want({hd, 4, 16, 20, 10}, 7), got({hd, 4, 16, 20, 10}, 7);
    ref::attention_paged(want.queries(), want.kv());
    attention_paged(got.queries(), got.kv());
    EXPECT_LT(max_error(got.out, want.out), 2e-6) << hd;
  }
}

}  // namespace
}  // namespace maas
