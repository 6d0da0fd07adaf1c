// sampler_spec_test.cc — speculative verification of a draft token (Sampler::sample with a
// draft): the token returned must be distributed exactly as plain sampling's, and the draft
// accepted with probability p(draft). Chi-square over 100k draws with a fixed seed; a residual
// that kept the draft, or was not renormalised, fails these by orders of magnitude.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/sampler.h"

namespace maas {
namespace {

constexpr int kDraws = 100000;

// Counts of the tokens returned when verifying `draft` under `p` (logits = log p).
std::vector<int64_t> verify_histogram(SamplingParams params, const std::vector<double>& p, int32_t draft) {
  Sampler s(params);
  std::vector<int64_t> counts(p.size(), 0);
  for (int i = 0; i < kDraws; ++i) {
    std::vector<float> logits(p.size());
    for (size_t j = 0; j < p.size(); ++j) logits[j] = p[j] > 0 ? static_cast<float>(std::log(p[j])) : -1e30f;
    ++counts[static_cast<size_t>(s.sample(logits.data(), static_cast<int32_t>(logits.size()), {}, {}, {}, draft).token)];
  }
  return counts;
}

// Pearson's chi-square of counts against expected probabilities (cells with p = 0 must be empty).
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& p) {
  double chi = 0;
  for (size_t j = 0; j < p.size(); ++j) {
    if (p[j] == 0) {
      EXPECT_EQ(counts[j], 0) << "token " << j << " has probability 0";
      continue;
    }
    const double e = p[j] * kDraws;
    chi += (static_cast<double>(counts[j]) - e) * (static_cast<double>(counts[j]) - e) / e;
  }
  return chi;
}

SamplingParams seeded(uint64_t seed) {
  SamplingParams params;
  params.seed = seed;
  return params;
}

// 0.999 quantiles of chi-square: 4 degrees of freedom 18.47, 2 degrees 13.82.
TEST(SamplerSpec, VerifiedTokenIsDistributedAsPlainSampling) {
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  for (int32_t draft : {0, 1, 4}) {
    std::vector<int64_t> counts = verify_histogram(seeded(11 + static_cast<uint64_t>(draft)), p, draft);
    EXPECT_LT(chi_square(counts, p), 18.47) << "draft " << draft;
    // The draft is accepted with probability p(draft): its count is within 4 sigma of p * N.
    const double sigma = std::sqrt(p[static_cast<size_t>(draft)] * (1 - p[static_cast<size_t>(draft)]) * kDraws);
    EXPECT_NEAR(static_cast<double>(counts[static_cast<size_t>(draft)]), p[static_cast<size_t>(draft)] * kDraws, 4 * sigma);
  }
}

TEST(SamplerSpec, WrongResidualWouldFail) {
  // What a residual that kept the draft would give: p(x) + (1 - p(x)) p(x) for the draft.
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  std::vector<double> wrong = p;
  for (size_t j = 0; j < p.size(); ++j) wrong[j] = (1 - p[1]) * p[j] + (j == 1 ? p[1] : 0.0);
  std::vector<int64_t> counts = verify_histogram(seeded(5), p, 1);
  EXPECT_GT(chi_square(counts, wrong), 1000.0);  // the test above can tell them apart
}

TEST(SamplerSpec, FiltersApplyBeforeVerification) {
  // top_k = 3 keeps {0, 1, 2} renormalised; a draft outside it is never accepted.
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  const std::vector<double> kept = {0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0};
  SamplingParams params = seeded(3);
  params.top_k = 3;
  EXPECT_LT(chi_square(verify_histogram(params, p, 3), kept), 13.82);
  EXPECT_LT(chi_square(verify_histogram(params, p, 0), kept), 13.82);
  EXPECT_LT(chi_square(verify_histogram(params, p, 1), kept), 13.82);
  // top_p = 0.7 keeps {0, 1} (0.4 + 0.3 >= 0.7) over the whole vocabulary (the histogram path).
  SamplingParams nucleus = seeded(4);
  nucleus.top_p = 0.7f;
  const std::vector<double> two = {0.4 / 0.7, 0.3 / 0.7, 0, 0, 0};
  EXPECT_LT(chi_square(verify_histogram(nucleus, p, 0), two), 10.83);  // 1 degree of freedom
  // Temperature 0.5 squares and renormalises the probabilities.
  SamplingParams cool = seeded(6);
  cool.temperature = 0.5f;
  std::vector<double> sq(p.size());
  double z = 0;
  for (size_t j = 0; j < p.size(); ++j) z += sq[j] = p[j] * p[j];
  for (double& v : sq) v /= z;
  EXPECT_LT(chi_square(verify_histogram(cool, p, 0), sq), 18.47);
}

TEST(SamplerSpec, GreedyIgnoresTheDraftAndLoneCandidateIsAccepted) {
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  Sampler g(greedy);
  std::vector<float> logits = {0.1f, 2.0f, 1.0f};
  EXPECT_EQ(g.sample(logits.data(), 3, {}, {}, {}, 2).token, 1);
  SamplingParams one = seeded(1);
  one.top_k = 2;
  one.min_p = 0.99f;  // only the max survives
  Sampler s(one);
  for (int i = 0; i < 100; ++i) {
    std::vector<float> l = {0.1f, 2.0f, 1.0f};
    EXPECT_EQ(s.sample(l.data(), 3, {}, {}, {}, 1).token, 1);
  }
}

}  // namespace
}  // namespace maas
