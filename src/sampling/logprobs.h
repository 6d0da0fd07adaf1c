// logprobs.h — exact log-softmax values and top-k selection over a full logit vector.
//
// Both work on the whole vocabulary in one pass (no sort of 128K entries): the normalizer is a
// max-shifted sum of exponentials accumulated in double, and the best k tokens are kept in a
// small sorted buffer (k <= 128) or picked with nth_element (larger k).
// Preconditions: the logits contain no NaN and no +inf (Sampler sanitizes them first); -inf is
// allowed and means "impossible".
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace maas {

struct TokenLogprob {
  int32_t id;
  float logprob;
};

// A token and its logit; the order "better" is higher logit, then lower id.
struct Candidate {
  float logit;
  int32_t id;
};
inline bool better(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// log(sum_i exp(logits[i])) computed as max + log(sum fast_exp(logits[i] - max)) with double
// accumulators (terms below e^-87 count as 0); `max_logit` must be the maximum. -inf when every
// logit is -inf.
double log_normalizer(const float* logits, int32_t n_vocab, float max_logit);

// The min(k, #finite) best tokens (see `better`), sorted best first, written to `out`.
// -inf entries are never selected.
void select_top_k(const float* logits, int32_t n_vocab, int32_t k, std::vector<Candidate>& out);

// The k most likely tokens with their log-softmax values logits[id] - log_norm, sorted by
// logprob descending, ties by lower id; tokens at -inf are left out (so fewer than k may come back).
std::vector<TokenLogprob> top_logprobs(const float* logits, int32_t n_vocab, int32_t k, double log_norm);

}  // namespace maas
