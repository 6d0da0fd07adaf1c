// penalties.h — logit adjustments that depend on the request and its token history.
//
// Each function edits `logits` (n_vocab floats) in place and is exact: the tests check the
// numbers against the formulas below. Token ids outside [0, n_vocab) are ignored (user-facing
// ids are rejected earlier by validate_sampling_params and the API's prompt checks).
// Thread safety: none needed; the scratch belongs to one caller.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace maas {

// Reusable buffers so that a step allocates nothing once warm (owned by a Sampler).
struct PenaltyScratch {
  std::vector<uint64_t> seen;    // one bit per vocabulary entry
  std::vector<int32_t> sorted;   // a sorted copy of the generated tokens
};

// logits[id] += bias for each pair, in order (a repeated id adds up).
void apply_logit_bias(float* logits, int32_t n_vocab, std::span<const std::pair<int32_t, float>> logit_bias);

// logits[id] = -inf for each id.
void apply_banned(float* logits, int32_t n_vocab, std::span<const int32_t> banned);

// For each distinct token t in prompt ∪ generated, once:
//   logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty.
// penalty == 1 does nothing. O(|prompt| + |generated|) plus an n_vocab/8-byte bitmap clear.
void apply_repetition_penalty(float* logits, int32_t n_vocab, std::span<const int32_t> prompt,
                              std::span<const int32_t> generated, float penalty, PenaltyScratch& scratch);

// For each distinct token t of generated, occurring c times:
//   logits[t] -= frequency_penalty * c;  then  logits[t] -= presence_penalty.
// (vLLM's two subtractions, in this order, in float.) Both 0 does nothing. O(g log g).
void apply_frequency_presence_penalties(float* logits, int32_t n_vocab, std::span<const int32_t> generated,
                                        float frequency_penalty, float presence_penalty, PenaltyScratch& scratch);

}  // namespace maas
