// penalties_test.cc — each penalty changes the logits exactly as its formula says.
#include "sampling/penalties.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace maas {
namespace {

TEST(Penalties, LogitBiasAddsAndIgnoresOutOfRange) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f};
  std::vector<std::pair<int32_t, float>> bias = {{0, 0.5f}, {2, -100.0f}, {2, 1.0f}, {3, 5.0f}, {-1, 5.0f}};
  apply_logit_bias(l.data(), 3, bias);
  EXPECT_EQ(l[0], 1.5f);
  EXPECT_EQ(l[1], 2.0f);
  EXPECT_EQ(l[2], 3.0f - 100.0f + 1.0f);
}

TEST(Penalties, Banned) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f};
  std::vector<int32_t> banned = {2, 7};
  apply_banned(l.data(), 3, banned);
  EXPECT_EQ(l[2], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(l[1], 2.0f);
}

TEST(Penalties, RepetitionDividesPositiveMultipliesNegativeOncePerToken) {
  std::vector<float> l = {2.0f, -1.5f, 0.0f, 4.0f, -3.0f};
  PenaltyScratch scratch;
  std::vector<int32_t> prompt = {0, 1, 0, 2};
  std::vector<int32_t> generated = {1, 0, 4, 4, 99};
  apply_repetition_penalty(l.data(), 5, prompt, generated, 1.25f, scratch);
  EXPECT_EQ(l[0], 2.0f / 1.25f);   // seen three times, penalized once
  EXPECT_EQ(l[1], -1.5f * 1.25f);
  EXPECT_EQ(l[2], 0.0f);           // 0 * penalty
  EXPECT_EQ(l[3], 4.0f);           // never seen
  EXPECT_EQ(l[4], -3.0f * 1.25f);  // generated only
  // penalty < 1 encourages repetition with the same formula.
  std::vector<float> m = {2.0f, -2.0f};
  std::vector<int32_t> both = {0, 1};
  apply_repetition_penalty(m.data(), 2, both, {}, 0.5f, scratch);
  EXPECT_EQ(m[0], 4.0f);
  EXPECT_EQ(m[1], -1.0f);
}

TEST(Penalties, FrequencyAndPresenceOverGeneratedCounts) {
  std::vector<float> l = {1.0f, 1.0f, 1.0f, 1.0f};
  PenaltyScratch scratch;
  std::vector<int32_t> generated = {2, 1, 2, 2, 1, 3};  // counts: 0:0 1:2 2:3 3:1
  apply_frequency_presence_penalties(l.data(), 4, generated, 0.3f, 0.7f, scratch);
  EXPECT_EQ(l[0], 1.0f);
  EXPECT_EQ(l[1], (1.0f - 0.3f * 2.0f) - 0.7f);
  EXPECT_EQ(l[2], (1.0f - 0.3f * 3.0f) - 0.7f);
  EXPECT_EQ(l[3], (1.0f - 0.3f * 1.0f) - 0.7f);
  EXPECT_NEAR(l[2], 1.0 - 0.9 - 0.7, 1e-6);
}

TEST(Penalties, NegativePenaltiesRewardAndPromptIsIgnored) {
  std::vector<float> l = {0.0f, 0.0f};
  PenaltyScratch scratch;
  std::vector<int32_t> generated = {1, 1};
  apply_frequency_presence_penalties(l.data(), 2, generated, -1.0f, -2.0f, scratch);
  EXPECT_EQ(l[0], 0.0f);
  EXPECT_EQ(l[1], 4.0f);
}

TEST(Penalties, ScratchReuseAcrossCalls) {
  PenaltyScratch scratch;
  std::vector<float> a = {1.0f, 1.0f, 1.0f};
  std::vector<int32_t> t1 = {0};
  apply_repetition_penalty(a.data(), 3, t1, {}, 2.0f, scratch);
  std::vector<float> b = {1.0f, 1.0f, 1.0f};
  std::vector<int32_t> t2 = {1};
  apply_repetition_penalty(b.data(), 3, t2, {}, 2.0f, scratch);
  EXPECT_EQ(b[0], 1.0f);  // the previous call's bit did not leak
  EXPECT_EQ(b[1], 0.5f);
}

}  // namespace
}  // namespace maas
