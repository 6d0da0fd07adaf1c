// sampling_params_test.cc — validation names the field and rejects NaN and out-of-range values.
#include "sampling/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace maas {
namespace {

void expect_rejected(const std::string& field, const std::function<void(SamplingParams&)>& set) {
  SamplingParams p;
  set(p);
  Status s = validate_sampling_params(p, 100);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << field;
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
}

TEST(ValidateSamplingParams, DefaultsAndEdgesAreOk) {
  EXPECT_TRUE(validate_sampling_params(SamplingParams{}, 100).ok());
  SamplingParams p;
  p.temperature = 0;
  p.top_p = 1;
  p.top_k = -1;
  p.min_p = 1;
  p.presence_penalty = -2;
  p.frequency_penalty = 2;
  p.repetition_penalty = 2;
  p.n_logprobs = 20;
  p.logit_bias = {{0, -100}, {99, 100}};
  EXPECT_TRUE(validate_sampling_params(p, 100).ok());
  p.temperature = 2;
  p.top_k = 500;  // larger than the vocabulary means off
  p.n_logprobs = 0;
  EXPECT_TRUE(validate_sampling_params(p, 100).ok());
}

TEST(ValidateSamplingParams, RejectsOutOfRangeNamingTheField) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_rejected("temperature", [](SamplingParams& p) { p.temperature = 2.01f; });
  expect_rejected("temperature", [](SamplingParams& p) { p.temperature = -0.1f; });
  expect_rejected("temperature", [&](SamplingParams& p) { p.temperature = nan; });
  expect_rejected("top_p", [](SamplingParams& p) { p.top_p = 0.0f; });
  expect_rejected("top_p", [](SamplingParams& p) { p.top_p = 1.5f; });
  expect_rejected("top_p", [&](SamplingParams& p) { p.top_p = nan; });
  expect_rejected("top_k", [](SamplingParams& p) { p.top_k = -2; });
  expect_rejected("min_p", [](SamplingParams& p) { p.min_p = -0.01f; });
  expect_rejected("min_p", [&](SamplingParams& p) { p.min_p = nan; });
  expect_rejected("presence_penalty", [](SamplingParams& p) { p.presence_penalty = 2.5f; });
  expect_rejected("presence_penalty", [&](SamplingParams& p) { p.presence_penalty = nan; });
  expect_rejected("frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = -3.0f; });
  expect_rejected("frequency_penalty", [&](SamplingParams& p) { p.frequency_penalty = -inf; });
  expect_rejected("repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = 0.0f; });
  expect_rejected("repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = 2.1f; });
  expect_rejected("repetition_penalty", [&](SamplingParams& p) { p.repetition_penalty = nan; });
  expect_rejected("logprobs", [](SamplingParams& p) { p.n_logprobs = 21; });
  expect_rejected("logprobs", [](SamplingParams& p) { p.n_logprobs = -2; });
  expect_rejected("logit_bias", [](SamplingParams& p) { p.logit_bias = {{100, 1.0f}}; });
  expect_rejected("logit_bias", [](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; });
  expect_rejected("logit_bias", [](SamplingParams& p) { p.logit_bias = {{3, 100.5f}}; });
  expect_rejected("logit_bias", [&](SamplingParams& p) { p.logit_bias = {{3, nan}}; });
}

TEST(ValidateSamplingParams, MessageShowsValue) {
  SamplingParams p;
  p.temperature = 3;
  EXPECT_EQ(validate_sampling_params(p, 10).message(), "temperature must be in [0, 2], got 3");
}

}  // namespace
}  // namespace maas
