// kl_regression_test.cc — the guard on quantized fidelity: for each weight type, the engine's
// next-token distributions on a fixed small model must stay within a recorded mean KL divergence
// of the exact ones (the double-precision reference on the same dequantized weights). A change
// to the kernels, the activation quantization or the forward pass that makes a type drift
// further from exact arithmetic fails here, with the measured value printed beside the bound.
//
// Model: small_options (256 embd, 2 blocks, 4 heads / 2 KV heads, 512 ff), a 512-token
// vocabulary, out_scale 4 (the default models' residual scale, so small errors grow through the
// blocks as they do in the real ones); 96 tokens in one prefill, 95 positions scored.
//
// Measured mean KL divergence from exact (2026-12-04; amx = the default on AVX-512 + AMX CPUs):
//   type     amx       avx512    avx2      scalar     bound
//   f16      2.4e-9    6.2e-12   7.8e-12   2.3e-11    1e-7    (activations exact; AMX-BF16 split)
//   q8_0     6.12e-3   6.12e-3   6.27e-3   6.14e-3    8e-3    (8-bit activations, 32-element blocks)
//   q6_k     1.20e-2   1.20e-2   1.20e-2   1.20e-2    1.55e-2 (8-bit activations, 256-element blocks)
//   q4_k_m   1.24e-2   1.25e-2   1.25e-2   1.25e-2    1.6e-2
//   q4_0     5.81e-3   5.81e-3   5.82e-3   5.77e-3    7.5e-3
// The weights are dequantized identically on both sides, so these are the engine's arithmetic
// alone: the rounding of the activations to 8 bits, which the K-quant types (one scale per 256)
// pay twice as much for as Q8_0 / Q4_0 (one per 32). bench/RESULTS.md has llama.cpp beside them.
#include <gtest/gtest.h>

#include <cstdio>

#include "base/thread_pool.h"
#include "eval/kl_divergence.h"
#include "kernels/kernels.h"
#include "model/llama.h"
#include "tests/reference_llama.h"
#include "tests/test_models.h"

namespace maas {
namespace {

constexpr int kVocab = 512;
constexpr int kTokens = 96;

struct Case {
  std::string type;
  double max_mean_kld;
};

class KlRegression : public ::testing::TestWithParam<Case> {};

TEST_P(KlRegression, MeanKlFromExactStaysWithinBound) {
  const Case& c = GetParam();
  auto opts = testing::small_options(c.type);
  opts.out_scale = 4.0f;
  std::string path = testing::write_model(opts, kVocab, "kl_" + c.type + ".gguf");
  auto model = LlamaModel::load(path, {.n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  std::vector<int32_t> toks(kTokens);
  for (int i = 0; i < kTokens; ++i) toks[static_cast<size_t>(i)] = (i * 193 + 71) % kVocab;
  auto ref = testing::reference_logits((*model)->file(), toks);
  ASSERT_EQ(ref.size(), toks.size());

  auto cache = (*model)->allocate_kv_cache({.n_blocks = kTokens / 16, .block_size = 16});
  ASSERT_TRUE(cache.ok());
  std::vector<int32_t> table(kTokens / 16);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int32_t>(i);
  std::vector<float> logits(static_cast<size_t>(kVocab) * kTokens);
  Batch batch;
  batch.tokens = toks;
  batch.seqs.push_back({table.data(), static_cast<int32_t>(table.size()), 0, kTokens, true});
  (*model)->forward(batch, **cache, logits.data());

  eval::KlAccumulator acc;
  std::vector<double> base(kVocab);
  for (int t = 0; t + 1 < kTokens; ++t) {
    eval::log_softmax(ref[static_cast<size_t>(t)].data(), kVocab, base.data());
    acc.add(eval::compare_position(&logits[static_cast<size_t>(t) * kVocab], base.data(), kVocab, toks[static_cast<size_t>(t) + 1]));
  }
  const eval::KlSummary s = acc.summary();
  std::printf("[ %-7s %-6s ] mean KLD %.4g (bound %.3g)  median %.3g  max %.3g  same top %.1f%%\n", c.type.c_str(),
              kernel_variant().c_str(), s.kld.value, c.max_mean_kld, s.kld_median, s.kld_max, 100 * s.same_top.value);
  EXPECT_LT(s.kld.value, c.max_mean_kld);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, KlRegression,
                         ::testing::Values(Case{"f16", 1e-7}, Case{"q8_0", 8e-3}, Case{"q6_k", 1.55e-2},
                                           Case{"q4_k_m", 1.6e-2}, Case{"q4_0", 7.5e-3}),
                         [](const auto& info) { return info.param.type; });

}  // namespace
}  // namespace maas
