// ngram_proposer.h — draft tokens for speculative decoding by prompt lookup (n-gram matching,
// vLLM's `"method": "ngram"`): the continuation of the most recent earlier occurrence of the
// sequence's last n tokens, n from n_max down to n_min, is likely to continue it again
// (repeated names, code, quotes of the prompt, and the loops greedy decoding falls into).
//
// Cost: an index per sequence, hash of each n-gram (n_min..n_max) -> where its latest indexed
// occurrence ends, grown by the tokens appended since the last call. A call indexes each new
// position once (n_max - n_min + 1 hash inserts) and looks up n_max - n_min + 1 keys, so a long
// prompt is indexed once (O(len)) and every later step costs O(new tokens + n_max + k), never a
// scan of the history. Hashes are confirmed against the tokens, so a collision never proposes
// a wrong continuation (it may only miss one). Memory: (n_max - n_min + 1) entries per token.
//
// A draft is only a guess: the engine verifies it against the target model (engine_spec.cc).
// Thread safety: none (one per sequence, engine thread).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace maas {

class NgramProposer {
 public:
  // 1 <= n_min <= n_max.
  NgramProposer(int32_t n_min, int32_t n_max);

  // Up to `max_draft` tokens to follow `tokens` (the whole sequence so far; it only ever grows
  // between calls), empty when no suffix of n_min..n_max tokens occurred earlier.
  std::vector<int32_t> propose(std::span<const int32_t> tokens, int32_t max_draft);

 private:
  uint64_t hash(std::span<const int32_t> tokens, int32_t end, int32_t n) const;
  void index_through(std::span<const int32_t> tokens, int32_t end);

  int32_t n_min_, n_max_;
  // [n - n_min]: hash of the n-gram tokens[e - n, e) -> e, the latest indexed end e.
  std::vector<std::unordered_map<uint64_t, int32_t>> last_end_;
  int32_t n_indexed_ = 0;  // n-grams ending at positions <= this are indexed (end exclusive)
};

}  // namespace maas
