// engine_test.cc — the engine core on a real (small, random) model: continuous batching must
// not change greedy results, streaming equals non-streaming, stop strings never leak,
// cancellation frees blocks, queue limits, preemption and prefix caching.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

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

std::string name(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

const int kLens[8] = {5, 17, 33, 9, 48, 2, 70, 26};

TEST(Engine, BatchedGreedyEqualsAlone) {
  EngineOptions opts = test_engine_options();
  opts.max_batch_tokens = 40;  // prompts are chunked and mixed with decodes
  std::vector<std::string> alone;
  for (int i = 0; i < 8; ++i) {
    RequestResult r = run_one(opts, greedy_request(name("a", i), test_prompt(kLens[i], i), 24));
    ASSERT_EQ(r.text.size(), 1u);
    alone.push_back(r.text[0]);
  }
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, opts);
  engine.start();
  std::vector<std::unique_ptr<Collector>> cs;
  for (int i = 0; i < 8; ++i) {
    cs.push_back(std::make_unique<Collector>());
    ASSERT_TRUE(engine.submit(greedy_request(name("b", i), test_prompt(kLens[i], i), 24), cs.back()->callback()).ok());
  }
  for (int i = 0; i < 8; ++i) {
    RequestResult r = cs[static_cast<size_t>(i)]->wait();
    ASSERT_TRUE(r.error.ok()) << r.error.to_string();
    EXPECT_EQ(r.text[0], alone[static_cast<size_t>(i)]) << "request " << i;
    EXPECT_FALSE(r.finish[0].empty());
  }
  EngineStats s = engine.stats();
  EXPECT_EQ(s.n_running, 0);
  EXPECT_EQ(s.n_kv_blocks_used, 0);
  EXPECT_EQ(s.requests_finished, 8);
}

TEST(Engine, StreamingEqualsNonStreaming) {
  EngineRequest q = greedy_request("s", test_prompt(30, 99), 40);
  RequestResult plain = run_one(test_engine_options(), q);
  q.stream = true;
  RequestResult streamed = run_one(test_engine_options(), q);
  EXPECT_EQ(plain.n_outputs, 1);
  EXPECT_GT(streamed.n_outputs, 1);
  EXPECT_EQ(plain.text[0], streamed.text[0]);
  EXPECT_EQ(plain.finish[0], streamed.finish[0]);
  EXPECT_EQ(streamed.n_finish[0], 1);
  EXPECT_EQ(plain.last.completion_tokens, streamed.last.completion_tokens);
  EXPECT_EQ(plain.last.prompt_tokens, 30);
}

// A stop string made of the end of one token and the start of the next.
std::string split_stop(const std::vector<TokenLogprobs>& tokens, const std::string& text) {
  std::string prefix;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    prefix += tokens[i].text;
    const std::string& next = tokens[i + 1].text;
    if (i < 3 || tokens[i].text.size() < 2 || next.size() < 2) continue;
    std::string stop = tokens[i].text.substr(tokens[i].text.size() - 2) + next.substr(0, 2);
    bool ascii = true;
    for (char c : stop) ascii = ascii && static_cast<unsigned char>(c) < 0x80 && c != ' ';
    if (ascii && text.find(stop) != std::string::npos) return stop;
  }
  return "";
}

TEST(Engine, StopStringSplitAcrossTokensNeverEmitted) {
  EngineRequest q = greedy_request("stop", test_prompt(20, 5), 60);
  q.logprobs = 0;
  RequestResult base = run_one(test_engine_options(), q);
  std::string stop = split_stop(base.logprobs[0], base.text[0]);
  ASSERT_FALSE(stop.empty()) << "no usable stop string in: " << base.text[0];
  const std::string expected = base.text[0].substr(0, base.text[0].find(stop));
  q.stop = {stop, "never-matches-anything"};
  for (bool stream : {false, true}) {
    q.stream = stream;
    RequestResult r = run_one(test_engine_options(), q);
    EXPECT_EQ(r.text[0], expected) << "stream " << stream << " stop '" << stop << "'";
    EXPECT_EQ(r.finish[0], "stop");
    for (const std::string& d : r.deltas) EXPECT_EQ(d.find(stop), std::string::npos);
  }
  q.include_stop_str_in_output = true;
  q.stream = true;
  RequestResult with = run_one(test_engine_options(), q);
  EXPECT_EQ(with.text[0], expected + stop);
}

TEST(Engine, CancelMidGenerationFreesBlocks) {
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, test_engine_options());
  engine.start();
  const EngineStats baseline = engine.stats();
  Collector c;
  EngineRequest q = greedy_request("cancel-me", test_prompt(40, 3), 400);
  q.stream = true;
  q.ignore_eos = true;
  OutputCallback inner = c.callback();
  int seen = 0;
  ASSERT_TRUE(engine.submit(std::move(q), [&](RequestOutput&& out) {
    if (++seen == 2) engine.cancel("cancel-me");  // like the HTTP layer's on_close
    inner(std::move(out));
  }).ok());
  RequestResult r = c.wait();
  EXPECT_EQ(r.finish[0], "cancelled");
  EXPECT_TRUE(r.error.ok());
  EXPECT_LE(r.n_outputs, 4);  // at most one more step after the cancel
  EXPECT_LT(r.last.completion_tokens, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EngineStats s = engine.stats();
  EXPECT_EQ(s.n_running, 0);
  EXPECT_EQ(s.n_waiting, 0);
  EXPECT_EQ(s.n_kv_blocks_used, baseline.n_kv_blocks_used);
}

TEST(Engine, CancelWhileQueuedNeverRuns) {
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, test_engine_options());
  Collector a, b;
  ASSERT_TRUE(engine.submit(greedy_request("queued", test_prompt(10, 1), 8), a.callback()).ok());
  ASSERT_TRUE(engine.submit(greedy_request("other", test_prompt(10, 2), 8), b.callback()).ok());
  engine.cancel("queued");
  engine.start();
  RequestResult ra = a.wait(), rb = b.wait();
  EXPECT_EQ(ra.finish[0], "cancelled");
  EXPECT_EQ(ra.last.completion_tokens, 0);
  EXPECT_EQ(ra.n_outputs, 1);
  EXPECT_TRUE(rb.error.ok());
  EXPECT_EQ(rb.text[0], run_one(test_engine_options(), greedy_request("x", test_prompt(10, 2), 8)).text[0]);
  EXPECT_EQ(engine.stats().prompt_tokens_total, 10);  // only "other" was computed
}

TEST(Engine, QueueFullIsResourceExhausted) {
  auto& m = engine_test_model();
  EngineOptions opts = test_engine_options();
  opts.max_waiting = 2;
  Engine engine(*m.model, *m.tokenizer, opts);
  Collector a, b, c;
  ASSERT_TRUE(engine.submit(greedy_request("q1", test_prompt(8, 1), 4), a.callback()).ok());
  ASSERT_TRUE(engine.submit(greedy_request("q2", test_prompt(8, 2), 4), b.callback()).ok());
  Status s = engine.submit(greedy_request("q3", test_prompt(8, 3), 4), c.callback());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(engine.stats().n_waiting, 2);
  engine.start();
  EXPECT_TRUE(a.wait().error.ok());
  EXPECT_TRUE(b.wait().error.ok());
  // Context overflow is refused at submit.
  Status big = engine.submit(greedy_request("big", test_prompt(500, 4), 100), c.callback());
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
}

TEST(Engine, SmallCachePreemptsAndResultsMatch) {
  EngineOptions opts = test_engine_options();
  opts.n_kv_blocks = 14;  // 224 slots; six requests of up to 80 tokens need 30 blocks
  opts.max_batch_tokens = 64;
  std::vector<std::string> alone;
  for (int i = 0; i < 6; ++i) {
    alone.push_back(run_one(opts, greedy_request("p", test_prompt(20 + 4 * i, 50 + i), 48)).text[0]);
  }
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, opts);
  engine.start();
  std::vector<std::unique_ptr<Collector>> cs;
  for (int i = 0; i < 6; ++i) {
    cs.push_back(std::make_unique<Collector>());
    EngineRequest q = greedy_request(name("p", i), test_prompt(20 + 4 * i, 50 + i), 48);
    q.stream = i % 2 == 1;
    ASSERT_TRUE(engine.submit(std::move(q), cs.back()->callback()).ok());
  }
  for (int i = 0; i < 6; ++i) {
    RequestResult r = cs[static_cast<size_t>(i)]->wait();
    ASSERT_TRUE(r.error.ok()) << r.error.to_string();
    EXPECT_EQ(r.text[0], alone[static_cast<size_t>(i)]) << "request " << i;
  }
  EngineStats s = engine.stats();
  EXPECT_GT(s.n_preemptions, 0);
  EXPECT_EQ(s.n_kv_blocks_used, 0);
}

TEST(Engine, RequestLargerThanTheCacheFails) {
  EngineOptions opts = test_engine_options();
  opts.n_kv_blocks = 4;  // 64 slots
  RequestResult r = run_one(opts, greedy_request("huge", test_prompt(50, 1), 30));
  EXPECT_EQ(r.error.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.finish[0], "error");
}

TEST(Engine, PrefixCacheReusesFullBlocks) {
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, test_engine_options());
  engine.start();
  std::vector<std::string> texts;
  for (int i = 0; i < 2; ++i) {
    Collector c;
    ASSERT_TRUE(engine.submit(greedy_request("pc", test_prompt(70, 8), 16), c.callback()).ok());
    RequestResult r = c.wait();
    texts.push_back(r.text[0]);
    EXPECT_EQ(r.last.cached_prompt_tokens, i == 0 ? 0 : 64);
  }
  EXPECT_EQ(texts[0], texts[1]);
  EngineStats s = engine.stats();
  EXPECT_EQ(s.prefix_cache_hit_tokens, 64);
  EXPECT_EQ(s.prompt_tokens_total, 70 + 6);
  EXPECT_EQ(s.n_kv_blocks_used, 0);
  EXPECT_GT(s.n_kv_blocks_cached, 0);
  // Without prefix caching the same output comes from a full prefill.
  EngineOptions off = test_engine_options();
  off.enable_prefix_caching = false;
  EXPECT_EQ(run_one(off, greedy_request("pc", test_prompt(70, 8), 16)).text[0], texts[0]);
}

// Continuous batching at GPU scale (issue 13): 256 sequences decode in the same steps, and
// batching them changes no result.
TEST(Engine, TwoHundredFiftySixSequencesDecodeTogether) {
  EngineOptions opts = test_engine_options();
  opts.max_num_seqs = 256;
  opts.max_batch_tokens = 8192;  // every prompt in one step, then 256 decode tokens per step
  opts.n_kv_blocks = 256 * 3;    // 24 prompt + 12 generated tokens: 3 blocks of 16 each
  opts.step_time_target_s = 0;   // no step-time budget: the shape is the scheduler's alone
  std::mutex mu;
  int32_t widest = 0;
  opts.on_step = [&](const StepReport& s) {
    std::lock_guard<std::mutex> lock(mu);
    widest = std::max(widest, s.n_decode_tokens);
  };
  auto& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, opts);
  engine.start();
  std::vector<std::unique_ptr<Collector>> cs;
  for (int i = 0; i < 256; ++i) {
    cs.push_back(std::make_unique<Collector>());
    EngineRequest q = greedy_request(name("b", i), test_prompt(24, 1000 + i), 12);
    q.ignore_eos = true;
    ASSERT_TRUE(engine.submit(std::move(q), cs.back()->callback()).ok());
  }
  std::vector<std::string> texts;
  for (auto& c : cs) {
    RequestResult r = c->wait(std::chrono::seconds(120));
    ASSERT_TRUE(r.error.ok()) << r.error.to_string();
    EXPECT_EQ(r.last.completion_tokens, 12);
    texts.push_back(r.text[0]);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(widest, 256);
  }
  for (int i : {0, 97, 255}) {
    EngineRequest q = greedy_request("alone", test_prompt(24, 1000 + i), 12);
    q.ignore_eos = true;
    EXPECT_EQ(run_one(test_engine_options(), q).text[0], texts[static_cast<size_t>(i)]) << "sequence " << i;
  }
  EXPECT_EQ(engine.stats().n_kv_blocks_used, 0);
}

}  // namespace
}  // namespace maas
