// jinja_lexer.cc — preprocessing and tokenizing (see jinja_lexer.h). The rules mirror
// @huggingface/jinja 0.5.11's lexer so that whitespace handling matches byte for byte.
#include "chat/jinja_lexer.h"

#include <cstring>

#include "base/utf8.h"
#include "chat/jinja_value.h"

namespace maas::jinja {

namespace {

// The preprocessed text and, for each of its bytes, the offset it came from in the source.
struct Mapped {
  std::string text;
  std::vector<uint32_t> origin;
  void push(char c, uint32_t from) { text += c; origin.push_back(from); }
};

bool is_line_start(const Mapped& m, size_t i) {
  if (i == 0) return true;
  char p = m.text[i - 1];
  if (p == '\n' || p == '\r') return true;
  // U+2028 / U+2029 (E2 80 A8 / E2 80 A9) are JS line terminators too.
  return i >= 3 && m.text.compare(i - 3, 2, "\xE2\x80") == 0 &&
         (m.text[i - 1] == '\xA8' || m.text[i - 1] == '\xA9');
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

Mapped lstrip_blocks(const Mapped& in) {
  Mapped out;
  size_t i = 0, n = in.text.size();
  while (i < n) {
    if (is_line_start(in, i)) {
      size_t j = i;
      while (j < n && (in.text[j] == ' ' || in.text[j] == '\t')) ++j;
      if (j > i && j + 1 < n && in.text[j] == '{' && std::strchr("#%-", in.text[j + 1]) && in.text[j + 1] != 0) {
        i = j;  // drop the indentation before a block tag
      }
    }
    out.push(in.text[i], in.origin[i]);
    ++i;
  }
  return out;
}

Mapped trim_blocks(const Mapped& in) {
  Mapped out;
  size_t i = 0, n = in.text.size();
  while (i < n) {
    char c = in.text[i];
    if (i + 2 < n && (c == '#' || c == '%' || c == '-') && in.text[i + 1] == '}' && in.text[i + 2] == '\n') {
      out.push(c, in.origin[i]);
      out.push('}', in.origin[i + 1]);
      i += 3;
      continue;
    }
    out.push(c, in.origin[i]);
    ++i;
  }
  return out;
}

// Matches "{%-? \s* (end)?generation \s* -?%}" at i; returns its end or 0.
size_t match_generation_tag(const std::string& s, size_t i, bool* lstrip, bool* rstrip) {
  if (s.compare(i, 2, "{%") != 0) return 0;
  size_t j = i + 2;
  *lstrip = j < s.size() && s[j] == '-';
  if (*lstrip) ++j;
  while (j < s.size() && is_ascii_space(s[j])) ++j;
  if (s.compare(j, 3, "end") == 0) j += 3;
  if (s.compare(j, 10, "generation") != 0) return 0;
  j += 10;
  while (j < s.size() && is_ascii_space(s[j])) ++j;
  *rstrip = j < s.size() && s[j] == '-';
  if (*rstrip) ++j;
  if (s.compare(j, 2, "%}") != 0) return 0;
  return j + 2;
}

Mapped strip_generation_tags(const Mapped& in) {
  if (in.text.find("generation") == std::string::npos) return in;
  Mapped out;
  size_t i = 0, n = in.text.size();
  while (i < n) {
    size_t ws_end = i;
    while (ws_end < n && is_ascii_space(in.text[ws_end])) ++ws_end;
    bool lstrip = false, rstrip = false;
    size_t end = ws_end < n ? match_generation_tag(in.text, ws_end, &lstrip, &rstrip) : 0;
    if (end == 0) {
      for (size_t k = i; k < std::max(ws_end, i + 1) && k < n; ++k) out.push(in.text[k], in.origin[k]);
      i = std::max(ws_end, i + 1);
      continue;
    }
    if (!lstrip) {
      for (size_t k = i; k < ws_end; ++k) out.push(in.text[k], in.origin[k]);
    }
    size_t after = end;
    while (after < n && is_ascii_space(in.text[after])) ++after;
    if (!rstrip) {
      for (size_t k = end; k < after; ++k) out.push(in.text[k], in.origin[k]);
    }
    i = after;
  }
  return out;
}

Mapped preprocess(std::string_view source) {
  Mapped m;
  size_t n = source.size();
  if (n > 0 && source[n - 1] == '\n') --n;
  m.text.assign(source.substr(0, n));
  m.origin.resize(n);
  for (size_t i = 0; i < n; ++i) m.origin[i] = static_cast<uint32_t>(i);
  return strip_generation_tags(trim_blocks(lstrip_blocks(m)));
}

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

struct MappingEntry {
  const char* seq;
  TokenType type;
};
constexpr MappingEntry kMapping[] = {
    {"{%", TokenType::kOpenStatement}, {"%}", TokenType::kCloseStatement},
    {"{{", TokenType::kOpenExpression}, {"}}", TokenType::kCloseExpression},
    {"(", TokenType::kOpenParen}, {")", TokenType::kCloseParen}, {"{", TokenType::kOpenBrace},
    {"}", TokenType::kCloseBrace}, {"[", TokenType::kOpenBracket}, {"]", TokenType::kCloseBracket},
    {",", TokenType::kComma}, {".", TokenType::kDot}, {":", TokenType::kColon}, {"|", TokenType::kPipe},
    {"<=", TokenType::kComparison}, {">=", TokenType::kComparison}, {"==", TokenType::kComparison},
    {"!=", TokenType::kComparison}, {"<", TokenType::kComparison}, {">", TokenType::kComparison},
    {"+", TokenType::kAdditive}, {"-", TokenType::kAdditive}, {"~", TokenType::kAdditive},
    {"**", TokenType::kPower}, {"*", TokenType::kMultiplicative}, {"//", TokenType::kMultiplicative},
    {"/", TokenType::kMultiplicative}, {"%", TokenType::kMultiplicative}, {"=", TokenType::kEquals},
};

class Lexer {
 public:
  Lexer(std::string_view source, Mapped src) : source_(source), m_(std::move(src)), s_(m_.text) {}

  StatusOr<std::vector<Token>> run();

 private:
  uint32_t origin(size_t pos) const {
    if (pos < m_.origin.size()) return m_.origin[pos];
    return static_cast<uint32_t>(source_.size());
  }
  Status error(const std::string& what, size_t pos) const {
    return invalid_argument("chat template syntax error at " + describe_position(source_, origin(pos)) + ": " + what);
  }
  bool at(size_t pos, const char* seq) const { return s_.compare(pos, std::strlen(seq), seq) == 0; }
  void push(TokenType t, std::string v, size_t pos) { tokens_.push_back({t, std::move(v), origin(pos)}); }
  TokenType last_type() const { return tokens_.empty() ? TokenType::kText : tokens_.back().type; }
  void strip_trailing_whitespace();
  void skip_leading_whitespace();
  StatusOr<std::string> read_string(char quote);
  Status lex_comment();
  Status lex_sign(char c);
  std::string read_digits();

  std::string_view source_;
  Mapped m_;
  const std::string& s_;
  size_t pos_ = 0;
  int brace_depth_ = 0;
  std::vector<Token> tokens_;
};

void Lexer::strip_trailing_whitespace() {
  if (tokens_.empty() || tokens_.back().type != TokenType::kText) return;
  tokens_.back().value = trim_js(tokens_.back().value, false, true);
  if (tokens_.back().value.empty()) tokens_.pop_back();
}

void Lexer::skip_leading_whitespace() {
  while (pos_ < s_.size()) {
    size_t j = pos_;
    if (!is_js_space(next_code_point(s_, &j))) break;
    pos_ = j;
  }
}

StatusOr<std::string> Lexer::read_string(char quote) {
  size_t start = pos_;
  std::string out;
  while (pos_ < s_.size() && s_[pos_] != quote) {
    if (s_[pos_] == '\\') {
      if (++pos_ >= s_.size()) return error("unexpected end of input in string", start);
      char e = s_[pos_++];
      if (e == 'x' || e == 'u') {
        size_t len = e == 'x' ? 2 : 4;
        if (pos_ + len > s_.size()) return error("invalid hexadecimal escape", pos_);
        uint32_t cp = 0;
        for (size_t k = 0; k < len; ++k) {
          char h = s_[pos_ + k];
          if (!is_hex(h)) return error("invalid hexadecimal escape", pos_);
          cp = cp * 16 + static_cast<uint32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        utf8_append(out, (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp);
        pos_ += len;
        continue;
      }
      static const char kFrom[] = "ntrbfv'\"\\";
      static const char kTo[] = "\n\t\r\b\f\v'\"\\";
      const char* hit = e ? std::strchr(kFrom, e) : nullptr;
      if (!hit) return error(std::string("unexpected escaped character '") + e + "'", pos_ - 1);
      out += kTo[hit - kFrom];
      continue;
    }
    out += s_[pos_++];
  }
  if (pos_ >= s_.size()) return error("unterminated string literal", start);
  ++pos_;  // closing quote
  return out;
}

Status Lexer::lex_comment() {
  size_t start = pos_;
  pos_ += 2;
  bool strip_before = pos_ < s_.size() && s_[pos_] == '-';
  if (strip_before) ++pos_;
  std::string comment;
  while (!(pos_ + 1 < s_.size() && s_[pos_] == '#' && s_[pos_ + 1] == '}')) {
    if (pos_ + 2 >= s_.size()) return error("missing end of comment tag", start);
    comment += s_[pos_++];
  }
  bool strip_after = !comment.empty() && comment.back() == '-';
  if (strip_before) strip_trailing_whitespace();
  push(TokenType::kComment, "", start);
  pos_ += 2;
  if (strip_after) skip_leading_whitespace();
  return Status::Ok();
}

std::string Lexer::read_digits() {
  size_t start = pos_;
  while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
  return s_.substr(start, pos_ - start);
}

// A sign that is not a binary operator: "-5" becomes one number token, "-x" a unary operator.
Status Lexer::lex_sign(char c) {
  size_t start = pos_++;
  std::string num = read_digits();
  if (!num.empty() && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
    ++pos_;
    num += "." + read_digits();
  }
  push(num.empty() ? TokenType::kUnary : TokenType::kNumber, std::string(1, c) + num, start);
  return Status::Ok();
}

StatusOr<std::vector<Token>> Lexer::run() {
  while (pos_ < s_.size()) {
    TokenType last = last_type();
    if (tokens_.empty() || last == TokenType::kCloseStatement || last == TokenType::kCloseExpression ||
        last == TokenType::kComment) {
      size_t start = pos_;
      while (pos_ < s_.size() &&
             !(s_[pos_] == '{' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '%' || s_[pos_ + 1] == '{' || s_[pos_ + 1] == '#'))) {
        ++pos_;
      }
      if (pos_ > start) {
        push(TokenType::kText, s_.substr(start, pos_ - start), start);
        continue;
      }
    }
    if (at(pos_, "{#")) {
      RETURN_IF_ERROR(lex_comment());
      continue;
    }
    if (at(pos_, "{%-") || at(pos_, "{{-")) {
      strip_trailing_whitespace();
      bool stmt = s_[pos_ + 1] == '%';
      push(stmt ? TokenType::kOpenStatement : TokenType::kOpenExpression, stmt ? "{%" : "{{", pos_);
      if (!stmt) brace_depth_ = 0;
      pos_ += 3;
      continue;
    }
    while (pos_ < s_.size() && is_ascii_space(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return error("unexpected end of input", pos_);
    if (at(pos_, "-%}") || at(pos_, "-}}")) {
      bool stmt = s_[pos_ + 1] == '%';
      push(stmt ? TokenType::kCloseStatement : TokenType::kCloseExpression, stmt ? "%}" : "}}", pos_);
      pos_ += 3;
      skip_leading_whitespace();
      continue;
    }
    char c = s_[pos_];
    if (c == '-' || c == '+') {
      if (tokens_.empty() || last_type() == TokenType::kText) return error(std::string("unexpected character '") + c + "'", pos_);
      TokenType lt = last_type();
      if (lt != TokenType::kIdentifier && lt != TokenType::kNumber && lt != TokenType::kString &&
          lt != TokenType::kCloseParen && lt != TokenType::kCloseBracket) {
        RETURN_IF_ERROR(lex_sign(c));
        continue;
      }
    }
    bool matched = false;
    for (const auto& [seq, type] : kMapping) {
      if (type == TokenType::kCloseExpression && brace_depth_ > 0) continue;
      if (!at(pos_, seq)) continue;
      if (type == TokenType::kOpenExpression) brace_depth_ = 0;
      if (type == TokenType::kOpenBrace) ++brace_depth_;
      if (type == TokenType::kCloseBrace) --brace_depth_;
      push(type, seq, pos_);
      pos_ += std::strlen(seq);
      matched = true;
      break;
    }
    if (matched) continue;
    if (c == '\'' || c == '"') {
      size_t start = pos_++;
      ASSIGN_OR_RETURN(std::string str, read_string(c));
      push(TokenType::kString, std::move(str), start);
      continue;
    }
    if (is_digit(c)) {
      size_t start = pos_;
      std::string num = read_digits();
      if (last_type() != TokenType::kDot && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
        ++pos_;
        num += "." + read_digits();
      }
      push(TokenType::kNumber, std::move(num), start);
      continue;
    }
    if (is_word(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && is_word(s_[pos_])) ++pos_;
      push(TokenType::kIdentifier, s_.substr(start, pos_ - start), start);
      continue;
    }
    std::string shown = (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F)
                            ? std::string(1, c) : "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xF]) +
                                                      "0123456789abcdef"[c & 0xF];
    return error("unexpected character '" + shown + "'", pos_);
  }
  return std::move(tokens_);
}

}  // namespace

std::string describe_position(std::string_view source, uint32_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

StatusOr<std::vector<Token>> tokenize(std::string_view source) {
  Lexer lexer(source, preprocess(source));
  return lexer.run();
}

}  // namespace maas::jinja
