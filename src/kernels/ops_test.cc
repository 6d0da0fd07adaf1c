// ops_test.cc — the element-wise ops against their definitions, and the variant names.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern_test::gaussian;

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

TEST(Ops, AddInplace) {
  std::vector<float> y = {1, 2, 3}, x = {0.5f, -2, 10};
  add_inplace(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1.5f, 0, 13}));
}

TEST(Ops, VariantNames) {
  EXPECT_STREQ(kern::scalar_kernels().name, "scalar");
  const std::string v = kernel_variant();
  EXPECT_TRUE(v == "scalar" || v == "avx2" || v == "avx512" || v == "amx") << v;
}

}  // namespace
}  // namespace maas
