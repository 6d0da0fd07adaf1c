// kl_divergence_test.cc — per-position KL divergence against closed forms, and the summary.
#include "eval/kl_divergence.h"

#include <gtest/gtest.h>

#include <cmath>

namespace maas::eval {
namespace {

TEST(KlDivergence, ZeroForTheSameDistribution) {
  const double raw[4] = {1.0, -2.0, 0.5, 3.0};
  const float logits[4] = {11.f, 8.f, 10.5f, 13.f};  // the same up to a shift
  double base[4];
  log_softmax(raw, 4, base);
  KlPosition p = compare_position(logits, base, 4, 2);
  EXPECT_NEAR(p.kld, 0, 1e-12);
  EXPECT_NEAR(p.p_diff, 0, 1e-12);
  EXPECT_NEAR(p.nll, -base[2], 1e-12);
  EXPECT_TRUE(p.same_top);
}

TEST(KlDivergence, MatchesTheClosedForm) {
  // base p = (0.7, 0.2, 0.1); run q = softmax(logits).
  const double p[3] = {0.7, 0.2, 0.1};
  double base[3];
  for (int i = 0; i < 3; ++i) base[i] = std::log(p[i]);
  const float logits[3] = {0.f, 1.f, -1.f};
  double z = std::exp(0.0) + std::exp(1.0) + std::exp(-1.0);
  double q[3] = {1 / z, std::exp(1.0) / z, std::exp(-1.0) / z};
  double want = 0;
  for (int i = 0; i < 3; ++i) want += p[i] * std::log(p[i] / q[i]);
  KlPosition r = compare_position(logits, base, 3, 0);
  EXPECT_NEAR(r.kld, want, 1e-12);
  EXPECT_NEAR(r.p_diff, q[0] - 0.7, 1e-12);
  EXPECT_FALSE(r.same_top);  // base's top is 0, the run's is 1
}

TEST(KlDivergence, SummaryStatistics) {
  KlAccumulator acc;
  for (int i = 1; i <= 101; ++i) {
    KlPosition p;
    p.kld = i * 1e-3;
    p.p_diff = (i % 2 ? 1 : -1) * 0.01;
    p.nll = 2.0;
    p.nll_base = 1.5;
    p.same_top = i <= 75;
    acc.add(p);
  }
  KlSummary s = acc.summary();
  EXPECT_EQ(s.count, 101u);
  EXPECT_NEAR(s.kld.value, 51e-3, 1e-12);
  EXPECT_NEAR(s.kld_median, 51e-3, 1e-12);
  EXPECT_NEAR(s.kld_max, 101e-3, 1e-12);
  EXPECT_NEAR(s.kld_p99, 100e-3, 1e-12);
  EXPECT_NEAR(s.rms_p_diff.value, 0.01, 1e-12);
  EXPECT_NEAR(s.same_top.value, 75.0 / 101, 1e-12);
  EXPECT_NEAR(s.ppl.value, std::exp(2.0), 1e-9);
  EXPECT_NEAR(s.ppl_base.value, std::exp(1.5), 1e-9);
  EXPECT_NEAR(s.ln_ppl_ratio.value, 0.5, 1e-12);
  EXPECT_GT(s.kld.error, 0);
}

}  // namespace
}  // namespace maas::eval
