// sampling_params.h — what one request asks of the sampler, and the one place its ranges are
// checked (SPEC §2). Field semantics follow vLLM / OpenAI; the order in which the sampler applies
// them is documented in sampler.h.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "base/status.h"

namespace maas {

struct SamplingParams {
  // Divides the logits before the filters and the draw. 0 (anything below 1e-5, vLLM's epsilon)
  // means greedy: a plain argmax, ties to the lowest token id.
  float temperature = 1.0f;
  // Nucleus: keep the smallest set of most likely tokens whose probability sums to >= top_p.
  float top_p = 1.0f;
  // Keep the top_k most likely tokens; 0 or -1 (or >= n_vocab) turns it off; 1 is greedy.
  int32_t top_k = 0;
  // Keep tokens whose probability is >= min_p * (probability of the most likely token).
  float min_p = 0.0f;
  // OpenAI semantics over the generated tokens only (count c of the token so far):
  //   logit -= frequency_penalty * c;  logit -= presence_penalty * (c > 0).
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // CTRL / vLLM semantics over every distinct token of prompt + generated, applied once per
  // token: logit > 0 ? logit / repetition_penalty : logit * repetition_penalty. 1 = off.
  float repetition_penalty = 1.0f;
  // Same seed (and same logits) -> same tokens. No seed: seeded from std::random_device.
  std::optional<uint64_t> seed;
  // (token id, bias) pairs added to the logits before everything else; -100 effectively bans.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // -1: no logprobs. k >= 0: SampleResult carries the sampled token's logprob and the k most
  // likely tokens (the API's `logprobs` / `top_logprobs`).
  int32_t n_logprobs = -1;
};

// InvalidArgument, naming the API field, when a value is outside SPEC §2: temperature [0, 2],
// top_p (0, 1], top_k >= -1, min_p [0, 1], presence_penalty and frequency_penalty [-2, 2],
// repetition_penalty (0, 2], logprobs -1 (none) or [0, 20], logit_bias ids in [0, n_vocab) and
// values in [-100, 100]. NaN is rejected everywhere. Ok otherwise.
Status validate_sampling_params(const SamplingParams& p, int32_t n_vocab);

}  // namespace maas
