// forward_test.cc — the engine's logits against the double-precision reference forward pass,
// for every weight type, through prefill chunks, single-token steps and a two-sequence batch.
//
// Error measure per position: ||engine - reference||_2 / ||reference||_2 over the vocabulary.
// Tolerances per type (measured values are printed; the bound leaves headroom):
//   F32, F16, BF16 1e-5 (float vs double accumulation; measured 3-4e-7); Q8_0 2.5e-2 (measured
//   1.5e-2); Q6_K, Q4_0, Q4_K, Q4_K_M 4e-2 (measured 1.5e-2 to 2.4e-2) — the quantized types differ from the reference by the 8-bit quantization of the
//   activations that the integer dot products need (weights are dequantized identically).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>

#include "base/thread_pool.h"
#include "model/llama.h"
#include "tests/reference_llama.h"
#include "tests/test_models.h"

namespace maas {
namespace {

constexpr int kVocab = 512;

double rel_error(const float* got, const std::vector<double>& want) { return testing::rel_error(got, want); }
std::vector<int32_t> prompt_tokens(int n, int salt) { return testing::prompt_tokens(n, salt, kVocab); }

struct Case {
  std::string type;
  double tolerance;
};

class ForwardTest : public ::testing::TestWithParam<Case> {};

// Prefill 12 tokens (all logits), then 8 single-token steps; every position checked.
TEST_P(ForwardTest, MatchesReferenceThroughCache) {
  const Case& c = GetParam();
  std::string path = testing::write_model(testing::small_options(c.type), kVocab, "fwd_" + c.type + ".gguf");
  auto model = LlamaModel::load(path, {.n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const std::vector<int32_t> toks = prompt_tokens(20, 1);
  auto ref = testing::reference_logits((*model)->file(), toks);
  ASSERT_EQ(ref.size(), toks.size());

  auto cache = (*model)->allocate_kv_cache({.n_blocks = 4, .block_size = 8});
  ASSERT_TRUE(cache.ok());
  std::vector<int32_t> table = {2, 0, 3};  // deliberately out of order: paging must not matter
  std::vector<float> logits(static_cast<size_t>(kVocab) * 12);
  Batch prefill;
  prefill.tokens.assign(toks.begin(), toks.begin() + 12);
  prefill.seqs.push_back({table.data(), 3, 0, 12, true});
  (*model)->forward(prefill, **cache, logits.data());
  double worst = 0;
  for (int t = 0; t < 12; ++t) worst = std::max(worst, rel_error(&logits[static_cast<size_t>(t) * kVocab], ref[static_cast<size_t>(t)]));
  for (int t = 12; t < 20; ++t) {
    Batch step;
    step.tokens.push_back(toks[static_cast<size_t>(t)]);
    step.seqs.push_back({table.data(), 3, t, 1, false});
    (*model)->forward(step, **cache, logits.data());
    worst = std::max(worst, rel_error(logits.data(), ref[static_cast<size_t>(t)]));
  }
  std::printf("[ %-7s ] max relative logit error %.3g (tolerance %.3g)\n", c.type.c_str(), worst, c.tolerance);
  EXPECT_LT(worst, c.tolerance);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ForwardTest,
                         ::testing::Values(Case{"f32", 1e-5}, Case{"f16", 1e-5}, Case{"bf16", 1e-5}, Case{"q8_0", 2.5e-2},
                                           Case{"q6_k", 4e-2}, Case{"q4_0", 4e-2}, Case{"q4_k", 4e-2},
                                           Case{"q4_k_m", 4e-2}),
                         [](const auto& info) { return info.param.type; });

// Logits of positions 0..19: 12 prompt tokens in one batch (all logits), then 8 single steps,
// over a KV cache of `kv_type` paged out of order.
std::vector<float> logits_through_cache(Model& model, const std::vector<int32_t>& toks, KvType kv_type) {
  auto cache = model.allocate_kv_cache({.n_blocks = 4, .block_size = 8, .type = kv_type});
  EXPECT_TRUE(cache.ok()) << cache.status().to_string();
  if (!cache.ok()) return {};
  std::vector<int32_t> table = {2, 0, 3};
  std::vector<float> logits(static_cast<size_t>(kVocab) * 20);
  Batch prefill;
  prefill.tokens.assign(toks.begin(), toks.begin() + 12);
  prefill.seqs.push_back({table.data(), 3, 0, 12, true});
  model.forward(prefill, **cache, logits.data());
  for (int t = 12; t < 20; ++t) {
    Batch step;
    step.tokens.push_back(toks[static_cast<size_t>(t)]);
    step.seqs.push_back({table.data(), 3, t, 1, false});
    model.forward(step, **cache, &logits[static_cast<size_t>(t) * kVocab]);
  }
  return logits;
}

// The KV cache in F16 and Q8_0 (kv_cache.h) against F32, same model, same tokens: the logits'
// relative error at every position (the measure above), and the cache's size per type.
// Tolerances (measured values printed): F32 weights, F16 KV 3e-3 (measured 3.0e-4), Q8_0 KV 2e-2
// (9.9e-3). Q4_0 weights: 4e-2 for both (measured 1.7e-2, 1.8e-2), the Q4_0 tolerance above: any
// change in K or V moves the activations across 8-bit rounding steps of the integer dot
// products, which then dominate, as they do against the reference.
TEST(Forward, KvCacheTypesStayNearF32) {
  for (const std::string weights : {"f32", "q4_0"}) {
    std::string path = testing::write_model(testing::small_options(weights), kVocab, "fwd_kv_" + weights + ".gguf");
    auto model = LlamaModel::load(path, {.n_threads = 2});
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    const std::vector<int32_t> toks = prompt_tokens(20, 4);
    const std::vector<float> f32 = logits_through_cache(**model, toks, KvType::kF32);
    ASSERT_EQ(f32.size(), static_cast<size_t>(kVocab) * 20);
    const bool f32_weights = weights == "f32";
    for (auto [type, tolerance] : {std::pair{KvType::kF16, f32_weights ? 3e-3 : 4e-2},
                                   std::pair{KvType::kQ8_0, f32_weights ? 2e-2 : 4e-2}}) {
      const std::vector<float> got = logits_through_cache(**model, toks, type);
      ASSERT_EQ(got.size(), f32.size());
      double worst = 0;
      for (int t = 0; t < 20; ++t) {
        const std::vector<double> want(f32.begin() + t * kVocab, f32.begin() + (t + 1) * kVocab);
        worst = std::max(worst, rel_error(&got[static_cast<size_t>(t) * kVocab], want));
      }
      std::printf("[ %-5s weights, %-4s KV ] max relative logit error vs f32 KV %.3g (tolerance %.3g)\n",
                  weights.c_str(), kv_type_name(type), worst, tolerance);
      EXPECT_LT(worst, tolerance) << weights << " " << kv_type_name(type);
      EXPECT_GT(worst, 0.0) << weights << " " << kv_type_name(type) << ": the KV cache was not rounded";
    }
    // Bytes: F16 half of F32, Q8_0 34/128 of it (32 int8 and a 2-byte scale per 32 floats).
    const LlamaConfig& c = (*model)->config();
    const size_t f32_bytes = size_t{2} * c.n_layer * 4 * 8 * c.n_embd_kv() * 4;
    for (auto [type, bytes] : {std::pair{KvType::kF32, f32_bytes}, std::pair{KvType::kF16, f32_bytes / 2},
                               std::pair{KvType::kQ8_0, f32_bytes / 128 * 34}}) {
      auto cache = (*model)->allocate_kv_cache({.n_blocks = 4, .block_size = 8, .type = type});
      ASSERT_TRUE(cache.ok());
      EXPECT_EQ((*cache)->bytes(), bytes) << kv_type_name(type);
      EXPECT_EQ((*cache)->type(), type);
      EXPECT_EQ(kv_bytes_per_token(type, c) * 32, bytes) << kv_type_name(type);
    }
  }
}

// A Q8_0 cache needs whole blocks of 32 per head: a model with head_dim 16 is refused, clearly.
TEST(Forward, Q8_0KvCacheNeedsHeadDimOf32) {
  auto opts = testing::small_options("f32");
  opts.n_head = 16;  // head_dim 16
  opts.n_head_kv = 4;
  std::string path = testing::write_model(opts, kVocab, "fwd_kv_hd16.gguf");
  auto model = LlamaModel::load(path, {.n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  ASSERT_EQ((*model)->config().head_dim, 16);
  auto q8 = (*model)->allocate_kv_cache({.n_blocks = 4, .block_size = 8, .type = KvType::kQ8_0});
  ASSERT_FALSE(q8.ok());
  EXPECT_EQ(q8.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(q8.status().message().find("head_dim a multiple of 32"), std::string::npos) << q8.status().message();
  EXPECT_TRUE((*model)->allocate_kv_cache({.n_blocks = 4, .block_size = 8, .type = KvType::kF16}).ok());
}

// Two sequences in one batch (one prefilling, one decoding) give each its own logits.
TEST(Forward, TwoSequencesShareABatch) {
  auto opts = testing::small_options("f32");
  opts.tied_embeddings = false;
  opts.llama31_rope_scaling = true;
  std::string path = testing::write_model(opts, kVocab, "fwd_batch.gguf");
  auto model = LlamaModel::load(path, {.n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  EXPECT_FALSE((*model)->config().tied_embeddings);
  EXPECT_TRUE((*model)->config().has_rope_freqs);
  const std::vector<int32_t> a = prompt_tokens(9, 2), b = prompt_tokens(6, 3);
  auto ref_a = testing::reference_logits((*model)->file(), a);
  auto ref_b = testing::reference_logits((*model)->file(), b);

  auto cache = (*model)->allocate_kv_cache({.n_blocks = 4, .block_size = 4});
  ASSERT_TRUE(cache.ok());
  std::vector<int32_t> table_a = {0, 1, 2}, table_b = {3};
  std::vector<float> logits(static_cast<size_t>(kVocab) * 2);
  // a: first 8 tokens alone
  Batch first;
  first.tokens.assign(a.begin(), a.begin() + 8);
  first.seqs.push_back({table_a.data(), 3, 0, 8, false});
  (*model)->forward(first, **cache, logits.data());
  // then a's 9th token and b's first 4 tokens together
  Batch mixed;
  mixed.tokens = {a[8], b[0], b[1], b[2], b[3]};
  mixed.seqs.push_back({table_a.data(), 3, 8, 1, false});
  mixed.seqs.push_back({table_b.data(), 1, 0, 4, false});
  (*model)->forward(mixed, **cache, logits.data());
  EXPECT_LT(rel_error(&logits[0], ref_a[8]), 1e-4);
  EXPECT_LT(rel_error(&logits[kVocab], ref_b[3]), 1e-4);
}

}  // namespace
}  // namespace maas
