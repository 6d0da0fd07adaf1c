// logprobs_test.cc — log-softmax normalizer and top-k selection against brute force in double.
#include "sampling/logprobs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "sampling/rng.h"

namespace maas {
namespace {

double log_normalizer_double(const std::vector<float>& l) {
  double m = -std::numeric_limits<double>::infinity();
  for (float x : l) m = std::max(m, static_cast<double>(x));
  double s = 0;
  for (float x : l) s += std::exp(static_cast<double>(x) - m);
  return m + std::log(s);
}

TEST(Logprobs, NormalizerMatchesDouble) {
  Rng rng(3);
  std::vector<float> l(128256);
  for (float& x : l) x = (rng.uniform() - 0.5f) * 30.0f;
  const float m = *std::max_element(l.begin(), l.end());
  EXPECT_NEAR(log_normalizer(l.data(), static_cast<int32_t>(l.size()), m), log_normalizer_double(l), 1e-6);
}

TEST(Logprobs, TopKSortedWithTiesByIdAndSkipsMinusInf) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> l = {1.0f, 5.0f, 3.0f, 5.0f, ninf, 3.0f, 0.0f};
  for (int32_t k : {2, 3, 4, 200}) {  // 200 exercises the nth_element path
    std::vector<Candidate> out;
    select_top_k(l.data(), 7, k, out);
    std::vector<int32_t> ids;
    for (auto& c : out) ids.push_back(c.id);
    std::vector<int32_t> want = {1, 3, 2, 5, 0, 6};
    want.resize(std::min<size_t>(static_cast<size_t>(k), want.size()));
    EXPECT_EQ(ids, want) << "k=" << k;
  }
}

TEST(Logprobs, TopKMatchesFullSortOnLargeVocab) {
  Rng rng(11);
  std::vector<float> l(50000);
  for (float& x : l) x = std::round(rng.uniform() * 200.0f) / 10.0f;  // many ties
  std::vector<int32_t> order(l.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return better({l[a], a}, {l[b], b}); });
  for (int32_t k : {1, 20, 128, 129, 1000}) {
    std::vector<Candidate> out;
    select_top_k(l.data(), static_cast<int32_t>(l.size()), k, out);
    ASSERT_EQ(out.size(), static_cast<size_t>(k));
    for (int32_t j = 0; j < k; ++j) ASSERT_EQ(out[j].id, order[j]) << "k=" << k << " j=" << j;
  }
}

TEST(Logprobs, TopLogprobsValues) {
  std::vector<float> l = {0.5f, -1.0f, 2.0f, 2.0f};
  const double norm = log_normalizer_double(l);
  auto top = top_logprobs(l.data(), 4, 3, norm);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 2);
  EXPECT_EQ(top[1].id, 3);
  EXPECT_EQ(top[2].id, 0);
  EXPECT_NEAR(top[0].logprob, 2.0 - norm, 1e-6);
  EXPECT_NEAR(top[2].logprob, 0.5 - norm, 1e-6);
  EXPECT_TRUE(top_logprobs(l.data(), 4, 0, norm).empty());
}

}  // namespace
}  // namespace maas
