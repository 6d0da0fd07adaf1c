// pretokenize.cc — the Llama 3 and GPT-2 pre-tokenizer regexes as hand-written matchers. Each
// match_* function returns the end of the leftmost alternative that matches at `i`, following
// the regex's backtracking semantics (first alternative wins, quantifiers greedy).
#include "tokenizer/pretokenize.h"

#include <cstdint>

#include "tokenizer/unicode.h"

namespace maas {
namespace {

struct Cp {
  uint32_t cp;
  size_t offset;  // byte offset in the text
  uint8_t flags;
};

class Matcher {
 public:
  explicit Matcher(const std::vector<Cp>& c) : c_(c), n_(c.size()) {}

  bool letter(size_t i) const { return i < n_ && (c_[i].flags & kCpLetter); }
  bool number(size_t i) const { return i < n_ && (c_[i].flags & kCpNumber); }
  bool space(size_t i) const { return i < n_ && (c_[i].flags & kCpWhitespace); }
  bool crlf(size_t i) const { return i < n_ && (c_[i].cp == '\r' || c_[i].cp == '\n'); }
  bool is(size_t i, uint32_t cp) const { return i < n_ && c_[i].cp == cp; }
  // [^\s\p{L}\p{N}]
  bool other(size_t i) const { return i < n_ && !(c_[i].flags & (kCpLetter | kCpNumber | kCpWhitespace)); }
  bool ascii_ci(size_t i, char lower) const {
    return i < n_ && (c_[i].cp == static_cast<uint32_t>(lower) || c_[i].cp == static_cast<uint32_t>(lower - 32));
  }

  // 's|'t|'re|'ve|'m|'ll|'d, case-insensitively when `ci`. Returns 0 when none matches.
  size_t contraction(size_t i, bool ci) const {
    if (!is(i, '\'')) return 0;
    auto ch = [&](size_t k, char lower) { return ci ? ascii_ci(k, lower) : is(k, lower); };
    if (ch(i + 1, 's') || ch(i + 1, 't') || ch(i + 1, 'm') || ch(i + 1, 'd')) return i + 2;
    if ((ch(i + 1, 'r') && ch(i + 2, 'e')) || (ch(i + 1, 'v') && ch(i + 2, 'e')) ||
        (ch(i + 1, 'l') && ch(i + 2, 'l'))) {
      return i + 3;
    }
    return 0;
  }

  // \s+(?!\S)|\s+ at a whitespace code point: the run, less its last code point when a
  // non-space follows and the run is longer than one.
  size_t whitespace_run(size_t i) const {
    size_t k = i;
    while (space(k)) ++k;
    if (k == n_ || k - i == 1) return k;
    return k - 1;
  }

  size_t match_llama3(size_t i) const {
    if (size_t e = contraction(i, /*ci=*/true)) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    size_t j = i;
    if (!crlf(j) && !letter(j) && !number(j)) ++j;
    if (letter(j)) {
      while (letter(j)) ++j;
      return j;
    }
    // \p{N}{1,3}
    if (number(i)) {
      j = i;
      while (j < i + 3 && number(j)) ++j;
      return j;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    j = is(i, ' ') ? i + 1 : i;
    if (other(j)) {
      while (other(j)) ++j;
      while (crlf(j)) ++j;
      return j;
    }
    if (!space(i)) return i + 1;  // unreachable: every code point is covered above
    // \s*[\r\n]+ : up to and including the last CR/LF of the whitespace run
    size_t k = i;
    size_t last_crlf = SIZE_MAX;
    while (space(k)) {
      if (crlf(k)) last_crlf = k;
      ++k;
    }
    if (last_crlf != SIZE_MAX) return last_crlf + 1;
    return whitespace_run(i);
  }

  size_t match_gpt2(size_t i) const {
    if (size_t e = contraction(i, /*ci=*/false)) return e;
    const size_t j = is(i, ' ') ? i + 1 : i;
    if (letter(j)) {
      size_t k = j;
      while (letter(k)) ++k;
      return k;
    }
    if (number(j)) {
      size_t k = j;
      while (number(k)) ++k;
      return k;
    }
    if (other(j)) {
      size_t k = j;
      while (other(k)) ++k;
      return k;
    }
    if (space(i)) return whitespace_run(i);
    return i + 1;
  }

 private:
  const std::vector<Cp>& c_;
  size_t n_;
};

}  // namespace

void pretokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>* words) {
  std::vector<Cp> cps;
  cps.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const uint32_t cp = utf8_decode(text, pos, &len);
    cps.push_back(Cp{cp, pos, codepoint_flags(cp)});
    pos += len;
  }
  const Matcher m(cps);
  size_t i = 0;
  while (i < cps.size()) {
    size_t end = kind == PreTokenizer::kLlama3 ? m.match_llama3(i) : m.match_gpt2(i);
    if (end <= i) end = i + 1;
    const size_t begin_byte = cps[i].offset;
    const size_t end_byte = end < cps.size() ? cps[end].offset : text.size();
    words->push_back(text.substr(begin_byte, end_byte - begin_byte));
    i = end;
  }
}

}  // namespace maas
