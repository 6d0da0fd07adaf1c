// sessions.h — the studio's sign-in sessions: how a session secret, its cookie and its CSRF
// token are made and read. The management API (management_session.cc) signs in with a
// principal's token, keeps the session in the Store, and accepts the cookie beside bearer tokens.
//
//   secret  = "maas_s_" + 64 random hex          lives only in the browser's cookie
//   stored  = sha256_hex(secret)                 the Store keeps the digest (sessions table)
//   csrf    = hex(HMAC-SHA256(secret, "maas-csrf/v1"))[0:48]
//                                                 recomputed per call; never stored
//   cookie  = maas_session=<secret>; Path=/api; HttpOnly; SameSite=Strict; Max-Age=<lifetime>
//             (+ Secure when the request came over https: X-Forwarded-Proto: https)
//
// The page reads the CSRF token from GET /api/session (never from a cookie) and sends it as
// `X-CSRF-Token` on every POST/PATCH/DELETE; a page on another origin can neither read it nor
// send the SameSite=Strict cookie. A session ends at sign-out, after its lifetime, after its
// idle time, or when the token it was signed in with is revoked, expires or is deleted.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/http.h"

namespace maas {

inline constexpr const char* kSessionCookie = "maas_session";
inline constexpr const char* kCsrfHeader = "x-csrf-token";
inline constexpr int64_t kSessionLifetimeMs = 12LL * 3600 * 1000;  // absolute, from sign-in
inline constexpr int64_t kSessionIdleMs = 2LL * 3600 * 1000;       // since the last call

struct NewSession {
  std::string secret;  // the cookie's value
  std::string digest;  // what the Store keeps
};
NewSession new_session_secret();

// The CSRF token bound to a session secret (see the banner).
std::string csrf_token_for(std::string_view secret);
// True when the request's X-CSRF-Token matches the session's (constant time).
bool csrf_token_matches(const http::Request& request, std::string_view secret);

// The value of cookie `name` in the request's Cookie header(s); nullopt when absent.
std::optional<std::string> cookie_value(const http::Request& request, std::string_view name);

// Set-Cookie values: the session cookie, and one that removes it.
bool request_is_https(const http::Request& request);
std::string session_cookie(std::string_view secret, int64_t max_age_ms, bool secure);
std::string cleared_session_cookie(bool secure);

// GET, HEAD and OPTIONS change nothing; every other method needs the CSRF token.
bool is_safe_method(std::string_view method);

// A sign-in from a page of another origin is refused: true when the request carries an
// Origin header whose host differs from its Host header (no Origin: not a cross-site form).
bool cross_origin(const http::Request& request);

}  // namespace maas
