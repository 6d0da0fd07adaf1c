// engine_kv_test.cc — the engine over each KV cache element type (F32, F16, Q8_0; kv_cache.h):
// the cache takes the type's bytes, and the two features that reuse cached K/V — forks
// (copy-on-write of a shared, partly filled block: Backend::copy_kv_block) and prefix caching —
// give exactly what recomputing gives in that type.
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace maas {
namespace {
using testing::Collector;
using testing::engine_test_model_head_dim_32;
using testing::greedy_request;
using testing::RequestResult;
using testing::test_engine_options;
using testing::test_prompt;

RequestResult run(const EngineOptions& o, EngineRequest q, EngineStats* stats = nullptr) {
  auto& m = engine_test_model_head_dim_32();
  Engine engine(*m.model, *m.tokenizer, o);
  engine.start();
  Collector c;
  EXPECT_TRUE(engine.submit(std::move(q), c.callback()).ok());
  RequestResult r = c.wait();
  if (stats != nullptr) *stats = engine.stats();
  return r;
}

EngineOptions with_type(KvType type) {
  EngineOptions o = test_engine_options();
  o.kv_type = type;
  return o;
}

// n = 3 from a 21-token prompt: the children share its second block (5 of 16 slots filled) and
// each copies it before writing; choice i must be what one sequence with seed + i produces.
EngineRequest sampled(int32_t n, uint64_t seed) {
  EngineRequest q = greedy_request("kv", test_prompt(21, 77), 20);
  q.sampling.temperature = 1.0f;
  q.sampling.seed = seed;
  q.n = n;
  return q;
}

class EngineKvTest : public ::testing::TestWithParam<KvType> {};

TEST_P(EngineKvTest, CacheTakesTheTypesBytes) {
  EngineStats f32, typed;
  run(with_type(KvType::kF32), greedy_request("a", test_prompt(10, 1), 2), &f32);
  run(with_type(GetParam()), greedy_request("a", test_prompt(10, 1), 2), &typed);
  ASSERT_EQ(typed.n_kv_blocks_total, f32.n_kv_blocks_total);
  // per 32 elements: F32 128 bytes, F16 64, Q8_0 34
  const int64_t per32 = GetParam() == KvType::kF32 ? 128 : GetParam() == KvType::kF16 ? 64 : 34;
  EXPECT_EQ(typed.kv_cache_bytes, f32.kv_cache_bytes / 128 * per32);
  const LlamaConfig& c = engine_test_model_head_dim_32().model->config();
  EXPECT_EQ(typed.kv_cache_bytes, static_cast<int64_t>(kv_bytes_per_token(GetParam(), c)) * typed.n_kv_blocks_total *
                                      test_engine_options().kv_block_size);
}

TEST_P(EngineKvTest, ForksCopyTheSharedBlock) {
  RequestResult forked = run(with_type(GetParam()), sampled(3, 7));
  ASSERT_EQ(forked.text.size(), 3u);
  EXPECT_FALSE(forked.text[0] == forked.text[1] && forked.text[1] == forked.text[2]);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run(with_type(GetParam()), sampled(1, 7 + i)).text[0], forked.text[static_cast<size_t>(i)]) << i;
  }
}

TEST_P(EngineKvTest, PrefixCacheGivesWhatRecomputingGives) {
  auto& m = engine_test_model_head_dim_32();
  Engine engine(*m.model, *m.tokenizer, with_type(GetParam()));
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
  EngineOptions off = with_type(GetParam());
  off.enable_prefix_caching = false;
  EXPECT_EQ(run(off, greedy_request("pc", test_prompt(70, 8), 16)).text[0], texts[0]);
}

INSTANTIATE_TEST_SUITE_P(Types, EngineKvTest, ::testing::Values(KvType::kF32, KvType::kF16, KvType::kQ8_0),
                         [](const auto& info) { return std::string(kv_type_name(info.param)); });

}  // namespace
}  // namespace maas
