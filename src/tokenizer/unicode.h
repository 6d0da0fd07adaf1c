// unicode.h — the few Unicode facts the tokenizers need: UTF-8 decoding and encoding, the
// code point classes of the pre-tokenizer regexes (\p{L}, \p{N}, \s), and the UTF-8 repair that
// turns arbitrary bytes into valid text (U+FFFD for each maximal invalid subpart, as WHATWG and
// Python's "replace" do).
//
// The class tables are generated from Node's regex engine (gen_unicode_tables.mjs) so they match
// the JavaScript reference tokenizer exactly; \s is JavaScript's (includes U+FEFF, not U+0085).
// Thread safety: pure functions over constant tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace maas {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Decodes the code point at s[pos]. Sets *len to the bytes consumed (>= 1). Invalid or truncated
// sequences, overlongs, surrogates and values past U+10FFFF decode as U+FFFD with *len = 1.
uint32_t utf8_decode(std::string_view s, size_t pos, size_t* len);
// Appends the UTF-8 encoding of cp (must be <= 0x10FFFF).
void utf8_append(std::string& out, uint32_t cp);
// Length of the UTF-8 sequence a lead byte announces: 1..4, or 0 for a byte that cannot lead.
int utf8_sequence_length(uint8_t lead);

// Class membership, as /\p{L}/u, /\p{N}/u and /\s/u decide it.
enum CodepointFlag : uint8_t { kCpLetter = 1, kCpNumber = 2, kCpWhitespace = 4 };
uint8_t codepoint_flags(uint32_t cp);
inline bool is_letter(uint32_t cp) { return codepoint_flags(cp) & kCpLetter; }
inline bool is_number(uint32_t cp) { return codepoint_flags(cp) & kCpNumber; }
inline bool is_whitespace(uint32_t cp) { return codepoint_flags(cp) & kCpWhitespace; }

// Repairs UTF-8 from `in`, appending valid text to *out. Returns how many bytes were consumed:
// when `final` is false a trailing sequence that could still complete is left unconsumed (the
// caller keeps it for later); when true everything is consumed and an incomplete tail becomes
// one U+FFFD.
size_t utf8_repair(std::string_view in, bool final, std::string* out);
// True when `in` is entirely valid UTF-8.
bool utf8_valid(std::string_view in);
// Convenience: the whole string repaired.
std::string utf8_repaired(std::string_view in);

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
