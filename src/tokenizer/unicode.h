// unicode.h — the few Unicode facts the tokenizers need: the code point classes of the
// pre-tokenizer regexes (\p{L}, \p{N}, \s); UTF-8 decoding, encoding and repair come from
// base/utf8.h.
//
// The class tables are generated from Node's regex engine (gen_unicode_tables.mjs) so they match
// the JavaScript reference tokenizer exactly; \s is JavaScript's (includes U+FEFF, not U+0085).
// Thread safety: pure functions over constant tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"

namespace maas {

// Class membership, as /\p{L}/u, /\p{N}/u and /\s/u decide it.
enum CodepointFlag : uint8_t { kCpLetter = 1, kCpNumber = 2, kCpWhitespace = 4 };
uint8_t codepoint_flags(uint32_t cp);
inline bool is_letter(uint32_t cp) { return codepoint_flags(cp) & kCpLetter; }
inline bool is_number(uint32_t cp) { return codepoint_flags(cp) & kCpNumber; }
inline bool is_whitespace(uint32_t cp) { return codepoint_flags(cp) & kCpWhitespace; }

namespace unicode_internal {
struct CodepointRange {
  uint32_t first, last;  // inclusive
};
extern const CodepointRange kLetterRanges[];
extern const size_t kLetterCount;
extern const CodepointRange kNumberRanges[];
extern const size_t kNumberCount;
extern const CodepointRange kWhitespaceRanges[];
extern const size_t kWhitespaceCount;
}  // namespace unicode_internal

}  // namespace maas
