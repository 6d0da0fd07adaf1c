// json_constraint.cc — the per-step vocabulary mask of constrained decoding.
#include "sampling/json_constraint.h"

#include <algorithm>
#include <limits>

namespace maas {

ConstraintVocab::ConstraintVocab(std::vector<std::string> pieces, const std::vector<bool>& usable,
                                 std::vector<int32_t> eog)
    : pieces_(std::move(pieces)), usable_(pieces_.size(), 0), plain_chars_(pieces_.size(), -1), eog_(std::move(eog)) {
  for (size_t id = 0; id < pieces_.size(); ++id) {
    const std::string& p = pieces_[id];
    if (p.empty() || id >= usable.size() || !usable[id]) continue;
    usable_[id] = 1;
    by_first_[static_cast<uint8_t>(p[0])].push_back(static_cast<int32_t>(id));
    // Whole UTF-8 characters without '"', '\\' or control bytes: a plain string continues.
    int32_t chars = 0;
    uint8_t utf8 = 0;
    bool plain = true;
    for (char ch : p) {
      const auto c = static_cast<uint8_t>(ch);
      if (c == '"' || c == '\\' || c < 0x20) {
        plain = false;
        break;
      }
      if (utf8 == 0) ++chars;
      if (!utf8_next(&utf8, c)) {
        plain = false;
        break;
      }
    }
    if (plain && utf8 == 0) plain_chars_[id] = chars;
  }
}

JsonConstraint::JsonConstraint(std::shared_ptr<const JsonGrammar> grammar, std::shared_ptr<const ConstraintVocab> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)), matcher_(grammar_->root) {}

void JsonConstraint::mask(float* logits, int32_t n_vocab) {
  const ConstraintVocab& v = *vocab_;
  allowed_.assign(static_cast<size_t>(n_vocab), 0);
  if (matcher_.complete()) {
    for (int32_t id : v.eog_) {
      if (id < n_vocab) allowed_[static_cast<size_t>(id)] = 1;
    }
  }
  int32_t room = 0;
  const bool plain_string = matcher_.in_plain_string(&room);
  for (int b = 0; b < 256; ++b) {
    const std::vector<int32_t>& ids = v.by_first_[static_cast<size_t>(b)];
    if (ids.empty()) continue;
    JsonMatcher first = matcher_;
    if (!first.feed(static_cast<uint8_t>(b))) continue;
    for (int32_t id : ids) {
      if (id >= n_vocab) continue;
      const int32_t chars = v.plain_chars_[static_cast<size_t>(id)];
      if (plain_string && chars >= 0) {
        if (chars <= room) allowed_[static_cast<size_t>(id)] = 1;
        continue;
      }
      const std::string& p = v.pieces_[static_cast<size_t>(id)];
      if (p.size() == 1) {
        allowed_[static_cast<size_t>(id)] = 1;
        continue;
      }
      JsonMatcher m = first;
      if (m.feed(std::string_view(p).substr(1))) allowed_[static_cast<size_t>(id)] = 1;
    }
  }
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int32_t id = 0; id < n_vocab; ++id) {
    if (!allowed_[static_cast<size_t>(id)]) logits[id] = kNegInf;
  }
}

bool JsonConstraint::accept(int32_t token) {
  const ConstraintVocab& v = *vocab_;
  if (std::find(v.eog_.begin(), v.eog_.end(), token) != v.eog_.end()) return matcher_.complete();
  if (token < 0 || token >= v.n_vocab()) return false;
  if (!v.usable_[static_cast<size_t>(token)]) return false;
  const std::string& p = v.pieces_[static_cast<size_t>(token)];
  JsonMatcher m = matcher_;
  if (!m.feed(p)) return false;
  matcher_ = m;
  return true;
}

}  // namespace maas
