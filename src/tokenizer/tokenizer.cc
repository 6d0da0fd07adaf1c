// tokenizer.cc — encode (special-token split, pre-tokenize, BPE / SentencePiece), decode and
// the incremental decoder.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/bpe.h"
#include "tokenizer/special_matcher.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"

namespace maas {

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  if (parse_special) {
    bool after_special = true;
    for (const SpecialMatcher::Fragment& f : special_->split(text)) {
      if (f.token >= 0) {
        out.push_back(f.token);
        after_special = true;
      } else {
        encode_text(f.text, after_special, &out);
        after_special = false;
      }
    }
  } else if (!text.empty()) {
    encode_text(text, /*after_special=*/true, &out);
  }
  if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

void Tokenizer::encode_text(std::string_view text, bool after_special, std::vector<int32_t>* out) const {
  if (bpe_) {
    std::vector<std::string_view> words;
    pretokenize(pre_kind_, text, &words);
    for (std::string_view w : words) bpe_->encode_word(w, out);
    return;
  }
  // SentencePiece adds a space before the text, and again after each special token.
  std::string prefixed;
  prefixed.reserve(text.size() + 1);
  if (add_space_prefix_ && after_special) prefixed.push_back(' ');
  prefixed.append(text);
  spm_->encode(spm_escape_spaces(prefixed), out);
}

std::string Tokenizer::token_to_piece(int32_t id) const { return in_range(id) ? pieces_[id] : std::string(); }

void Tokenizer::append_piece(int32_t id, bool skip_special, bool* at_start, std::string* out) const {
  if (!in_range(id) || (skip_special && is_special(id))) return;
  std::string_view piece = pieces_[id];
  if (*at_start && spm_ && add_space_prefix_ && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
  *at_start = false;
  out->append(piece);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string bytes;
  bool at_start = true;
  for (int32_t id : ids) append_piece(id, skip_special, &at_start, &bytes);
  return utf8_repaired(bytes);
}

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id); }

bool Tokenizer::is_special(int32_t id) const {
  if (!in_range(id)) return false;
  const int32_t t = vocab_.type[id];
  return t == gguf_tensor::kTokenControl || t == gguf_tensor::kTokenUnknown;
}

std::string IncrementalDecoder::push(int32_t id) {
  tokenizer_.append_piece(id, skip_special_, &at_start_, &pending_);
  std::string out;
  const size_t consumed = utf8_repair(pending_, /*final=*/false, &out);
  pending_.erase(0, consumed);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  (void)utf8_repair(pending_, /*final=*/true, &out);
  pending_.clear();
  return out;
}

}  // namespace maas
