// matmul_test.cc — parity of every matmul variant (scalar, avx2, avx512, amx) with the oracle
// (ref::matmul: dequantize, multiply in double) for each weight type, token counts 1, 3, 17, 64, 200,
// and shapes with ragged row counts and, for 32-element blocks, n_cols not a multiple of 256.
//
// Tolerance. Quantized types see x rounded to 8 bits per block (d_x = amax / 127), so each output
// is off by at most sum_c |w_c| * d_x / 2; the per-output bound below is that, with amax taken over
// the whole x row (an upper bound), plus float slack. On top, the RMS error over all outputs must
// stay under 1% of the outputs' RMS, and the SIMD variants must agree with the scalar variant to
// float rounding (they compute the same integer sums).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern::KernelSet;
using kern_test::gaussian;
using kern_test::make_matrix;

struct Shape {
  int64_t n_rows, n_cols;
};

bool is_float(GgmlType t) { return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16; }

std::vector<Shape> shapes_for(GgmlType t) {
  if (is_float(t)) return {{37, 100}, {64, 257}, {9, 16}, {130, 512}};
  if (ggml_traits(t).block_size == 32) return {{37, 96}, {64, 800}, {130, 544}, {5, 32}};
  return {{37, 256}, {67, 768}, {16, 1024}};
}

const KernelSet* variant(const std::string& name) {
  if (name == "scalar") return &kern::scalar_kernels();
  if (name == "avx2") return kern::avx2_kernels();
  if (name == "amx") return kern::amx_kernels();
  return kern::avx512_kernels();
}

struct Case {
  GgmlType type;
  std::string variant;
};

class MatmulParity : public ::testing::TestWithParam<Case> {};

TEST_P(MatmulParity, MatchesOracle) {
  const Case c = GetParam();
  const KernelSet* ks = variant(c.variant);
  if (ks == nullptr) GTEST_SKIP() << c.variant << " not available on this CPU";
  ThreadPool pool(2);
  uint32_t seed = 1;
  for (const Shape& s : shapes_for(c.type)) {
    const std::vector<float> wf = gaussian(static_cast<size_t>(s.n_rows * s.n_cols), seed++, 0.05f);
    const kern_test::OwnedMatrix m = make_matrix(c.type, wf, s.n_rows, s.n_cols);
    std::vector<float> wdq(wf.size());
    for (int64_t r = 0; r < s.n_rows; ++r) {
      dequantize_row(c.type, m.bytes.data() + r * m.w.row_bytes(), wdq.data() + r * s.n_cols, s.n_cols);
    }
    for (int64_t n_tokens : {1, 3, 17, 64, 200}) {
      // (200 tokens, for the AMX path, draws from its own seeds so the other cases keep their data)
      const uint32_t x_seed = n_tokens == 200 ? 1000 + seed : seed++;
      const std::vector<float> x = gaussian(static_cast<size_t>(n_tokens * s.n_cols), x_seed);
      std::vector<float> y(static_cast<size_t>(n_tokens * s.n_rows), NAN), y_ref(y.size()), y_scalar(y.size());
      kern::matmul_with(*ks, m.w, x.data(), n_tokens, y.data(), pool);
      ref::matmul(m.w, x.data(), n_tokens, y_ref.data());
      kern::matmul_with(kern::scalar_kernels(), m.w, x.data(), n_tokens, y_scalar.data(), pool);
      double err2 = 0, ref2 = 0;
      for (int64_t t = 0; t < n_tokens; ++t) {
        float amax = 0;
        for (int64_t k = 0; k < s.n_cols; ++k) amax = std::max(amax, std::fabs(x[t * s.n_cols + k]));
        for (int64_t r = 0; r < s.n_rows; ++r) {
          double l1 = 0, wabs = 0;  // sum |w x| and sum |w|
          for (int64_t k = 0; k < s.n_cols; ++k) {
            const double wv = wdq[r * s.n_cols + k];
            l1 += std::fabs(wv * x[t * s.n_cols + k]);
            wabs += std::fabs(wv);
          }
          const double bound = (is_float(c.type) ? 0.0 : wabs * amax / 254.0) + 1e-4 * l1 + 1e-6;
          const size_t i = static_cast<size_t>(t * s.n_rows + r);
          ASSERT_NEAR(y[i], y_ref[i], bound) << "rows " << s.n_rows << " cols " << s.n_cols << " tokens "
                                             << n_tokens << " t " << t << " r " << r;
          ASSERT_NEAR(y[i], y_scalar[i], 2e-5 * l1 + 1e-6) << "vs scalar variant, r " << r << " t " << t;
          err2 += (y[i] - y_ref[i]) * static_cast<double>(y[i] - y_ref[i]);
          ref2 += y_ref[i] * static_cast<double>(y_ref[i]);
        }
      }
      EXPECT_LT(std::sqrt(err2 / ref2), is_float(c.type) ? 1e-5 : 0.01)
          << "rows " << s.n_rows << " cols " << s.n_cols << " tokens " << n_tokens;
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0,
                     GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    for (const char* name : {"scalar", "avx2", "avx512", "amx"}) v.push_back({t, name});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulParity, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(ggml_type_name(info.param.type)) + "_" + info.param.variant;
                         });

TEST(Matmul, PublicEntryUsesActiveVariantAndOddThreadCounts) {
  const std::vector<float> wf = gaussian(96 * 512, 3);
  const kern_test::OwnedMatrix m = make_matrix(GgmlType::kQ4_K, wf, 96, 512);
  const std::vector<float> x = gaussian(5 * 512, 4);
  std::vector<float> y1(5 * 96), y3(5 * 96), y_direct(5 * 96);
  ThreadPool one(1), three(3);
  matmul(m.w, x.data(), 5, y1.data(), one);
  matmul(m.w, x.data(), 5, y3.data(), three);
  kern::matmul_with(kern::active_kernels(), m.w, x.data(), 5, y_direct.data(), one);
  EXPECT_EQ(y1, y3);  // each output is computed by one thread in a fixed order: bit-identical
  EXPECT_EQ(y1, y_direct);
  std::printf("  active variant: %s\n", kernel_variant().c_str());
}

}  // namespace
}  // namespace maas
