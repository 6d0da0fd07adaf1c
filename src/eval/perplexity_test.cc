// perplexity_test.cc — llama.cpp's chunking and scoring, and the save/compare round trip.
#include "eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace maas::eval {
namespace {

constexpr int32_t kVocab = 16;

TEST(Perplexity, UniformLogitsGiveTheVocabularySize) {
  std::vector<float> logits(kVocab, 0.25f);
  NllAccumulator acc;
  for (int i = 0; i < 20; ++i) acc.add(token_nll(logits.data(), kVocab, i % kVocab));
  EXPECT_NEAR(acc.perplexity().value, kVocab, 1e-9);
  EXPECT_NEAR(acc.perplexity().error, 0, 1e-9);
}

// A deterministic stand-in for a model: logits depend on the position and the input's tokens.
Status fake_logits(const std::vector<int32_t>& input, int32_t first, float* out, std::vector<std::vector<int32_t>>* seen) {
  if (seen != nullptr) seen->push_back(input);
  const int32_t n_ctx = static_cast<int32_t>(input.size());
  for (int32_t p = first; p < n_ctx; ++p) {
    for (int32_t v = 0; v < kVocab; ++v) {
      out[(p - first) * kVocab + v] = std::cos(0.7f * static_cast<float>(v * (p + 1) + input[static_cast<size_t>(p)]));
    }
  }
  return Status::Ok();
}

TEST(Perplexity, ChunksScoreTheSecondHalfAfterBos) {
  std::vector<int32_t> tokens;
  for (int i = 0; i < 50; ++i) tokens.push_back((i * 5 + 1) % kVocab);
  EvalOptions o;
  o.n_ctx = 10;  // first scored position 5, positions 5..8 scored: 4 per chunk
  o.n_chunk = 3;
  o.n_vocab = kVocab;
  o.bos = 15;
  std::vector<std::vector<int32_t>> seen;
  int calls = 0;
  o.progress = [&](int32_t done, int32_t total, double) { EXPECT_EQ(++calls, done); EXPECT_EQ(total, 3); };
  auto r = evaluate_chunks(tokens, o, [&](const std::vector<int32_t>& in, int32_t first, float* out) {
    EXPECT_EQ(first, 5);
    return fake_logits(in, first, out, &seen);
  });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->count, 12u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1][0], 15);
  EXPECT_EQ(seen[1][1], tokens[11]);
  // The NLL by hand: chunk c, position p predicts tokens[c * 10 + p + 1].
  NllAccumulator want;
  std::vector<float> rows(5 * kVocab);
  for (int c = 0; c < 3; ++c) {
    ASSERT_TRUE(fake_logits(seen[static_cast<size_t>(c)], 5, rows.data(), nullptr).ok());
    for (int p = 5; p < 9; ++p) want.add(token_nll(&rows[static_cast<size_t>((p - 5) * kVocab)], kVocab, tokens[static_cast<size_t>(c * 10 + p + 1)]));
  }
  EXPECT_NEAR(r->ppl.value, want.perplexity().value, 1e-12);
  EXPECT_FALSE(r->kl.has_value());

  o.n_chunk = 6;  // 60 tokens needed, 50 given
  EXPECT_FALSE(evaluate_chunks(tokens, o, [&](const auto& in, int32_t f, float* out) { return fake_logits(in, f, out, nullptr); }).ok());
}

TEST(Perplexity, SavedBaseComparesToItselfAtTheCodesResolution) {
  std::vector<int32_t> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back((i * 3) % kVocab);
  KlBaseHeader h;
  h.n_ctx = 8;
  h.n_vocab = kVocab;
  h.n_chunk = 5;
  h.tokens = tokens;
  const std::string path = ::testing::TempDir() + "/ppl_base.bin";
  auto fn = [](const std::vector<int32_t>& in, int32_t first, float* out) { return fake_logits(in, first, out, nullptr); };
  EvalOptions o;
  o.n_ctx = 8;
  o.n_chunk = 5;
  o.n_vocab = kVocab;
  {
    auto w = KlBaseWriter::create(path, h);
    ASSERT_TRUE(w.ok());
    o.save = w->get();
    ASSERT_TRUE(evaluate_chunks(tokens, o, fn).ok());
  }
  auto rd = KlBaseReader::open(path);
  ASSERT_TRUE(rd.ok()) << rd.status().to_string();
  o.save = nullptr;
  o.compare = rd->get();
  auto r = evaluate_chunks(tokens, o, fn);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_TRUE(r->kl.has_value());
  EXPECT_EQ(r->kl->count, 15u);
  // The codes' step here is 2/65535 in log-probability (the logits span 2): a per-position KL
  // noise of order step * sqrt(sum p^2), either sign, around 1e-6 on a 16-token vocabulary.
  EXPECT_LT(std::fabs(r->kl->kld.value), 1e-5);
  EXPECT_LT(std::fabs(r->kl->kld_max), 1e-5);
  EXPECT_EQ(r->kl->same_top.value, 1.0);
  EXPECT_NEAR(r->kl->ppl.value, r->kl->ppl_base.value, 1e-3 * r->kl->ppl.value);
}

}  // namespace
}  // namespace maas::eval
