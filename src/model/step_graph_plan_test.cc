// step_graph_plan_test.cc — which steps a device backend captures and replays as graphs.
#include "model/step_graph_plan.h"

#include <gtest/gtest.h>

#include <vector>

namespace maas {
namespace {

// A batch of sequences adding these numbers of tokens each.
Batch batch_of(const std::vector<int32_t>& n_tokens) {
  Batch b;
  for (int32_t n : n_tokens) {
    b.seqs.push_back({nullptr, 0, 5, n, false});
    for (int32_t i = 0; i < n; ++i) b.tokens.push_back(1);
  }
  return b;
}

TEST(StepGraphPlan, OnlyPureDecodeStepsHaveAKey) {
  const StepGraphPlan plan(true, 8);
  EXPECT_EQ(plan.key(batch_of({1})), 1);
  EXPECT_EQ(plan.key(batch_of({1, 1, 1})), 3);
  EXPECT_EQ(plan.key(batch_of({1, 1, 1, 1, 1, 1, 1, 1})), 8);
  EXPECT_EQ(plan.key(batch_of({1, 1, 1, 1, 1, 1, 1, 1, 1})), 0);  // above max_tokens
  EXPECT_EQ(plan.key(batch_of({12})), 0);                         // prefill
  EXPECT_EQ(plan.key(batch_of({1, 4, 1})), 0);                    // mixed
  EXPECT_EQ(plan.key(Batch{}), 0);
  EXPECT_EQ(StepGraphPlan(false).key(batch_of({1})), 0);          // graphs off
}

TEST(StepGraphPlan, CapturesOnTheSecondStepOfAKeyThenReplays) {
  StepGraphPlan plan(true);
  EXPECT_EQ(plan.mode(0, false), StepMode::kEager);  // no key: always eager
  EXPECT_EQ(plan.mode(0, false), StepMode::kEager);
  EXPECT_EQ(plan.mode(3, false), StepMode::kEager);    // first step of 3 tokens: warm-up
  EXPECT_EQ(plan.mode(3, false), StepMode::kCapture);  // second: capture
  EXPECT_EQ(plan.mode(3, true), StepMode::kReplay);    // held from then on
  EXPECT_EQ(plan.mode(3, true), StepMode::kReplay);
  EXPECT_EQ(plan.mode(4, false), StepMode::kEager);    // each key on its own
  EXPECT_EQ(plan.mode(4, false), StepMode::kCapture);
}

TEST(StepGraphPlan, AFailedCaptureStaysEagerAndResetForgets) {
  StepGraphPlan plan(true);
  EXPECT_EQ(plan.mode(2, false), StepMode::kEager);
  EXPECT_EQ(plan.mode(2, false), StepMode::kCapture);
  plan.failed(2);
  EXPECT_EQ(plan.mode(2, false), StepMode::kEager);
  EXPECT_EQ(plan.mode(2, false), StepMode::kEager);
  plan.reset();  // the buffers changed: warm up and capture again
  EXPECT_EQ(plan.mode(2, false), StepMode::kEager);
  EXPECT_EQ(plan.mode(2, false), StepMode::kCapture);
}

}  // namespace
}  // namespace maas
