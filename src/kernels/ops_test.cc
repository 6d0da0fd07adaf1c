// ops_test.cc — the element-wise ops against their definitions, and the SIMD dot_f32 / axpy_f32
// of every variant against the scalar ones over lengths that hit every tail path.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern_test::gaussian;

std::vector<const kern::KernelSet*> variants() {
  std::vector<const kern::KernelSet*> v = {&kern::scalar_kernels()};
  if (kern::avx2_kernels()) v.push_back(kern::avx2_kernels());
  if (kern::avx512_kernels()) v.push_back(kern::avx512_kernels());
  return v;
}

TEST(Ops, RmsNormMatchesDefinitionAndMayAlias) {
  const std::vector<float> x = gaussian(4096, 1, 3.f), w = gaussian(4096, 2);
  std::vector<float> out(x.size()), inplace = x;
  rms_norm(x.data(), w.data(), out.data(), 4096, 1e-5f);
  rms_norm(inplace.data(), w.data(), inplace.data(), 4096, 1e-5f);
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double scale = 1.0 / std::sqrt(ss / 4096 + 1e-5);
  for (int i = 0; i < 4096; ++i) {
    EXPECT_NEAR(out[i], x[i] * scale * w[i], 1e-5 * std::fabs(x[i] * scale * w[i]) + 1e-7);
    EXPECT_EQ(out[i], inplace[i]);
  }
}

TEST(Ops, SiluMul) {
  const std::vector<float> g = gaussian(1000, 3, 4.f), u = gaussian(1000, 4);
  std::vector<float> out(1000), inplace = g;
  silu_mul(g.data(), u.data(), out.data(), 1000);
  silu_mul(inplace.data(), u.data(), inplace.data(), 1000);
  for (int i = 0; i < 1000; ++i) {
    const double e = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
    EXPECT_NEAR(out[i], e, 1e-5 * std::fabs(e) + 1e-7);
    EXPECT_EQ(out[i], inplace[i]);
  }
  float big[2] = {-100.f, 100.f}, one[2] = {1.f, 1.f};  // no NaN at the extremes
  silu_mul(big, one, big, 2);
  EXPECT_NEAR(big[0], 0.f, 1e-30);
  EXPECT_EQ(big[1], 100.f);
}

TEST(Ops, SoftmaxIsStableAndNormalised) {
  std::vector<float> x = {1000.f, 1001.f, 999.f, -1e30f};
  softmax(x.data(), 4);
  const double e0 = std::exp(-1.0), e2 = std::exp(-2.0), sum = e0 + 1 + e2;
  EXPECT_NEAR(x[0], e0 / sum, 1e-6);
  EXPECT_NEAR(x[1], 1 / sum, 1e-6);
  EXPECT_NEAR(x[2], e2 / sum, 1e-6);
  EXPECT_EQ(x[3], 0.f);
  std::vector<float> y = gaussian(777, 5, 5.f);
  softmax(y.data(), 777);
  double s = 0;
  for (float v : y) s += v;
  EXPECT_NEAR(s, 1.0, 1e-5);
}

TEST(Ops, AddInplace) {
  std::vector<float> y = {1, 2, 3}, x = {0.5f, -2, 10};
  add_inplace(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1.5f, 0, 13}));
}

TEST(Ops, DotAndAxpyEveryVariantEveryTail) {
  for (const kern::KernelSet* ks : variants()) {
    for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 4099}) {
      const std::vector<float> a = gaussian(static_cast<size_t>(n), 10 + static_cast<uint32_t>(n));
      const std::vector<float> b = gaussian(static_cast<size_t>(n), 20 + static_cast<uint32_t>(n));
      double exact = 0, l1 = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += static_cast<double>(a[i]) * b[i];
        l1 += std::fabs(static_cast<double>(a[i]) * b[i]);
      }
      EXPECT_NEAR(ks->dot_f32(a.data(), b.data(), n), exact, 1e-5 * l1 + 1e-7) << ks->name << " n " << n;
      std::vector<float> y = b, y_ref = b;
      ks->axpy_f32(0.75f, a.data(), y.data(), n);
      ref::axpy_f32(0.75f, a.data(), y_ref.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], y_ref[i], 1e-6f * (1 + std::fabs(y_ref[i]))) << ks->name;
    }
  }
  const std::vector<float> a = gaussian(300, 1), b = gaussian(300, 2);
  EXPECT_FLOAT_EQ(dot_f32(a.data(), b.data(), 300), kern::active_kernels().dot_f32(a.data(), b.data(), 300));
}

TEST(Ops, VariantNames) {
  EXPECT_STREQ(kern::scalar_kernels().name, "scalar");
  const std::string v = kernel_variant();
  EXPECT_TRUE(v == "scalar" || v == "avx2" || v == "avx512" || v == "amx") << v;
}

}  // namespace
}  // namespace maas
