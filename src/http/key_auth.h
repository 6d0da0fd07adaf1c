// key_auth.h — API keys on requests: which key a request presents, and comparing keys without
// leaking where they differ. Shared by the worker (its configured keys) and the platform's
// gateway (endpoint keys, stored as digests).
//
// A request presents a key as `Authorization: Bearer <key>` (the scheme matched
// case-insensitively, so `bearer` works) or as `api-key: <key>` (Azure). Any other
// Authorization scheme (Basic, ...) presents nothing unless an api-key header is also sent.
// Keys in query strings are never read (TESTPLAN B10).
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace maas::http {

std::optional<std::string_view> presented_key(const Request& request);

// Time depends only on the lengths, never on where the contents differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// True when `presented` equals one of `keys`. Every key is compared (no early exit), each in
// time that depends only on that key's length.
bool key_in(std::string_view presented, const std::vector<std::string>& keys);

}  // namespace maas::http
