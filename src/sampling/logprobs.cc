// logprobs.cc — log-softmax normalizer and top-k selection without sorting the vocabulary.
#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sampling/fast_exp.h"

namespace maas {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int32_t kSmallK = 128;  // up to this k, a sorted insertion buffer beats nth_element

// One pass keeping the k best in `out` (sorted best first). Because ids are visited in increasing
// order, an entry equal to the current worst never displaces it (the earlier id wins the tie).
void select_small(const float* logits, int32_t n_vocab, size_t k, std::vector<Candidate>& out) {
  // Entry bar: anything finite until the buffer is full, then strictly above the worst kept.
  // Kept in a local so the hot loop is one compare (out's floats could alias logits otherwise).
  float bar = kNegInf;
  for (int32_t i = 0; i < n_vocab; ++i) {
    const float x = logits[i];
    if (!(x > bar)) continue;
    if (out.size() == k) out.pop_back();
    const Candidate c{x, i};
    out.insert(std::upper_bound(out.begin(), out.end(), c, better), c);
    if (out.size() == k) bar = out.back().logit;
  }
}

}  // namespace

double log_normalizer(const float* logits, int32_t n_vocab, float max_logit) {
  if (max_logit == kNegInf) return -std::numeric_limits<double>::infinity();
  float w[kExpBlock];
  double sum = 0.0;
  for (int32_t start = 0; start < n_vocab; start += kExpBlock) {
    sum += exp_weights(logits + start, std::min(kExpBlock, n_vocab - start), max_logit, 1.0f, w, nullptr);
  }
  return static_cast<double>(max_logit) + std::log(sum);
}

void select_top_k(const float* logits, int32_t n_vocab, int32_t k, std::vector<Candidate>& out) {
  out.clear();
  if (k <= 0) return;
  if (k <= kSmallK) {
    out.reserve(static_cast<size_t>(k) + 1);
    select_small(logits, n_vocab, static_cast<size_t>(k), out);
    return;
  }
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (logits[i] != kNegInf) out.push_back({logits[i], i});
  }
  if (out.size() > static_cast<size_t>(k)) {
    std::nth_element(out.begin(), out.begin() + k, out.end(), better);
    out.resize(static_cast<size_t>(k));
  }
  std::sort(out.begin(), out.end(), better);
}

std::vector<TokenLogprob> top_logprobs(const float* logits, int32_t n_vocab, int32_t k, double log_norm) {
  std::vector<Candidate> best;
  select_top_k(logits, n_vocab, k, best);
  std::vector<TokenLogprob> out;
  out.reserve(best.size());
  for (const Candidate& c : best) {
    out.push_back({c.id, static_cast<float>(static_cast<double>(c.logit) - log_norm)});
  }
  return out;
}

}  // namespace maas
