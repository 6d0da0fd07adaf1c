// ngram_proposer_test.cc — the prompt-lookup drafter against a brute-force reference of its
// definition, as the sequence grows by one or several tokens at a time.
#include "engine/ngram_proposer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace maas {
namespace {

// The definition, by brute force: the longest n (n_max..n_min) whose suffix occurred earlier,
// its most recent earlier occurrence, up to k tokens after it.
std::vector<int32_t> reference_draft(const std::vector<int32_t>& t, int32_t n_min, int32_t n_max, int32_t k) {
  const int32_t len = static_cast<int32_t>(t.size());
  for (int32_t n = std::min(n_max, len - 1); n >= n_min; --n) {
    for (int32_t e = len - 1; e >= n; --e) {  // occurrence t[e - n, e), most recent first
      if (std::equal(t.begin() + (e - n), t.begin() + e, t.begin() + (len - n))) {
        return std::vector<int32_t>(t.begin() + e, t.begin() + std::min(len, e + k));
      }
    }
  }
  return {};
}

TEST(NgramProposer, MatchesBruteForceAsTheSequenceGrows) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int32_t n_min = 1 + trial % 2, n_max = n_min + trial % 4;
    NgramProposer p(n_min, n_max);
    std::vector<int32_t> t;
    for (int step = 0; step < 300; ++step) {
      const int grow = 1 + static_cast<int>(rng() % 3);  // several tokens at once, like accepted drafts
      for (int g = 0; g < grow; ++g) t.push_back(static_cast<int32_t>(rng() % 6));
      const int32_t k = 1 + static_cast<int32_t>(rng() % 5);
      ASSERT_EQ(p.propose(t, k), reference_draft(t, n_min, n_max, k)) << "trial " << trial << " len " << t.size();
    }
  }
}

TEST(NgramProposer, PrefersLongestThenMostRecent) {
  NgramProposer p(1, 3);
  // "1 2 3" occurred before followed by 7 8; "3" alone most recently followed by 9.
  EXPECT_EQ(p.propose(std::vector<int32_t>{1, 2, 3, 7, 8, 3, 9, 1, 2, 3}, 2), (std::vector<int32_t>{7, 8}));
  NgramProposer q(1, 3);
  EXPECT_EQ(q.propose(std::vector<int32_t>{5, 3, 9, 4, 3}, 4), (std::vector<int32_t>{9, 4, 3}));  // up to the end
  NgramProposer none(2, 3);
  EXPECT_TRUE(none.propose(std::vector<int32_t>{1, 2, 3, 4, 2}, 4).empty());  // "4 2" never occurred
  EXPECT_TRUE(none.propose(std::vector<int32_t>{1, 2, 3, 4, 2, 3}, 0).empty());
}

}  // namespace
}  // namespace maas
