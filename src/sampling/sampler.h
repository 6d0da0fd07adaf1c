// sampler.h — from one step's logits to the next token (vLLM-style sampler chain).
//
// Order of operations in Sampler::sample (each stage sees the previous stage's logits):
//   1. logit_bias        logits[id] += bias                                   (penalties.h)
//   2. banned            logits[id] = -inf (e.g. EOS while below min_tokens)
//   3. repetition        CTRL/vLLM, over distinct tokens of prompt + generated
//   4. frequency, then presence, over the counts of the generated tokens
//   5. sanitize          NaN -> -inf, +inf -> largest finite float (a broken model must not
//                        crash or poison the draw); the max and argmax are found in this pass
//   6. logprobs          log-softmax of these *processed* logits: after bias, bans and
//                        penalties, before temperature and the filters (vLLM's
//                        "processed_logprobs" mode; vLLM v1's default is the raw model output,
//                        maas returns the distribution the request actually shaped, as OpenAI
//                        does for logit_bias). Banned tokens have logprob -inf and are never
//                        listed among the top alternatives.
//   7. temperature       greedy (argmax, ties -> lowest id) when temperature < 1e-5 or
//                        top_k == 1; otherwise probabilities are softmax(logits / temperature)
//   8. top_k             keep the k most likely (ties -> lower id)
//   9. top_p             on the renormalized top-k distribution: keep the shortest prefix, in
//                        order of probability (ties -> lower id), whose mass >= top_p; at least 1
//  10. min_p             keep p >= min_p * p_max, i.e. logit >= max + temperature * log(min_p)
//  11. draw              one 53-bit uniform u from the Rng; the token is the first (in the
//                        order of the surviving candidates) whose cumulative weight exceeds
//                        u * total weight. Greedy steps draw nothing. Weights are
//                        fast_exp((logit - max) / temperature): tokens more than 87 nats below
//                        the max (at the sampling temperature) weigh exactly 0.
// Cost on a 128,256-entry vocabulary: no full sort. Greedy is one pass (argmax). Plain
// sampling is one vectorized pass of weights (fast_exp.h) with per-block sums, then a scan of
// block sums and one block. top_k keeps a small sorted buffer (nth_element for k > 128) and
// touches only those k afterwards. top_p without top_k builds a histogram of probability mass by
// logit distance from the max, takes whole buckets above the nucleus edge and sorts only the
// edge bucket. Logprobs add one vectorized pass plus a k-entry buffer.
//
// Degenerate input: if every logit is -inf (everything banned), the result is token 0 with
// logprob -inf and no alternatives; the caller should not ban every token.
// Ownership and threads: a Sampler owns its Rng and O(n_vocab) scratch buffers reused across
// steps; use one per sequence, driven by one thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/logprobs.h"
#include "sampling/penalties.h"
#include "sampling/rng.h"
#include "sampling/sampling_params.h"

namespace maas {

struct SampleResult {
  int32_t token = 0;
  // log-softmax of the sampled token at stage 6; filled only when n_logprobs >= 0, else 0.
  float logprob = 0.0f;
  // The n_logprobs most likely tokens at stage 6, best first (ties -> lower id). The sampled
  // token may or may not be among them. Empty when n_logprobs <= 0.
  std::vector<TokenLogprob> top;
};

class Sampler {
 public:
  // params should have passed validate_sampling_params (out-of-range values are not checked here).
  explicit Sampler(SamplingParams params);

  const SamplingParams& params() const { return params_; }

  // logits: n_vocab floats, modified in place (stages 1-5). prompt and generated: the sequence's
  // token history for the penalties. banned: tokens that must not be sampled; may be empty.
  SampleResult sample(float* logits, int32_t n_vocab, std::span<const int32_t> prompt,
                      std::span<const int32_t> generated, std::span<const int32_t> banned = {});

 private:
  bool is_greedy() const;
  int32_t draw(const float* logits, int32_t n_vocab, float max_logit);
  int32_t draw_from_blocks(int32_t n_vocab, double target);
  void filter(const float* logits, int32_t n_vocab, float max_logit, float inv_t);
  void gather_nucleus(const float* logits, int32_t n_vocab, float max_logit, float inv_t, double z);
  float min_p_floor(float max_logit) const;
  void apply_min_p(float max_logit);

  SamplingParams params_;
  Rng rng_;
  PenaltyScratch penalty_scratch_;
  std::vector<float> weights_;       // [n_vocab] exp((logit - max) / temperature)
  std::vector<double> block_sums_;   // [n_vocab / kExpBlock] sums of weights_
  std::vector<double> bucket_mass_;  // top_p histogram
  std::vector<Candidate> candidates_, boundary_;
};

}  // namespace maas
