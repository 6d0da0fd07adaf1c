// matmul_test.cc — parity of every matmul variant (scalar, avx2, avx512, amx) with the oracle
// (ref::matmul: dequantize, multiply in double) for each weight type, token counts 1, 3, 17, 37, 64,
// 200, and shapes with ragged row counts and, for 32-element blocks, n_cols not a multiple of 256.
//
// Tolerance. Quantized types see x rounded to 8 bits per block (d_x = amax / 127), so each output
// is off by at most sum_c |w_c| * d_x / 2; the per-output bound below is that, with amax taken over
// the whole x row (an upper bound), plus float slack. On top, the RMS error over all outputs must
// stay under 1% of the outputs' RMS, and the SIMD variants must agree with the scalar variant to
// float rounding (they compute the same integer sums).
#include <cmath>
#include <cstdio>
#include <string>
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
    for (int64_t n_tokens : {1, 3, 17, 37, 64, 200}) {
      // (200 and 37 tokens, for the AMX paths, draw from their own seeds so the other cases keep
      // their data)
      const uint32_t x_seed = n_tokens == 200 ? 1000 + seed : n_tokens == 37 ? 2000 + seed : seed++;
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

// The AMX-BF16 path (kernels_amx_bf16.cc) where this CPU has it: it takes F16 / BF16 calls from
// 16 tokens on, nothing else, and its error (operands split into bf16 hi + lo parts) stays close
// to the AVX-512 FMA tiles' (fp32 activations, exact weights).
bool amx_bf16_available() {
#if defined(__x86_64__)
  return kern::amx_kernels() != nullptr && __builtin_cpu_supports("amx-bf16") &&
         __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

TEST(AmxBf16, TakesFloatWeightsFrom16Tokens) {
  if (!amx_bf16_available()) GTEST_SKIP() << "no AMX-BF16";
  ThreadPool pool(2);
  const std::vector<float> wf = gaussian(37 * 100, 5, 0.05f);
  const std::vector<float> x = gaussian(37 * 100, 6);
  std::vector<float> y(37 * 37);
  for (GgmlType t : {GgmlType::kF16, GgmlType::kBF16}) {
    const kern_test::OwnedMatrix m = make_matrix(t, wf, 37, 100);
    EXPECT_FALSE(kern::amx_matmul_float(m.w, x.data(), 15, y.data(), pool)) << ggml_type_name(t);
    EXPECT_TRUE(kern::amx_matmul_float(m.w, x.data(), 16, y.data(), pool)) << ggml_type_name(t);
    EXPECT_TRUE(kern::amx_kernels()->mm_prompt(m.w, x.data(), 37, y.data(), pool)) << ggml_type_name(t);
  }
  for (GgmlType t : {GgmlType::kF32, GgmlType::kQ8_0}) {
    const kern_test::OwnedMatrix m = make_matrix(t, wf, 37, 96);
    EXPECT_FALSE(kern::amx_matmul_float(m.w, x.data(), 37, y.data(), pool)) << ggml_type_name(t);
  }
}

TEST(AmxBf16, SameResultForAnyThreadCount) {
  if (!amx_bf16_available()) GTEST_SKIP() << "no AMX-BF16";
  const std::vector<float> wf = gaussian(300 * 256, 11, 0.05f);
  const std::vector<float> x = gaussian(100 * 256, 12);
  const kern_test::OwnedMatrix m = make_matrix(GgmlType::kF16, wf, 300, 256);
  std::vector<float> y1(100 * 300), y3(y1.size());
  ThreadPool one(1), three(3);
  ASSERT_TRUE(kern::amx_matmul_float(m.w, x.data(), 100, y1.data(), one));
  ASSERT_TRUE(kern::amx_matmul_float(m.w, x.data(), 100, y3.data(), three));
  EXPECT_EQ(y1, y3);  // units taken in any order, each output summed in a fixed order
}

// Relative RMS error against the oracle.
double rel_rms_error(const std::vector<float>& y, const std::vector<float>& y_ref) {
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    err2 += (y[i] - static_cast<double>(y_ref[i])) * (y[i] - static_cast<double>(y_ref[i]));
    ref2 += static_cast<double>(y_ref[i]) * y_ref[i];
  }
  return std::sqrt(err2 / ref2);
}

TEST(AmxBf16, AccuracyVsAvx512) {
  if (!amx_bf16_available() || kern::avx512_kernels() == nullptr) GTEST_SKIP() << "no AMX-BF16";
  ThreadPool pool(2);
  const int64_t n_rows = 256, n_cols = 2048, n_tokens = 64;  // a Llama 1B projection's row length
  const std::vector<float> wf = gaussian(n_rows * n_cols, 7, 0.05f);
  const std::vector<float> x = gaussian(n_tokens * n_cols, 8);
  for (GgmlType t : {GgmlType::kF16, GgmlType::kBF16}) {
    const kern_test::OwnedMatrix m = make_matrix(t, wf, n_rows, n_cols);
    std::vector<float> y_amx(n_tokens * n_rows), y_avx(y_amx.size()), y_ref(y_amx.size());
    ref::matmul(m.w, x.data(), n_tokens, y_ref.data());
    ASSERT_TRUE(kern::amx_matmul_float(m.w, x.data(), n_tokens, y_amx.data(), pool));
    kern::matmul_with(*kern::avx512_kernels(), m.w, x.data(), n_tokens, y_avx.data(), pool);
    const double e_amx = rel_rms_error(y_amx, y_ref), e_avx = rel_rms_error(y_avx, y_ref);
    std::printf("  %s relative RMS error vs oracle: amx %.2e, avx512 %.2e\n", std::string(ggml_type_name(t)).c_str(), e_amx, e_avx);
    EXPECT_LT(e_amx, 1e-5);  // MatmulParity's bound for float weights
  }
}

// A shape big enough for every part of the AMX-BF16 blocking: two token chunks (the second an odd
// number of token groups, the last one ragged), many K-blocks with a ragged k-step, row blocks
// per thread, a half-filled last row group. Checked against the AVX-512 tiles (the oracle in
// double would take seconds) with MatmulParity's float bound, sum_c |w x| from |W| . |x|.
TEST(AmxBf16, BlockingEdgesMatchAvx512) {
  if (!amx_bf16_available() || kern::avx512_kernels() == nullptr) GTEST_SKIP() << "no AMX-BF16";
  ThreadPool pool(2);
  const int64_t n_rows = 1700, n_cols = 4100, n_tokens = 590;
  const std::vector<float> wf = gaussian(n_rows * n_cols, 9, 0.05f);
  const std::vector<float> x = gaussian(n_tokens * n_cols, 10);
  std::vector<float> wf_abs(wf.size()), x_abs(x.size());
  for (size_t i = 0; i < wf.size(); ++i) wf_abs[i] = std::fabs(wf[i]);
  for (size_t i = 0; i < x.size(); ++i) x_abs[i] = std::fabs(x[i]);
  for (GgmlType t : {GgmlType::kF16, GgmlType::kBF16}) {
    const kern_test::OwnedMatrix m = make_matrix(t, wf, n_rows, n_cols);
    const kern_test::OwnedMatrix m_abs = make_matrix(t, wf_abs, n_rows, n_cols);  // |w| exactly
    std::vector<float> y(n_tokens * n_rows, NAN), y_avx(y.size()), l1(y.size());
    ASSERT_TRUE(kern::amx_matmul_float(m.w, x.data(), n_tokens, y.data(), pool));
    kern::matmul_with(*kern::avx512_kernels(), m.w, x.data(), n_tokens, y_avx.data(), pool);
    kern::matmul_with(*kern::avx512_kernels(), m_abs.w, x_abs.data(), n_tokens, l1.data(), pool);
    for (size_t i = 0; i < y.size(); ++i) {
      ASSERT_NEAR(y[i], y_avx[i], 1e-4 * l1[i] + 1e-6)
          << ggml_type_name(t) << " token " << i / n_rows << " row " << i % n_rows;
    }
    EXPECT_LT(rel_rms_error(y, y_avx), 1e-5) << ggml_type_name(t);
  }
}

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

// matmul_many: the same results as one matmul per matrix, for every variant, with the matrices'
// types (and so activation formats) mixed as in Q4_K_M files (Q4_K and Q6_K beside each other),
// interleaved and not, for decode and for prompt-sized calls (where AMX takes some matrices).
TEST(Matmul, ManyMatchesOneByOne) {
  const int64_t n_cols = 512;
  struct Spec { GgmlType type; int64_t rows; bool rows16; };
  const Spec specs[] = {{GgmlType::kQ4_K, 96, true}, {GgmlType::kQ6_K, 32, true}, {GgmlType::kQ8_0, 48, false},
                        {GgmlType::kF16, 40, false}};
  std::vector<kern_test::OwnedMatrix> ms;
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<WeightMatrix> ws;
  for (const Spec& sp : specs) {
    ms.push_back(make_matrix(sp.type, gaussian(static_cast<size_t>(sp.rows * n_cols), 21, 0.05f), sp.rows, n_cols));
    bufs.emplace_back(ms.back().w.bytes());
    ws.push_back(sp.rows16 ? interleave_rows16(ms.back().w, bufs.back().data()) : ms.back().w);
  }
  ThreadPool pool(2);
  const KernelSet* sets[] = {&kern::scalar_kernels(), kern::avx2_kernels(), kern::avx512_kernels(), kern::amx_kernels()};
  for (const KernelSet* ks : sets) {
    if (ks == nullptr) continue;
    for (int64_t n_tokens : {1, 3, 70}) {
      const std::vector<float> x = gaussian(static_cast<size_t>(n_tokens * n_cols), 22);
      std::vector<std::vector<float>> many, one;
      std::vector<MatmulOut> outs;
      for (const WeightMatrix& w : ws) {
        many.emplace_back(static_cast<size_t>(n_tokens * w.n_rows), NAN);
        one.emplace_back(many.back().size(), NAN);
      }
      for (size_t i = 0; i < ws.size(); ++i) outs.push_back({&ws[i], many[i].data()});
      kern::matmul_many_with(*ks, outs, x.data(), n_tokens, pool);
      for (size_t i = 0; i < ws.size(); ++i) {
        kern::matmul_with(*ks, ws[i], x.data(), n_tokens, one[i].data(), pool);
        EXPECT_EQ(many[i], one[i]) << ks->name << " " << ggml_type_name(ws[i].type) << " tokens " << n_tokens;
      }
    }
  }
}

}  // namespace
}  // namespace maas
