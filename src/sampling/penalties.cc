// penalties.cc — logit bias, bans, repetition / frequency / presence penalties (see penalties.h).
#include "sampling/penalties.h"

#include <algorithm>
#include <limits>

namespace maas {
namespace {

bool in_vocab(int32_t id, int32_t n_vocab) { return id >= 0 && id < n_vocab; }

}  // namespace

void apply_logit_bias(float* logits, int32_t n_vocab, std::span<const std::pair<int32_t, float>> logit_bias) {
  for (const auto& [id, bias] : logit_bias) {
    if (in_vocab(id, n_vocab)) logits[id] += bias;
  }
}

void apply_banned(float* logits, int32_t n_vocab, std::span<const int32_t> banned) {
  for (int32_t id : banned) {
    if (in_vocab(id, n_vocab)) logits[id] = -std::numeric_limits<float>::infinity();
  }
}

void apply_repetition_penalty(float* logits, int32_t n_vocab, std::span<const int32_t> prompt,
                              std::span<const int32_t> generated, float penalty, PenaltyScratch& scratch) {
  if (penalty == 1.0f || (prompt.empty() && generated.empty())) return;
  std::vector<uint64_t>& seen = scratch.seen;
  seen.assign((static_cast<size_t>(n_vocab) + 63) / 64, 0);
  auto penalize = [&](std::span<const int32_t> tokens) {
    for (int32_t t : tokens) {
      if (!in_vocab(t, n_vocab)) continue;
      uint64_t& word = seen[static_cast<size_t>(t) >> 6];
      const uint64_t bit = uint64_t{1} << (t & 63);
      if (word & bit) continue;
      word |= bit;
      float& x = logits[t];
      x = x > 0.0f ? x / penalty : x * penalty;
    }
  };
  penalize(prompt);
  penalize(generated);
}

void apply_frequency_presence_penalties(float* logits, int32_t n_vocab, std::span<const int32_t> generated,
                                        float frequency_penalty, float presence_penalty, PenaltyScratch& scratch) {
  if ((frequency_penalty == 0.0f && presence_penalty == 0.0f) || generated.empty()) return;
  std::vector<int32_t>& sorted = scratch.sorted;
  sorted.assign(generated.begin(), generated.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    const int32_t t = sorted[i];
    if (in_vocab(t, n_vocab)) {
      logits[t] -= frequency_penalty * static_cast<float>(j - i);
      logits[t] -= presence_penalty;
    }
    i = j;
  }
}

}  // namespace maas
