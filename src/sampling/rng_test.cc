// rng_test.cc — determinism and range of the sampler's xoshiro256** generator.
#include "sampling/rng.h"

#include <gtest/gtest.h>

#include <vector>

namespace maas {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(1234), b(1234);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next()) << i;
}

TEST(Rng, DifferentSeedsDiffer) {
  Rng a(1), b(2), zero(0);
  int same = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next(), y = b.next();
    same += x == y;
    EXPECT_NE(zero.next(), 0u);  // seed 0 still yields a live state
  }
  EXPECT_EQ(same, 0);
}

TEST(Rng, UniformRangeAndMean) {
  Rng r(7);
  double sum_f = 0, sum_d = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    float f = r.uniform();
    double d = r.uniform_double();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum_f += f;
    sum_d += d;
  }
  // Standard error of the mean is 1/sqrt(12 n) ~ 0.0009; 0.005 is > 5 sigma.
  EXPECT_NEAR(sum_f / n, 0.5, 0.005);
  EXPECT_NEAR(sum_d / n, 0.5, 0.005);
}

TEST(Rng, RandomDeviceSeedsDiffer) {
  Rng a = Rng::from_random_device(), b = Rng::from_random_device();
  EXPECT_NE(a.next(), b.next());  // fails with probability 2^-64
}

}  // namespace
}  // namespace maas
