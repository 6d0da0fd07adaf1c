// spm.h — SentencePiece-style BPE (Llama 2), as llama.cpp's llm_tokenizer_spm does it: the text
// (spaces already replaced by U+2581 "▁") starts as one symbol per UTF-8 character; the adjacent
// pair whose concatenation is the highest-scoring vocabulary token merges first (leftmost among
// equal scores) until no pair is in the vocabulary. Characters outside the vocabulary fall back
// to byte tokens <0xXX>. Only normal and user-defined tokens take part in merges.
//
// Speed: when no vocabulary token holds "▁" after a character other than "▁" (true of Llama 2's
// and Mistral's vocabularies: "▁" only opens a piece), no merge can cross the start of a run of
// "▁", so valid UTF-8 text is cut there into words that merge independently and are cached;
// the result is the same as merging the whole text at once.
// Thread safety: concurrent calls are fine (the word cache locks).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"
#include "tokenizer/word_cache.h"

namespace maas {

class SpmEncoder {
 public:
  // `vocab` must outlive the encoder. `unk_id` (or -1) stands in for a byte without a token.
  // `split_words` = false merges the whole text at once (tests compare the two).
  SpmEncoder(const Vocab& vocab, int32_t unk_id, bool split_words = true);

  // Appends the ids of `text`, which is already escaped (" " -> "▁") and prefixed as wanted.
  void encode(std::string_view text, std::vector<int32_t>* out) const;
  bool splits_words() const { return splittable_; }

 private:
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  const Vocab& vocab_;
  int32_t unk_id_;
  int32_t byte_id_[256];  // <0xXX> tokens, -1 if absent
  bool splittable_ = false;
  WordCache cache_;
};

// Replaces each ' ' by "▁" (U+2581), as SentencePiece escapes whitespace.
std::string spm_escape_spaces(std::string_view text);

}  // namespace maas
