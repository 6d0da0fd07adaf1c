// utf8_text.h — text that goes back to clients: always valid UTF-8, cut only between
// characters (TESTPLAN E7, L1, L4).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace maas::api {

// `in` with every invalid or truncated UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view in);

// sanitize_utf8(in), then cut to at most max_bytes on a character boundary; "..." is appended
// (within max_bytes) when something was cut. max_bytes >= 3.
std::string truncate_utf8(std::string_view in, size_t max_bytes);

// Number of code points in `s` (bytes that are not UTF-8 continuation bytes); exact for valid UTF-8.
size_t utf8_length(std::string_view s);

}  // namespace maas::api
