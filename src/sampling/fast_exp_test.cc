// fast_exp_test.cc — fast_exp accuracy against double exp, and exp_weights' sums.
#include "sampling/fast_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace maas {
namespace {

TEST(FastExp, RelativeErrorOverTheSamplerDomain) {
  double worst = 0;
  for (int i = 0; i <= 2000000; ++i) {
    const float x = -87.0f * static_cast<float>(i) / 2000000.0f;
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast_exp(x) - want) / want);
  }
  std::printf("fast_exp worst relative error on [-87, 0]: %.3g\n", worst);
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
}

TEST(FastExp, UnderflowAndMinusInfAreZero) {
  EXPECT_EQ(fast_exp(-87.5f), 0.0f);
  EXPECT_EQ(fast_exp(-1000.0f), 0.0f);
  EXPECT_EQ(fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(FastExp, WeightsAndBlockSums) {
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(i * 0.3) * 5);
  std::vector<float> w(x.size());
  std::vector<double> blocks(4);
  const double total = exp_weights(x.data(), 1000, 5.0f, 0.5f, w.data(), blocks.data());
  double want = 0;
  for (float v : x) want += std::exp((static_cast<double>(v) - 5.0) * 0.5);
  EXPECT_NEAR(total, want, want * 1e-6);
  EXPECT_NEAR(blocks[0] + blocks[1] + blocks[2] + blocks[3], total, total * 1e-12);
  EXPECT_NEAR(w[10], std::exp((x[10] - 5.0) * 0.5), 1e-6);
}

}  // namespace
}  // namespace maas
