// utf8_text.cc — UTF-8 repair and boundary-safe truncation for client-facing text.
#include "api/utf8_text.h"

#include "base/utf8.h"

namespace maas::api {

std::string sanitize_utf8(std::string_view in) {
  if (utf8_valid(in)) return std::string(in);
  return utf8_repaired(in);
}

std::string truncate_utf8(std::string_view in, size_t max_bytes) {
  std::string s = sanitize_utf8(in);
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes >= 3 ? max_bytes - 3 : 0;
  // Back up to a lead byte (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
  return s;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace maas::api
