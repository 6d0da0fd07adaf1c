// json_body.h — request body bytes -> a JSON object, refusing everything hostile before and
// while nlohmann parses it.
//
// Policy (TESTPLAN A1–A3, A8, A10, C2, D8):
//   - The body must be valid UTF-8 (no overlongs, no encoded surrogates): else 400
//     invalid_json "request body is not valid UTF-8" (A3). A leading UTF-8 BOM is allowed.
//   - Nesting of arrays/objects deeper than kMaxJsonDepth is refused by a linear pre-scan
//     before any tree is built: 400 invalid_json "nesting too deep" (A8; no recursion at all).
//   - Syntax errors, NaN / Infinity literals, lone surrogate escapes ("\ud800") are invalid
//     JSON: 400 invalid_json "...syntax error at byte N" (A1, C2, D8). The parser's own text is
//     not echoed (it quotes user bytes).
//   - Duplicate keys in any object (compared after unescaping) are rejected: 400 invalid_json
//     "duplicate key 'k'" (A10: never silently picks one of the values).
//   - The top-level value must be an object: else 400 "request body must be a JSON object" (A2).
// Thread safety: pure function.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace maas::api {

inline constexpr int kMaxJsonDepth = 64;

// On success *out holds the object and the returned error is ok().
ApiError parse_json_body(std::string_view body, nlohmann::json* out);

// The nesting depth of `text` counted over '[' and '{' outside strings, stopping early once it
// exceeds `limit` (returns limit + 1 then). Exposed for tests.
int json_nesting_depth(std::string_view text, int limit);

}  // namespace maas::api
