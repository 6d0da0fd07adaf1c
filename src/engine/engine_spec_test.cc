// engine_spec_test.cc — speculative decoding with prompt-lookup drafts through the engine:
// greedy identity with speculation off (drafts both accepted and rejected, counted in the
// stats), block boundaries and rollback in a tight cache with preemption, prefix caching, stop
// conditions, seeded sampling identity with n > 1 and logprobs, beam search. The scheduler alone
// is in scheduler_spec_test.cc, the drafter in ngram_proposer_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "engine/engine_test_util.h"

namespace maas {
namespace {
using testing::Collector;
using testing::engine_test_model;
using testing::greedy_request;
using testing::RequestResult;
using testing::test_engine_options;
using testing::test_prompt;

// Every draft runs whole, so the tests' draft lengths never depend on timing.
EngineOptions spec_options(int32_t k) {
  EngineOptions o = test_engine_options();
  o.num_speculative_tokens = k;
  o.spec_draft_by_cost = false;
  return o;
}

// A prompt that repeats itself (lookup finds drafts) or not.
std::vector<int32_t> repetitive_prompt(int len, uint32_t seed) {
  std::vector<int32_t> unit = test_prompt(9, seed);
  std::vector<int32_t> p = {unit[0]};
  while (static_cast<int>(p.size()) < len) p.push_back(unit[1 + (p.size() - 1) % 8]);
  return p;
}

std::string name(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// The test model's weights are random, so its greedy output rarely repeats itself the way text
// does. A strong logit bias on a few tokens makes it pick among them (which one still depends on
// the model), so its output has the repeats lookup finds, and misses too.
EngineRequest loopy(EngineRequest q) {
  q.sampling.logit_bias = {{1500, 40.0f}, {2500, 40.0f}, {3500, 40.0f}};
  return q;
}

struct SpecRun {
  std::vector<RequestResult> results;
  EngineStats stats;
};

// Submits every request at once to one engine and waits for all.
SpecRun run_all(const EngineOptions& options, std::vector<EngineRequest> requests) {
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, options);
  engine.start();
  std::vector<std::unique_ptr<Collector>> cs;
  for (EngineRequest& q : requests) {
    cs.push_back(std::make_unique<Collector>());
    Status s = engine.submit(std::move(q), cs.back()->callback());
    EXPECT_TRUE(s.ok()) << s.to_string();
  }
  SpecRun run;
  for (auto& c : cs) run.results.push_back(c->wait(std::chrono::seconds(60)));
  run.stats = engine.stats();
  return run;
}

std::vector<int32_t> token_ids(const RequestResult& r, size_t choice = 0) {
  std::vector<int32_t> ids;
  for (const TokenLogprobs& lp : r.logprobs[choice]) ids.push_back(lp.id);
  return ids;
}

// Greedy requests of several kinds: repetitive and random prompts, streaming, ignore_eos.
std::vector<EngineRequest> greedy_mix() {
  std::vector<EngineRequest> qs;
  for (int i = 0; i < 6; ++i) {
    EngineRequest q = greedy_request(name("g", i), i % 2 == 0 ? repetitive_prompt(30 + 7 * i, 3 + i) : test_prompt(25 + 5 * i, 40 + i), 40 + 9 * i);
    if (i == 4) q = loopy(q);
    q.logprobs = 1;
    q.stream = i % 3 == 1;
    q.ignore_eos = i % 2 == 1;
    qs.push_back(std::move(q));
  }
  return qs;
}

void expect_same_greedy(const SpecRun& off, const SpecRun& on) {
  ASSERT_EQ(off.results.size(), on.results.size());
  for (size_t i = 0; i < off.results.size(); ++i) {
    const RequestResult &a = off.results[i], &b = on.results[i];
    ASSERT_TRUE(b.error.ok()) << b.error.to_string();
    EXPECT_EQ(token_ids(a), token_ids(b)) << "request " << i;
    EXPECT_EQ(a.text, b.text) << "request " << i;
    EXPECT_EQ(a.finish, b.finish) << "request " << i;
    EXPECT_EQ(a.last.completion_tokens, b.last.completion_tokens);
    // Each accepted token's logprob comes from its own row: the same values as plain decoding.
    for (size_t t = 0; t < std::min(a.logprobs[0].size(), b.logprobs[0].size()); ++t) {
      EXPECT_NEAR(a.logprobs[0][t].logprob, b.logprobs[0][t].logprob, 1e-4) << "request " << i << " token " << t;
      ASSERT_EQ(a.logprobs[0][t].top.size(), b.logprobs[0][t].top.size());
    }
  }
}

TEST(EngineSpec, GreedyEqualsPlainDecodingWithDraftsAcceptedAndRejected) {
  const SpecRun off = run_all(test_engine_options(), greedy_mix());
  EXPECT_EQ(off.stats.spec_draft_tokens, 0);
  for (int32_t k : {1, 3, 8}) {
    SCOPED_TRACE(name("k = ", k));
    const SpecRun on = run_all(spec_options(k), greedy_mix());
    expect_same_greedy(off, on);
    EXPECT_GT(on.stats.spec_accepted_tokens, 0);
    EXPECT_GT(on.stats.spec_draft_tokens, on.stats.spec_accepted_tokens);  // some were rejected
    EXPECT_EQ(on.stats.generation_tokens_total, off.stats.generation_tokens_total);
    EXPECT_LT(on.stats.steps, off.stats.steps);  // accepted drafts saved steps
    EXPECT_EQ(on.stats.n_kv_blocks_used, 0);
  }
  // The cost rule on (the default): drafts are cut by timing, the output never changes.
  EngineOptions by_cost = test_engine_options();
  by_cost.num_speculative_tokens = 5;
  expect_same_greedy(off, run_all(by_cost, greedy_mix()));
}

TEST(EngineSpec, DraftsAcrossBlockBoundariesInATightCache) {
  // 16-token blocks and 8-token drafts: drafts straddle block ends, rejected ones leave whole
  // blocks unused (freed at once), and a cache of 12 blocks forces drafts to be dropped and
  // requests to be preempted and recomputed.
  EngineOptions tight = test_engine_options();
  tight.n_kv_blocks = 12;
  tight.max_batch_tokens = 64;
  std::vector<EngineRequest> qs;
  for (int i = 0; i < 5; ++i) {
    EngineRequest q = greedy_request(name("t", i), repetitive_prompt(17 + 6 * i, 60 + i), 48);
    if (i % 2 == 0) q = loopy(q);
    q.logprobs = 0;
    q.ignore_eos = true;
    qs.push_back(std::move(q));
  }
  const SpecRun off = run_all(tight, qs);
  EngineOptions on_options = tight;
  on_options.num_speculative_tokens = 8;
  on_options.spec_draft_by_cost = false;  // whole drafts, whatever the timing
  const SpecRun on = run_all(on_options, qs);
  expect_same_greedy(off, on);
  EXPECT_GT(on.stats.spec_accepted_tokens, 0);
  EXPECT_GT(on.stats.n_preemptions, 0);
  EXPECT_EQ(on.stats.n_kv_blocks_used, 0);
}

TEST(EngineSpec, PrefixCachingNeverServesUnverifiedTokens) {
  // One engine: a request decodes with drafts, then requests whose prompts are its prompt plus
  // its output reuse the blocks it filled. Each must equal plain decoding without the cache.
  EngineOptions plain = test_engine_options();
  plain.enable_prefix_caching = false;
  const std::vector<int32_t> prompt = repetitive_prompt(40, 9);
  EngineRequest first = loopy(greedy_request("a", prompt, 60));
  first.logprobs = 0;
  first.ignore_eos = true;
  const SpecRun base = run_all(plain, {first});
  std::vector<int32_t> longer = prompt;
  for (int32_t id : token_ids(base.results[0])) longer.push_back(id);
  EngineRequest second = loopy(greedy_request("b", longer, 30));
  second.logprobs = 0;
  const SpecRun base2 = run_all(plain, {second});

  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, spec_options(6));
  engine.start();
  for (const auto& [q, expected] : {std::pair{first, base}, std::pair{second, base2}, std::pair{second, base2}}) {
    Collector c;
    ASSERT_TRUE(engine.submit(q, c.callback()).ok());
    RequestResult r = c.wait(std::chrono::seconds(60));
    EXPECT_EQ(token_ids(r), token_ids(expected.results[0])) << q.id;
  }
  const EngineStats s = engine.stats();
  EXPECT_GT(s.spec_accepted_tokens, 0);
  EXPECT_GE(s.prefix_cache_hit_tokens, 2 * 80);  // blocks filled while speculating were reused
  EXPECT_EQ(s.n_kv_blocks_used, 0);
}

TEST(EngineSpec, StopConditionsAndMaxTokensAsInPlainDecoding) {
  // max_tokens never overrun by an accepted draft, a stop string and a stop token id in the
  // middle of accepted drafts, min_tokens: all exactly as without speculation.
  const std::vector<int32_t> prompt = repetitive_prompt(48, 21);
  EngineRequest probe = greedy_request("probe", prompt, 40);
  probe.logprobs = 0;
  probe.ignore_eos = true;
  const RequestResult ref = run_all(test_engine_options(), {probe}).results[0];
  ASSERT_EQ(ref.logprobs[0].size(), 40u);
  std::vector<EngineRequest> qs;
  for (int32_t max_tokens : {1, 2, 3, 5, 8, 13}) {
    EngineRequest q = probe;
    q.max_tokens = max_tokens;
    qs.push_back(q);
  }
  EngineRequest stop_id = probe;
  stop_id.stop_token_ids = {ref.logprobs[0][20].id};
  qs.push_back(stop_id);
  EngineRequest stop_str = probe;
  stop_str.stop = {ref.text[0].substr(ref.text[0].size() / 2, 6)};
  qs.push_back(stop_str);
  EngineRequest min_tokens = stop_id;
  min_tokens.min_tokens = 30;
  qs.push_back(min_tokens);
  const SpecRun off = run_all(test_engine_options(), qs);
  const SpecRun on = run_all(spec_options(5), qs);
  expect_same_greedy(off, on);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(on.results[i].last.completion_tokens, qs[i].max_tokens);
  EXPECT_EQ(on.results[6].finish[0], "stop");
  EXPECT_EQ(on.results[7].finish[0], "stop");
  EXPECT_GT(on.stats.spec_accepted_tokens, 0);
}

EngineRequest sampled_request(const std::string& id, int32_t n, uint64_t seed) {
  EngineRequest q = loopy(greedy_request(id, repetitive_prompt(40, 5), 48));
  q.sampling.temperature = 0.7f;
  q.sampling.seed = seed;
  q.n = n;
  q.logprobs = 2;
  return q;
}

TEST(EngineSpec, SeededSamplingGivesTheSameTokensAsWithoutSpeculation) {
  // The sampler draws once per emitted token with or without drafts (engine_spec.cc), so seeded
  // sampled requests, n > 1 and filters and penalties included, match speculation off token for
  // token, with the cost rule on too; logprobs come from each token's own row.
  std::vector<EngineRequest> qs = {sampled_request("s1", 1, 3), sampled_request("s3", 3, 7)};
  EngineRequest stop = sampled_request("stop", 2, 11);
  stop.max_tokens = 20;
  stop.sampling.top_k = 8;
  stop.sampling.top_p = 0.9f;
  stop.sampling.repetition_penalty = 1.1f;
  stop.sampling.frequency_penalty = 0.3f;
  qs.push_back(stop);
  EngineRequest text_stop = sampled_request("text", 1, 5);
  text_stop.ignore_eos = true;
  qs.push_back(text_stop);
  const SpecRun off = run_all(test_engine_options(), qs);
  EngineOptions by_cost = test_engine_options();
  by_cost.num_speculative_tokens = 4;
  for (const EngineOptions& o : {spec_options(4), by_cost}) {
    const SpecRun on = run_all(o, qs);
    for (size_t i = 0; i < qs.size(); ++i) {
      const RequestResult &a = off.results[i], &b = on.results[i];
      ASSERT_TRUE(b.error.ok()) << b.error.to_string();
      ASSERT_EQ(b.text.size(), static_cast<size_t>(qs[i].n));
      EXPECT_EQ(b.text, a.text) << qs[i].id;
      EXPECT_EQ(b.finish, a.finish) << qs[i].id;
      EXPECT_EQ(b.last.completion_tokens, a.last.completion_tokens);
      for (size_t c = 0; c < b.text.size(); ++c) {
        ASSERT_EQ(b.logprobs[c].size(), a.logprobs[c].size());
        EXPECT_LE(b.logprobs[c].size(), static_cast<size_t>(qs[i].max_tokens));
        for (size_t t = 0; t < b.logprobs[c].size(); ++t) {
          EXPECT_EQ(b.logprobs[c][t].id, a.logprobs[c][t].id);
          EXPECT_NEAR(b.logprobs[c][t].logprob, a.logprobs[c][t].logprob, 1e-4);
          EXPECT_EQ(b.logprobs[c][t].top.size(), 2u);
        }
      }
    }
    if (!o.spec_draft_by_cost) {
      EXPECT_GT(on.stats.spec_accepted_tokens, 0);
      EXPECT_GT(on.stats.spec_draft_tokens, on.stats.spec_accepted_tokens);
    }
  }
  EXPECT_FALSE(off.results[1].text[0] == off.results[1].text[1] && off.results[1].text[1] == off.results[1].text[2]);
}

TEST(EngineSpec, BeamSearchNeverSpeculates) {
  EngineRequest q = greedy_request("beam", repetitive_prompt(30, 2), 16);
  q.use_beam_search = true;
  q.n = 2;
  q.best_of = 3;
  const SpecRun off = run_all(test_engine_options(), {q});
  const SpecRun on = run_all(spec_options(4), {q});
  EXPECT_EQ(on.stats.spec_draft_tokens, 0);
  EXPECT_EQ(off.results[0].text, on.results[0].text);
}

TEST(EngineSpec, OptionsAreValidated) {
  EngineOptions o = test_engine_options();
  EXPECT_TRUE(validate_speculative_options(o).ok());
  o.num_speculative_tokens = -1;
  EXPECT_EQ(validate_speculative_options(o).code(), StatusCode::kInvalidArgument);
  o.num_speculative_tokens = 4;
  o.ngram_prompt_lookup_min = 3;
  o.ngram_prompt_lookup_max = 2;
  EXPECT_EQ(validate_speculative_options(o).code(), StatusCode::kInvalidArgument);
  o.ngram_prompt_lookup_min = 0;
  EXPECT_EQ(validate_speculative_options(o).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace maas
