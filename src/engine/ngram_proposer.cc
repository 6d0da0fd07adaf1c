// ngram_proposer.cc — prompt-lookup drafts from an incremental n-gram index (see ngram_proposer.h).
#include "engine/ngram_proposer.h"

#include <algorithm>

#include "base/check.h"

namespace maas {

NgramProposer::NgramProposer(int32_t n_min, int32_t n_max)
    : n_min_(n_min), n_max_(n_max), last_end_(static_cast<size_t>(n_max - n_min + 1)) {
  CHECK(n_min >= 1 && n_min <= n_max);
}

// FNV-1a over the n tokens ending (exclusive) at `end`.
uint64_t NgramProposer::hash(std::span<const int32_t> tokens, int32_t end, int32_t n) const {
  uint64_t h = 1469598103934665603ull;
  for (int32_t i = end - n; i < end; ++i) {
    h ^= static_cast<uint32_t>(tokens[static_cast<size_t>(i)]);
    h *= 1099511628211ull;
  }
  return h;
}

// Indexes the n-grams ending (exclusive) at positions n_indexed_ + 1 .. end.
void NgramProposer::index_through(std::span<const int32_t> tokens, int32_t end) {
  for (int32_t e = std::max(n_indexed_ + 1, n_min_); e <= end; ++e) {
    for (int32_t n = n_min_; n <= std::min(n_max_, e); ++n) last_end_[static_cast<size_t>(n - n_min_)][hash(tokens, e, n)] = e;
  }
  n_indexed_ = std::max(n_indexed_, end);
}

std::vector<int32_t> NgramProposer::propose(std::span<const int32_t> tokens, int32_t max_draft) {
  const int32_t len = static_cast<int32_t>(tokens.size());
  if (len < n_indexed_) {  // not the sequence indexed so far: start over
    for (auto& m : last_end_) m.clear();
    n_indexed_ = 0;
  }
  // Every n-gram ending before the last position is indexed, so a hit is an earlier occurrence.
  index_through(tokens, len - 1);
  std::vector<int32_t> draft;
  if (max_draft <= 0) return draft;
  for (int32_t n = std::min(n_max_, len - 1); n >= n_min_; --n) {
    const auto& m = last_end_[static_cast<size_t>(n - n_min_)];
    auto it = m.find(hash(tokens, len, n));
    if (it == m.end()) continue;
    const int32_t e = it->second;  // tokens[e - n, e) should equal tokens[len - n, len)
    if (!std::equal(tokens.begin() + (e - n), tokens.begin() + e, tokens.begin() + (len - n))) continue;  // collision
    const int32_t k = std::min(max_draft, len - e);
    draft.assign(tokens.begin() + e, tokens.begin() + e + k);
    break;
  }
  return draft;
}

}  // namespace maas
