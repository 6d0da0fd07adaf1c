// byte_level.cc — GPT-2's bytes_to_unicode() table and its inverse.
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace maas {
namespace {

struct Tables {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, 512> to_byte;  // every mapped code point is below U+0200
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    t.to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : next++;
      utf8_append(t.to_unicode[b], cp);
      t.to_byte[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return t;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return tables().to_unicode[byte]; }

int unicode_to_byte(uint32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

void byte_level_encode(std::string_view bytes, std::string* out) {
  const Tables& t = tables();
  for (char c : bytes) *out += t.to_unicode[static_cast<uint8_t>(c)];
}

bool byte_level_decode(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = 0;
    const uint32_t cp = utf8_decode(text, pos, &len);
    const int b = unicode_to_byte(cp);
    if (b < 0) return false;
    *out += static_cast<char>(b);
    pos += len;
  }
  return true;
}

}  // namespace maas
