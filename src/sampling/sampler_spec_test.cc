// sampler_spec_test.cc — the speculative sampling rule as the engine applies it to a
// deterministic draft token x (engine/engine_spec.cc): sample the position with the sequence's
// sampler and accept x when the token equals it. That must be "accept x with probability p(x)
// under the final processed distribution, else draw from p with x removed and renormalised":
// chi-square over 100k draws with fixed seeds on small explicit distributions, for the
// acceptance rate, the residual (the tokens given a rejection) and the token returned, through
// temperature, top_k and top_p. A residual that kept x, or was not renormalised, fails by orders
// of magnitude (WrongResidualWouldFail shows the test can tell).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/sampler.h"

namespace maas {
namespace {

constexpr int kDraws = 100000;

struct Verified {
  std::vector<int64_t> tokens;    // every token returned
  std::vector<int64_t> residual;  // tokens returned when the draft was rejected
  int64_t accepted = 0;
};

// Verifies `draft` kDraws times under the distribution p (logits = log p).
Verified verify(SamplingParams params, const std::vector<double>& p, int32_t draft) {
  Sampler s(params);
  Verified v{std::vector<int64_t>(p.size(), 0), std::vector<int64_t>(p.size(), 0), 0};
  for (int i = 0; i < kDraws; ++i) {
    std::vector<float> logits(p.size());
    for (size_t j = 0; j < p.size(); ++j) logits[j] = p[j] > 0 ? static_cast<float>(std::log(p[j])) : -1e30f;
    const int32_t t = s.sample(logits.data(), static_cast<int32_t>(logits.size()), {}, {}).token;
    ++v.tokens[static_cast<size_t>(t)];
    if (t == draft) {
      ++v.accepted;
    } else {
      ++v.residual[static_cast<size_t>(t)];
    }
  }
  return v;
}

// Pearson's chi-square of counts against probabilities q (cells with q = 0 must be empty).
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& q) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  double chi = 0;
  for (size_t j = 0; j < q.size(); ++j) {
    if (q[j] == 0) {
      EXPECT_EQ(counts[j], 0) << "token " << j << " has probability 0";
      continue;
    }
    const double e = q[j] * static_cast<double>(n);
    chi += (static_cast<double>(counts[j]) - e) * (static_cast<double>(counts[j]) - e) / e;
  }
  return chi;
}

// p without x, renormalised: what a rejection must draw from.
std::vector<double> without(std::vector<double> p, int32_t x) {
  const double rest = 1 - p[static_cast<size_t>(x)];
  p[static_cast<size_t>(x)] = 0;
  for (double& v : p) v /= rest;
  return p;
}

SamplingParams seeded(uint64_t seed) {
  SamplingParams params;
  params.seed = seed;
  return params;
}

// Acceptance within 4 sigma of p(x) N; residual and returned tokens within the 0.999 quantile of
// chi-square (1 dof 10.83, 2 dof 13.82, 3 dof 16.27, 4 dof 18.47).
void expect_rule(const Verified& v, const std::vector<double>& p, int32_t x, double residual_crit, double all_crit) {
  const double px = p[static_cast<size_t>(x)];
  EXPECT_NEAR(static_cast<double>(v.accepted), px * kDraws, 4 * std::sqrt(px * (1 - px) * kDraws) + 1) << "draft " << x;
  if (px < 1) {
    EXPECT_LT(chi_square(v.residual, without(p, x)), residual_crit) << "draft " << x;
  }
  EXPECT_LT(chi_square(v.tokens, p), all_crit) << "draft " << x;
}

TEST(SamplerSpec, AcceptsWithProbabilityPAndRejectsToTheRenormalisedRest) {
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  for (int32_t draft : {0, 1, 4}) expect_rule(verify(seeded(11 + static_cast<uint64_t>(draft)), p, draft), p, draft, 16.27, 18.47);
}

TEST(SamplerSpec, WrongResidualWouldFail) {
  // What a residual that kept the draft would give overall: (1 - p(x)) p + p(x) on x.
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  std::vector<double> wrong = p;
  for (size_t j = 0; j < p.size(); ++j) wrong[j] = (1 - p[1]) * p[j] + (j == 1 ? p[1] : 0.0);
  EXPECT_GT(chi_square(verify(seeded(5), p, 1).tokens, wrong), 1000.0);
  // And a residual that was not renormalised over the rest (x's mass left on the best token).
  std::vector<double> lumped = without(p, 1);
  for (double& v : lumped) v *= 1 - p[1];
  lumped[0] += p[1];
  EXPECT_GT(chi_square(verify(seeded(6), p, 1).residual, lumped), 1000.0);
}

TEST(SamplerSpec, TheFinalProcessedDistributionDecides) {
  const std::vector<double> p = {0.4, 0.3, 0.15, 0.1, 0.05};
  // top_k = 3 keeps {0, 1, 2} renormalised: a draft outside it is never accepted.
  SamplingParams top_k = seeded(3);
  top_k.top_k = 3;
  const std::vector<double> kept = {0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0};
  for (int32_t draft : {0, 2}) expect_rule(verify(top_k, p, draft), kept, draft, 10.83, 13.82);
  const Verified outside = verify(top_k, p, 3);
  EXPECT_EQ(outside.accepted, 0);
  EXPECT_LT(chi_square(outside.tokens, kept), 13.82);
  // top_p = 0.7 keeps {0, 1} (0.4 + 0.3 >= 0.7), over the whole vocabulary (the histogram path).
  SamplingParams nucleus = seeded(4);
  nucleus.top_p = 0.7f;
  const Verified nv = verify(nucleus, p, 0);
  EXPECT_NEAR(static_cast<double>(nv.accepted), 0.4 / 0.7 * kDraws, 4 * std::sqrt(0.4 / 0.7 * 0.3 / 0.7 * kDraws));
  EXPECT_EQ(nv.residual[1], kDraws - nv.accepted);  // the rest is all token 1
  // Temperature 0.5 squares and renormalises the probabilities.
  SamplingParams cool = seeded(6);
  cool.temperature = 0.5f;
  std::vector<double> sq(p.size());
  double z = 0;
  for (size_t j = 0; j < p.size(); ++j) z += sq[j] = p[j] * p[j];
  for (double& v : sq) v /= z;
  expect_rule(verify(cool, p, 1), sq, 1, 16.27, 18.47);
}

}  // namespace
}  // namespace maas
