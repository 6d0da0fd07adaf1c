// spm.cc — score-ordered BPE over UTF-8 characters with byte fallback (llama.cpp's algorithm).
#include "tokenizer/spm.h"

#include <algorithm>
#include <cstdio>
#include <queue>
#include <string>

#include "tokenizer/unicode.h"


namespace maas {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

struct Symbol {
  int32_t prev;
  int32_t next;
  const char* text;
  size_t n;  // bytes; 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  size_t size;
  // priority_queue is a max-heap: highest score first, then the leftmost.
  bool operator<(const Bigram& o) const { return score < o.score || (score == o.score && left > o.left); }
};

class Session {
 public:
  Session(const Vocab& vocab, const int32_t* byte_id, int32_t unk_id)
      : vocab_(vocab), byte_id_(byte_id), unk_id_(unk_id) {}

  void encode(std::string_view text, std::vector<int32_t>* out) {
    symbols_.reserve(text.size());
    for (size_t offs = 0; offs < text.size();) {
      // By the lead byte's high nibble, as llama.cpp does (invalid bytes end up as byte tokens).
      static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
      const size_t len = std::min<size_t>(kLen[static_cast<uint8_t>(text[offs]) >> 4], text.size() - offs);
      const int32_t idx = static_cast<int32_t>(symbols_.size());  // NOLINT
      symbols_.push_back(Symbol{idx - 1, offs + len == text.size() ? -1 : idx + 1, text.data() + offs, len});
      offs += len;
    }
    for (size_t i = 1; i < symbols_.size(); ++i) try_add_bigram(static_cast<int32_t>(i) - 1, static_cast<int32_t>(i));
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;  // stale
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      try_add_bigram(left.prev, b.left);
      try_add_bigram(b.left, left.next);
    }
    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) {
      resegment(symbols_[i], out);
    }
  }

 private:
  void try_add_bigram(int32_t left, int32_t right) {
    if (left == -1 || right == -1) return;
    const std::string_view text(symbols_[left].text, symbols_[left].n + symbols_[right].n);
    auto id = vocab_.find_plain(text);
    if (!id) return;
    queue_.push(Bigram{left, right, vocab_.score[*id], text.size()});
  }

  // llama.cpp keeps a reverse-merge map to split a final symbol that is not a token back into
  // its parts; it never fires, since a symbol only grows by a merge whose result is a token.
  // So a final symbol is a token, or a single character without one: byte fallback.
  void resegment(const Symbol& symbol, std::vector<int32_t>* out) const {
    const std::string_view text(symbol.text, symbol.n);
    if (auto id = vocab_.find_plain(text)) {
      out->push_back(*id);
      return;
    }
    for (char c : text) {
      const int32_t id = byte_id_[static_cast<uint8_t>(c)];
      if (id >= 0) {
        out->push_back(id);
      } else if (unk_id_ >= 0) {
        out->push_back(unk_id_);
      }
    }
  }

  const Vocab& vocab_;
  const int32_t* byte_id_;
  int32_t unk_id_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram> queue_;
};

}  // namespace

SpmEncoder::SpmEncoder(const Vocab& vocab, int32_t unk_id, bool split_words) : vocab_(vocab), unk_id_(unk_id) {
  splittable_ = split_words;
  for (int32_t id = 0; id < vocab.n() && splittable_; ++id) {
    if (!vocab.is_plain(id)) continue;
    std::string_view t = vocab.text[id];
    while (t.substr(0, kSpaceMark.size()) == kSpaceMark) t.remove_prefix(kSpaceMark.size());
    splittable_ = t.find(kSpaceMark) == std::string_view::npos;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto id = vocab.find(name);
    if (!id) id = vocab.find_plain(std::string(1, static_cast<char>(b)));
    byte_id_[b] = id ? *id : -1;
  }
}

void SpmEncoder::encode(std::string_view text, std::vector<int32_t>* out) const {
  if (!splittable_ || !utf8_valid(text)) {
    Session session(vocab_, byte_id_, unk_id_);
    session.encode(text, out);
    return;
  }
  size_t start = 0;
  for (size_t p = 1; p + kSpaceMark.size() <= text.size(); ++p) {
    if (text.compare(p, kSpaceMark.size(), kSpaceMark) != 0) continue;
    if (p >= kSpaceMark.size() && text.compare(p - kSpaceMark.size(), kSpaceMark.size(), kSpaceMark) == 0) continue;
    encode_word(text.substr(start, p - start), out);
    start = p;
  }
  encode_word(text.substr(start), out);
}

void SpmEncoder::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  const bool cacheable = WordCache::cacheable(word);
  if (cacheable && cache_.lookup(word, out)) return;
  std::vector<int32_t> ids;
  Session session(vocab_, byte_id_, unk_id_);
  session.encode(word, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  if (cacheable) cache_.insert(word, std::move(ids));
}

std::string spm_escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ') {
      out += kSpaceMark;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace maas
