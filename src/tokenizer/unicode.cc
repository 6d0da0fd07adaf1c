// unicode.cc — UTF-8 decoding/encoding/repair and code point class lookups.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <memory>

namespace maas {
namespace {

using unicode_internal::CodepointRange;

bool in_ranges(const CodepointRange* r, size_t n, uint32_t cp) {
  const CodepointRange* end = r + n;
  const CodepointRange* it =
      std::upper_bound(r, end, cp, [](uint32_t v, const CodepointRange& x) { return v < x.first; });
  return it != r && (it - 1)->last >= cp;
}

uint8_t flags_by_search(uint32_t cp) {
  using namespace unicode_internal;
  uint8_t f = 0;
  if (in_ranges(kLetterRanges, kLetterCount, cp)) f |= kCpLetter;
  if (in_ranges(kNumberRanges, kNumberCount, cp)) f |= kCpNumber;
  if (in_ranges(kWhitespaceRanges, kWhitespaceCount, cp)) f |= kCpWhitespace;
  return f;
}

// The Basic Multilingual Plane as a flat table (64 KiB): nearly all text lives there.
const std::array<uint8_t, 0x10000>& bmp_table() {
  static const std::unique_ptr<std::array<uint8_t, 0x10000>> table = [] {
    auto t = std::make_unique<std::array<uint8_t, 0x10000>>();
    for (uint32_t cp = 0; cp < 0x10000; ++cp) (*t)[cp] = flags_by_search(cp);
    return t;
  }();
  return *table;
}

}  // namespace

uint8_t codepoint_flags(uint32_t cp) {
  if (cp < 0x10000) return bmp_table()[cp];
  if (cp > 0x10FFFF) return 0;
  return flags_by_search(cp);
}

}  // namespace maas
