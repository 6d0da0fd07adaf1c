// perplexity.h — perplexity over a text, by llama.cpp's method so the numbers are comparable
// with llama-perplexity's:
//
//   the text's tokens are cut into n_chunk consecutive chunks of n_ctx tokens; each chunk is
//   evaluated from an empty cache with its first token replaced by BOS (when the vocabulary
//   adds one), and only the second half is scored: the logits at positions p = n_ctx/2 ..
//   n_ctx-2 predict the tokens at p + 1 (so every scored token has at least n_ctx/2 of context).
//
//   PPL = exp(mean NLL), and its standard error exp(mean) * sd(NLL) / sqrt(count - 1).
//
// evaluate_chunks() drives any source of logits (the engine, the double-precision reference)
// through that plan, optionally saving a KL-divergence base file or comparing with one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "eval/kl_base_file.h"
#include "eval/kl_divergence.h"

namespace maas::eval {

// -log softmax(logits)[token], in double.
double token_nll(const float* logits, int32_t n_vocab, int32_t token);

class NllAccumulator {
 public:
  void add(double nll) {
    sum_ += nll;
    sum2_ += nll * nll;
    ++count_;
  }
  size_t count() const { return count_; }
  // Perplexity and its standard error (0 while count < 2).
  ValueWithError perplexity() const;

 private:
  double sum_ = 0, sum2_ = 0;
  size_t count_ = 0;
};

// Chunk c of tokens (n_ctx of them) as evaluated: the first replaced by bos when bos >= 0.
std::vector<int32_t> chunk_input(const std::vector<int32_t>& tokens, int32_t n_ctx, int32_t chunk, int32_t bos);

// Writes the logits of positions first .. n_ctx-1 of the chunk (n_ctx - first rows of n_vocab
// floats) for the chunk's input tokens.
using ChunkLogitsFn = std::function<Status(const std::vector<int32_t>& input, int32_t first, float* logits)>;

struct EvalOptions {
  int32_t n_ctx = 512;
  int32_t n_chunk = 0;   // chunks to evaluate (tokens.size() / n_ctx at most)
  int32_t n_vocab = 0;
  int32_t bos = -1;      // substituted for each chunk's first token; -1: none
  KlBaseWriter* save = nullptr;     // writes the base file's records when set
  KlBaseReader* compare = nullptr;  // compares with the base file's records when set
  // Called after each chunk with the chunk count done and the running perplexity.
  std::function<void(int32_t done, int32_t total, double ppl)> progress;
};

struct EvalResult {
  ValueWithError ppl;
  size_t count = 0;  // scored tokens
  std::optional<KlSummary> kl;
};

// The text must have at least n_chunk * n_ctx tokens (the caller sizes n_chunk).
StatusOr<EvalResult> evaluate_chunks(const std::vector<int32_t>& tokens, const EvalOptions& options,
                                     const ChunkLogitsFn& logits_fn);

}  // namespace maas::eval
