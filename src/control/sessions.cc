// sessions.cc — session secrets, CSRF tokens and cookies of the studio (sessions.h).
#include "control/sessions.h"

#include <cctype>

#include "control/crypto.h"
#include "control/secrets.h"
#include "http/key_auth.h"

namespace maas {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string cookie_attributes(int64_t max_age_s, bool secure) {
  std::string s = "; Path=/api; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (secure) s += "; Secure";
  return s;
}

}  // namespace

NewSession new_session_secret() {
  NewSession s;
  s.secret = "maas_s_" + random_hex(32);
  s.digest = secret_digest(s.secret);
  return s;
}

std::string csrf_token_for(std::string_view secret) {
  return to_hex(hmac_sha256(secret, "maas-csrf/v1")).substr(0, 48);
}

bool csrf_token_matches(const http::Request& request, std::string_view secret) {
  const std::string* presented = request.header(kCsrfHeader);
  if (presented == nullptr) return false;
  return http::constant_time_equal(*presented, csrf_token_for(secret));
}

std::optional<std::string> cookie_value(const http::Request& request, std::string_view name) {
  for (const http::Header& h : request.headers) {
    if (!iequals(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
        std::string_view v = trim(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return std::string(v);
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

bool request_is_https(const http::Request& request) {
  const std::string* proto = request.header("x-forwarded-proto");
  return proto != nullptr && iequals(trim(*proto), "https");
}

std::string session_cookie(std::string_view secret, int64_t max_age_ms, bool secure) {
  return std::string(kSessionCookie) + "=" + std::string(secret) + cookie_attributes(max_age_ms / 1000, secure);
}

std::string cleared_session_cookie(bool secure) {
  return std::string(kSessionCookie) + "=" + cookie_attributes(0, secure);
}

bool is_safe_method(std::string_view method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

bool cross_origin(const http::Request& request) {
  const std::string* origin = request.header("origin");
  if (origin == nullptr) return false;
  const std::string* host = request.header("host");
  std::string_view o = trim(*origin);
  const size_t scheme = o.find("://");
  if (host == nullptr || scheme == std::string_view::npos) return true;  // "null" or malformed
  o.remove_prefix(scheme + 3);
  return !iequals(o, trim(*host));
}

}  // namespace maas
