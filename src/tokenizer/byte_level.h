// byte_level.h — GPT-2's byte-level alphabet: every byte 0..255 is drawn as one printable code
// point so that byte-level BPE vocabularies are plain text. Bytes 33..126, 161..172 and 174..255
// stand for themselves; the other 68 bytes map, in order, to U+0100 onwards (space -> U+0120 'Ġ',
// newline -> U+010A 'Ċ').
// Thread safety: constant tables, built on first use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace maas {

// The UTF-8 text of the code point that stands for `byte`.
const std::string& byte_to_unicode(uint8_t byte);
// The byte a code point stands for, or -1 when it is not part of the alphabet.
int unicode_to_byte(uint32_t cp);
// Encodes raw bytes into byte-level text (appends to *out).
void byte_level_encode(std::string_view bytes, std::string* out);
// Decodes byte-level text back to bytes. Returns false (and leaves *out partially written) when
// `text` holds a code point outside the alphabet.
bool byte_level_decode(std::string_view text, std::string* out);

}  // namespace maas
