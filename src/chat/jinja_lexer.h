// jinja_lexer.h — turns chat-template source into tokens, with HF's whitespace behaviour.
//
// Before tokenizing, the source is preprocessed exactly as @huggingface/jinja (and transformers,
// which renders with trim_blocks=True, lstrip_blocks=True) does:
//   1. one trailing "\n" of the whole template is dropped;
//   2. lstrip_blocks: spaces/tabs at the start of a line are removed when a "{%", "{#" (or "{-")
//      follows them;
//   3. trim_blocks: a "\n" right after "%}", "#}" (or "-}") is removed;
//   4. "{% generation %}" / "{% endgeneration %}" markers are removed.
// Then "{%-", "{{-", "{#-" strip whitespace before the tag and "-%}", "-}}", "-#}" after it.
//
// Errors: InvalidArgument naming the problem and its line:column in the original source.
// Never crashes on any input (arbitrary bytes included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace maas::jinja {

enum class TokenType {
  kText, kComment, kNumber, kString, kIdentifier, kEquals, kOpenParen, kCloseParen,
  kOpenStatement, kCloseStatement, kOpenExpression, kCloseExpression, kOpenBracket,
  kCloseBracket, kOpenBrace, kCloseBrace, kComma, kDot, kColon, kPipe,
  kAdditive,        // + - ~
  kMultiplicative,  // * / // %
  kPower,           // **
  kComparison,      // < > <= >= == !=
  kUnary,           // a sign not followed by digits
};

struct Token {
  TokenType type;
  std::string value;  // decoded text (string literals unescaped)
  uint32_t offset;    // byte offset of the token in the original source
};

// "line L, column C" (1-based; columns count bytes) of a byte offset in `source`.
std::string describe_position(std::string_view source, uint32_t offset);

StatusOr<std::vector<Token>> tokenize(std::string_view source);

}  // namespace maas::jinja
