// perplexity.cc — the chunked perplexity / KL-divergence evaluation (see perplexity.h).
#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>

namespace maas::eval {

double token_nll(const float* logits, int32_t n_vocab, int32_t token) {
  const float mx = *std::max_element(logits, logits + n_vocab);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return mx + std::log(sum) - logits[token];
}

ValueWithError NllAccumulator::perplexity() const {
  if (count_ == 0) return {};
  const double n = static_cast<double>(count_);
  const double mean = sum_ / n;
  const double var = sum2_ / n - mean * mean;
  const double ppl = std::exp(mean);
  return {ppl, count_ > 1 && var > 0 ? ppl * std::sqrt(var / (n - 1)) : 0.0};
}

std::vector<int32_t> chunk_input(const std::vector<int32_t>& tokens, int32_t n_ctx, int32_t chunk, int32_t bos) {
  const auto begin = tokens.begin() + static_cast<int64_t>(chunk) * n_ctx;
  std::vector<int32_t> input(begin, begin + n_ctx);
  if (bos >= 0) input[0] = bos;
  return input;
}

StatusOr<EvalResult> evaluate_chunks(const std::vector<int32_t>& tokens, const EvalOptions& o, const ChunkLogitsFn& logits_fn) {
  if (o.n_ctx < 4 || o.n_chunk < 1 || o.n_vocab < 2) return invalid_argument("evaluation needs n_ctx >= 4, one chunk, a vocabulary");
  if (tokens.size() < static_cast<size_t>(o.n_ctx) * static_cast<size_t>(o.n_chunk)) {
    return invalid_argument("the text has " + std::to_string(tokens.size()) + " tokens, fewer than " +
                            std::to_string(o.n_chunk) + " chunks of " + std::to_string(o.n_ctx));
  }
  const int32_t first = o.n_ctx / 2, n_rows = o.n_ctx - first;
  const size_t nv = static_cast<size_t>(o.n_vocab);
  std::vector<float> logits(static_cast<size_t>(n_rows) * nv);
  std::vector<double> base(o.compare != nullptr ? nv : 0);
  NllAccumulator nll;
  KlAccumulator kl;
  for (int32_t c = 0; c < o.n_chunk; ++c) {
    const std::vector<int32_t> input = chunk_input(tokens, o.n_ctx, c, o.bos);
    RETURN_IF_ERROR(logits_fn(input, first, logits.data()));
    // Row r holds position first + r, which predicts the text's token at first + r + 1.
    for (int32_t r = 0; r + 1 < n_rows; ++r) {
      const float* row = &logits[static_cast<size_t>(r) * nv];
      const int32_t next = tokens[static_cast<size_t>(c) * static_cast<size_t>(o.n_ctx) + static_cast<size_t>(first + r + 1)];
      nll.add(token_nll(row, o.n_vocab, next));
      if (o.save != nullptr) RETURN_IF_ERROR(o.save->append(row));
      if (o.compare != nullptr) {
        RETURN_IF_ERROR(o.compare->next(base.data()));
        kl.add(compare_position(row, base.data(), o.n_vocab, next));
      }
    }
    if (o.progress) o.progress(c + 1, o.n_chunk, nll.perplexity().value);
  }
  if (o.save != nullptr) RETURN_IF_ERROR(o.save->finish());
  EvalResult result;
  result.ppl = nll.perplexity();
  result.count = nll.count();
  if (o.compare != nullptr) result.kl = kl.summary();
  return result;
}

}  // namespace maas::eval
