// utf8.h — UTF-8 decoding and encoding, validation, and the repair that turns arbitrary bytes
// into valid text (U+FFFD for each maximal invalid subpart, as WHATWG and Python's "replace"
// do). Shared by the tokenizers, the inference API and the platform's error rendering.
// Thread safety: pure functions.
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

// Repairs UTF-8 from `in`, appending valid text to *out. Returns how many bytes were consumed:
// when `final` is false a trailing sequence that could still complete is left unconsumed (the
// caller keeps it for later); when true everything is consumed and an incomplete tail becomes
// one U+FFFD.
size_t utf8_repair(std::string_view in, bool final, std::string* out);
// True when `in` is entirely valid UTF-8.
bool utf8_valid(std::string_view in);
// Convenience: the whole string repaired.
std::string utf8_repaired(std::string_view in);

}  // namespace maas
