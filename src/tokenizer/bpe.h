// bpe.h — byte-level BPE (GPT-2, Llama 3): merges one pre-tokenized word at a time by merge
// rank, lowest rank first and leftmost first among equals (a priority queue over a linked list
// of symbols, O(n log n) per word). Words are cached.
//
// With `ignore_merges` (Llama 3, as Hugging Face's `ignore_merges: true`) a word that is itself
// a vocabulary token is emitted whole, even when the merges would not reach it.
// Thread safety: encode_word may be called concurrently (WordCache locks).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"
#include "tokenizer/word_cache.h"

namespace maas {

class BpeEncoder {
 public:
  // `merges` in rank order, each "left right" in byte-level text. A merge without a separating
  // space is an InvalidArgument error; merges naming texts absent from `vocab` are unusable and
  // skipped. `vocab` must outlive the encoder.
  static StatusOr<std::unique_ptr<BpeEncoder>> build(const Vocab& vocab, const std::vector<std::string>& merges,
                                                     bool ignore_merges);

  // Appends the ids of one word (raw bytes, as the pre-tokenizer split it).
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  size_t n_merges() const { return n_merges_; }

 private:
  struct Merge {
    uint64_t key;    // left id << 32 | right id
    int32_t rank;    // -1: empty slot
    int32_t result;
  };
  explicit BpeEncoder(const Vocab& vocab) : vocab_(vocab) {}
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  const Vocab& vocab_;
  std::array<int32_t, 256> byte_id_{};  // token of each single byte, -1 if absent
  std::vector<Merge> merges_;  // open addressing, power-of-two size
  size_t n_merges_ = 0;
  bool ignore_merges_ = false;
  WordCache cache_;
};

}  // namespace maas
