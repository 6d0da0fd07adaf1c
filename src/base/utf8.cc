// utf8.cc — UTF-8 decoding, encoding, validation and repair.
#include "base/utf8.h"

namespace maas {
namespace {

// Valid range of the second byte of a sequence, by lead byte (Unicode Table 3-7).
void second_byte_range(uint8_t lead, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (lead == 0xE0) *lo = 0xA0;
  if (lead == 0xED) *hi = 0x9F;
  if (lead == 0xF0) *lo = 0x90;
  if (lead == 0xF4) *hi = 0x8F;
}

// How many bytes starting at s[pos] form a valid prefix of a sequence (n_valid), and whether
// the sequence is complete. n_valid >= 1 only when the lead byte is valid.
struct SeqCheck {
  int n_needed = 0;  // announced length (0: invalid lead)
  int n_valid = 0;   // bytes that form a valid prefix
};

SeqCheck check_sequence(std::string_view s, size_t pos) {
  SeqCheck c;
  const uint8_t lead = static_cast<uint8_t>(s[pos]);
  c.n_needed = utf8_sequence_length(lead);
  if (c.n_needed == 0) return c;
  c.n_valid = 1;
  for (int k = 1; k < c.n_needed && pos + k < s.size(); ++k) {
    uint8_t lo = 0x80, hi = 0xBF;
    if (k == 1) second_byte_range(lead, &lo, &hi);
    const uint8_t b = static_cast<uint8_t>(s[pos + k]);
    if (b < lo || b > hi) break;
    c.n_valid = k + 1;
  }
  return c;
}

}  // namespace

int utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte or overlong lead C0/C1
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

uint32_t utf8_decode(std::string_view s, size_t pos, size_t* len) {
  const uint8_t lead = static_cast<uint8_t>(s[pos]);
  *len = 1;
  if (lead < 0x80) return lead;
  const SeqCheck c = check_sequence(s, pos);
  if (c.n_needed == 0 || c.n_valid < c.n_needed) return kReplacementChar;
  uint32_t cp = lead & (0xFF >> (c.n_needed + 1));
  for (int k = 1; k < c.n_needed; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[pos + k]) & 0x3F);
  *len = static_cast<size_t>(c.n_needed);
  return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t utf8_repair(std::string_view in, bool final, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t b = static_cast<uint8_t>(in[i]);
    if (b < 0x80) {
      *out += static_cast<char>(b);
      ++i;
      continue;
    }
    const SeqCheck c = check_sequence(in, i);
    if (c.n_needed > 0 && c.n_valid == c.n_needed) {
      out->append(in.substr(i, c.n_needed));
      i += c.n_needed;
      continue;
    }
    const bool truncated = c.n_needed > 0 && i + c.n_valid == in.size();
    if (truncated && !final) break;  // may still complete: hold it back
    utf8_append(*out, kReplacementChar);
    i += c.n_valid > 0 ? c.n_valid : 1;
  }
  return i;
}

bool utf8_valid(std::string_view in) {
  for (size_t i = 0; i < in.size();) {
    if (static_cast<uint8_t>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    const SeqCheck c = check_sequence(in, i);
    if (c.n_needed == 0 || c.n_valid < c.n_needed) return false;
    i += c.n_needed;
  }
  return true;
}

std::string utf8_repaired(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  (void)utf8_repair(in, /*final=*/true, &out);
  return out;
}

}  // namespace maas
