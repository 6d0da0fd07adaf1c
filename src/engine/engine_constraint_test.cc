// engine_constraint_test.cc — response_format in the engine: every sequence's text follows its
// grammar (checked by an independent matcher over the delivered text), forks each keep their own
// state, preemption and recompute do not disturb it, and a closed value ends the sequence.
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"
#include "sampling/json_matcher.h"

namespace maas {
namespace {
using testing::Collector;
using testing::engine_test_model;
using testing::greedy_request;
using testing::RequestResult;
using testing::run_one;
using testing::test_engine_options;
using testing::test_prompt;
using Kind = JsonNode::Kind;

// {"a": string of at most 6 characters, "b": boolean}, both required, nothing else: every text
// the grammar accepts is under 200 bytes (whitespace runs are bounded), so a sequence must close
// it well inside max_tokens.
std::shared_ptr<const JsonGrammar> small_schema() {
  auto g = std::make_shared<JsonGrammar>();
  JsonNode* root = g->add(Kind::kObject);
  JsonNode* a = g->add(Kind::kString);
  a->max_length = 6;
  root->keys = {"a", "b"};
  root->values = {a, g->add(Kind::kBoolean)};
  root->required = 3;
  g->root = root;
  return g;
}

void expect_follows(const std::shared_ptr<const JsonGrammar>& g, const std::string& text) {
  JsonMatcher m(g->root);
  EXPECT_TRUE(m.feed(text) && m.closed()) << "'" << text << "'";
}

EngineRequest constrained(const std::string& id, uint32_t prompt_seed, std::shared_ptr<const JsonGrammar> g) {
  EngineRequest q = greedy_request(id, test_prompt(24, prompt_seed), 300);
  q.json_grammar = std::move(g);
  return q;
}

TEST(EngineConstraint, GreedyAnswerIsClosedJsonThatFollowsTheSchema) {
  auto g = small_schema();
  for (uint32_t seed : {1u, 2u, 3u}) {
    RequestResult r = run_one(test_engine_options(), constrained("c", seed, g));
    ASSERT_TRUE(r.error.ok()) << r.error.to_string();
    EXPECT_EQ(r.finish[0], "stop");
    expect_follows(g, r.text[0]);
    EXPECT_LT(r.last.completion_tokens, 300);
  }
}

TEST(EngineConstraint, EveryForkOfASampledRequestFollowsTheSchema) {
  auto g = small_schema();
  EngineRequest q = constrained("n4", 9, g);
  q.sampling.temperature = 1.0f;
  q.sampling.seed = 5;
  q.n = 4;
  q.logprobs = 3;
  RequestResult r = run_one(test_engine_options(), q);
  ASSERT_EQ(r.text.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.finish[i], "stop");
    expect_follows(g, r.text[i]);
    // Alternatives come from the constrained distribution: none is a refused token.
    for (const TokenLogprobs& t : r.logprobs[i]) {
      for (const TokenLogprob& alt : t.top) {
        EXPECT_GT(alt.logprob, -1e30f) << alt.id;
      }
    }
  }
}

TEST(EngineConstraint, PreemptionKeepsEachSequencesState) {
  EngineOptions opts = test_engine_options();
  opts.n_kv_blocks = 12;  // 192 slots for six sequences of up to ~24 + 200 tokens: preemption
  opts.max_batch_tokens = 64;
  auto g = json_object_grammar();
  std::vector<std::string> alone;
  for (uint32_t i = 0; i < 6; ++i) {
    EngineRequest q = constrained("alone", 60 + i, g);
    q.max_tokens = 120;
    alone.push_back(run_one(test_engine_options(), q).text[0]);
  }
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, opts);
  engine.start();
  std::vector<std::unique_ptr<Collector>> cs;
  for (uint32_t i = 0; i < 6; ++i) {
    cs.push_back(std::make_unique<Collector>());
    std::string id = "p";
    id += std::to_string(i);
    EngineRequest q = constrained(id, 60 + i, g);
    q.max_tokens = 120;
    q.stream = i % 2 == 1;
    ASSERT_TRUE(engine.submit(std::move(q), cs.back()->callback()).ok());
  }
  for (size_t i = 0; i < 6; ++i) {
    RequestResult r = cs[i]->wait();
    ASSERT_TRUE(r.error.ok()) << r.error.to_string();
    EXPECT_EQ(r.text[0], alone[i]) << "request " << i;
    JsonMatcher check(g->root);
    EXPECT_TRUE(check.feed(r.text[0])) << r.text[0];  // a prefix of an object at least
    if (r.finish[0] == "stop") {
      EXPECT_TRUE(check.complete()) << r.text[0];
    }
  }
  EXPECT_GT(engine.stats().n_preemptions, 0);
}

TEST(EngineConstraint, SpeculationChangesNothing) {
  // Drafts are verified against the masked distribution position by position: the answer is
  // token for token what plain constrained decoding gives, greedy and seeded.
  EngineOptions spec = test_engine_options();
  spec.num_speculative_tokens = 4;
  for (uint32_t seed : {1u, 2u, 5u}) {
    for (float temperature : {0.0f, 1.0f}) {
      EngineRequest q = constrained("s", seed, json_object_grammar());
      q.max_tokens = 120;
      q.sampling.temperature = temperature;
      q.sampling.seed = 11;
      RequestResult plain = run_one(test_engine_options(), q);
      RequestResult drafted = run_one(spec, q);
      EXPECT_EQ(drafted.text[0], plain.text[0]) << "seed " << seed << " temperature " << temperature;
      EXPECT_EQ(drafted.finish[0], plain.finish[0]);
      JsonMatcher m(json_object_grammar()->root);
      EXPECT_TRUE(m.feed(drafted.text[0])) << drafted.text[0];
    }
  }
}

TEST(EngineConstraint, BeamSearchIsRefused) {
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, test_engine_options());
  engine.start();
  EngineRequest q = constrained("beam", 1, small_schema());
  q.use_beam_search = true;
  q.best_of = 2;
  Collector c;
  Status s = engine.submit(std::move(q), c.callback());
  RequestResult r = s.ok() ? c.wait() : RequestResult{};
  EXPECT_TRUE(!s.ok() || !r.error.ok());
}

}  // namespace
}  // namespace maas
