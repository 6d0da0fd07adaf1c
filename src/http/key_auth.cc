// key_auth.cc — presented keys and constant-time comparison.
#include "http/key_auth.h"

#include "http/wire.h"

namespace maas::http {

std::optional<std::string_view> presented_key(const Request& request) {
  if (const std::string* h = request.header("authorization");
      h != nullptr && h->size() > 7 && wire::iequals(std::string_view(*h).substr(0, 7), "bearer ")) {
    return std::string_view(*h).substr(7);
  }
  if (const std::string* k = request.header("api-key"); k != nullptr) return std::string_view(*k);
  return std::nullopt;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  // Loop over b's length only: with b the secret, the guess's length changes nothing.
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

bool key_in(std::string_view presented, const std::vector<std::string>& keys) {
  bool ok = false;
  for (const std::string& key : keys) ok |= constant_time_equal(presented, key);
  return ok;
}

}  // namespace maas::http
