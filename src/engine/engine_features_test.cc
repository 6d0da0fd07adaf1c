// engine_features_test.cc — per-request features of the engine core: n / seed, best_of, beam
// search, min_tokens, stop token ids, echo logprobs, deadlines and injected faults.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "engine/engine_test_util.h"

namespace maas {
namespace {
using testing::Collector;
using testing::engine_test_model;
using testing::greedy_request;
using testing::RequestResult;
using testing::run_one;
using testing::test_engine_options;
using testing::test_prompt;

EngineRequest sampled(const std::string& id, int32_t n, uint64_t seed) {
  EngineRequest q = greedy_request(id, test_prompt(21, 77), 20);
  q.sampling.temperature = 1.0f;
  q.sampling.seed = seed;
  q.n = n;
  return q;
}

TEST(EngineFeatures, NWithSeedIsReproducibleAndUsesSeedPlusIndex) {
  RequestResult a = run_one(test_engine_options(), sampled("n3", 3, 7));
  RequestResult b = run_one(test_engine_options(), sampled("n3", 3, 7));
  ASSERT_EQ(a.text.size(), 3u);
  EXPECT_EQ(a.text, b.text);
  EXPECT_FALSE(a.text[0] == a.text[1] && a.text[1] == a.text[2]);
  // Choice i is what a single sequence with seed + i produces (the prompt is forked, not redone).
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_one(test_engine_options(), sampled("n1", 1, 7 + i)).text[0], a.text[static_cast<size_t>(i)]);
  }
  EXPECT_GE(a.last.completion_tokens, 3);
}

TEST(EngineFeatures, StreamingNHasOneFinishPerChoice) {
  EngineRequest q = sampled("n3s", 3, 9);
  q.stream = true;
  RequestResult r = run_one(test_engine_options(), q);
  RequestResult plain = run_one(test_engine_options(), sampled("n3", 3, 9));
  ASSERT_EQ(r.text.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.n_finish[static_cast<size_t>(i)], 1);
    EXPECT_EQ(r.text[static_cast<size_t>(i)], plain.text[static_cast<size_t>(i)]);
  }
}

TEST(EngineFeatures, BestOfReturnsHighestMeanLogprob) {
  EngineRequest q = sampled("best", 1, 3);
  q.best_of = 4;
  RequestResult best = run_one(test_engine_options(), q);
  ASSERT_EQ(best.text.size(), 1u);
  double best_mean = -1e30;
  std::string expected;
  for (int i = 0; i < 4; ++i) {
    EngineRequest one = sampled("one", 1, 3 + i);
    one.logprobs = 0;
    RequestResult r = run_one(test_engine_options(), one);
    double sum = 0;
    for (const TokenLogprobs& lp : r.logprobs[0]) sum += lp.logprob;
    double mean = sum / static_cast<double>(r.logprobs[0].size());
    if (mean > best_mean) {
      best_mean = mean;
      expected = r.text[0];
    }
  }
  EXPECT_EQ(best.text[0], expected);
  EXPECT_GE(best.last.completion_tokens, 4);  // every generated sequence counts
}

TEST(EngineFeatures, StopTokenIdsAndMinTokens) {
  EngineRequest q = greedy_request("ids", test_prompt(15, 4), 12);
  q.logprobs = 0;
  RequestResult base = run_one(test_engine_options(), q);
  ASSERT_GE(base.logprobs[0].size(), 2u);
  const int32_t first = base.logprobs[0][0].id;
  q.stop_token_ids = {first};
  RequestResult stopped = run_one(test_engine_options(), q);
  EXPECT_EQ(stopped.finish[0], "stop");
  EXPECT_EQ(stopped.last.completion_tokens, 1);
  q.min_tokens = 5;
  RequestResult held = run_one(test_engine_options(), q);
  EXPECT_GE(held.last.completion_tokens, 5);
  ASSERT_GE(held.logprobs[0].size(), 5u);
  for (size_t i = 0; i < 4; ++i) EXPECT_NE(held.logprobs[0][i].id, first);  // banned below min_tokens
}

TEST(EngineFeatures, BeamSearch) {
  // Width 1 is greedy decoding.
  EngineRequest g = greedy_request("g", test_prompt(25, 12), 16);
  EngineRequest b1 = g;
  b1.use_beam_search = true;
  EXPECT_EQ(run_one(test_engine_options(), b1).text[0], run_one(test_engine_options(), g).text[0]);
  // Width 4, two results, blocks shared between beams and all released afterwards.
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, test_engine_options());
  engine.start();
  EngineRequest b4 = g;
  b4.use_beam_search = true;
  b4.n = 2;
  b4.best_of = 4;
  b4.logprobs = 0;
  Collector c;
  ASSERT_TRUE(engine.submit(b4, c.callback()).ok());
  RequestResult r = c.wait();
  ASSERT_TRUE(r.error.ok()) << r.error.to_string();
  ASSERT_EQ(r.text.size(), 2u);
  EXPECT_NE(r.text[0], r.text[1]);
  // Scores are non-increasing (same lengths here: max_tokens without EOS, or shorter on EOS).
  double s0 = 0, s1 = 0;
  for (const TokenLogprobs& lp : r.logprobs[0]) s0 += lp.logprob;
  for (const TokenLogprobs& lp : r.logprobs[1]) s1 += lp.logprob;
  const double n0 = 25.0 + static_cast<double>(r.logprobs[0].size()), n1 = 25.0 + static_cast<double>(r.logprobs[1].size());
  EXPECT_GE(s0 / n0, s1 / n1 - 1e-3);
  EXPECT_EQ(engine.stats().n_kv_blocks_used, 0);
}

TEST(EngineFeatures, EchoLogprobsCoverThePrompt) {
  EngineRequest q = greedy_request("echo", test_prompt(40, 2), 4);
  q.echo_logprobs = true;
  q.logprobs = 2;
  EngineOptions opts = test_engine_options();
  opts.max_batch_tokens = 16;  // chunked prefill with all logits
  RequestResult r = run_one(opts, q);
  ASSERT_EQ(r.last.prompt_logprobs.size(), 40u);
  EXPECT_TRUE(std::isnan(r.last.prompt_logprobs[0].logprob));
  for (size_t i = 1; i < 40; ++i) {
    EXPECT_EQ(r.last.prompt_logprobs[i].id, q.prompt[i]);
    EXPECT_LE(r.last.prompt_logprobs[i].logprob, 0.0f);
    EXPECT_EQ(r.last.prompt_logprobs[i].top.size(), 2u);
  }
  // The same text as without echo.
  EXPECT_EQ(r.text[0], run_one(test_engine_options(), greedy_request("x", test_prompt(40, 2), 4)).text[0]);
}

TEST(EngineFeatures, DeadlineCancels) {
  EngineRequest q = greedy_request("late", test_prompt(10, 1), 200);
  q.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
  RequestResult r = run_one(test_engine_options(), q);
  EXPECT_EQ(r.finish[0], "cancelled");
  EXPECT_EQ(r.error.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.last.completion_tokens, 0);
  // A deadline passing mid-generation ends the request within a step.
  q.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  q.max_tokens = 480;
  q.ignore_eos = true;
  q.stream = true;
  r = run_one(test_engine_options(), q);
  EXPECT_EQ(r.finish[0], "cancelled");
  EXPECT_EQ(r.error.code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(r.last.completion_tokens, 480);
}

TEST(EngineFeatures, FaultInOneRequestFailsOnlyIt) {
  auto& m = engine_test_model();
  EngineOptions opts = test_engine_options();
  opts.fault_hook = [](const EngineRequest& q) {
    if (q.id == "bad") throw std::runtime_error("injected fault");
  };
  Engine engine(*m.model, *m.tokenizer, opts);
  engine.start();
  Collector bad, good;
  ASSERT_TRUE(engine.submit(greedy_request("bad", test_prompt(12, 1), 8), bad.callback()).ok());
  ASSERT_TRUE(engine.submit(greedy_request("good", test_prompt(12, 2), 8), good.callback()).ok());
  RequestResult rb = bad.wait(), rg = good.wait();
  EXPECT_EQ(rb.error.code(), StatusCode::kInternal);
  EXPECT_EQ(rb.finish[0], "error");
  EXPECT_TRUE(rg.error.ok());
  EXPECT_EQ(rg.text[0], run_one(test_engine_options(), greedy_request("x", test_prompt(12, 2), 8)).text[0]);
  EXPECT_TRUE(engine.healthy());
  EXPECT_EQ(engine.stats().n_kv_blocks_used, 0);
}

}  // namespace
}  // namespace maas
