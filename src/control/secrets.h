// secrets.h — endpoint keys and API tokens: how they are made, stored and checked.
//
// Endpoint keys are never stored. Each is derived from the data directory's master secret
//   key = hex(HMAC-SHA256(master, "endpoint-key/v1\0" endpoint_id "\0" slot "\0" nonce))[0:48]
// where the nonce is 16 random bytes kept in the database beside the key's SHA-256 digest and
// a display prefix. So a database dump holds only digests, prefixes and nonces (TESTPLAN B9),
// `get-credentials` can still show the keys to an authorised caller, and regenerating a key
// (a new nonce and digest) makes the old value fail at once. The master secret lives in
// `<data-dir>/master.key` (32 random bytes, mode 0600), never in the database.
// API tokens ("maas_" + 48 hex) are random, shown once, and stored as their SHA-256 digest.
// Checking a presented key hashes it and compares digests in constant time.
// Thread safety: MasterSecret is immutable after load; functions are pure.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "control/resources.h"

namespace maas {

class MasterSecret {
 public:
  // Reads `path`, or creates it (0600) with fresh random bytes when absent. A file of the wrong
  // size or readable by others is refused.
  static StatusOr<MasterSecret> load_or_create(const std::string& path);
  static MasterSecret for_tests(std::string bytes) { return MasterSecret(std::move(bytes)); }

  std::string derive_endpoint_key(std::string_view endpoint_id, KeySlot slot, std::string_view nonce) const;

 private:
  explicit MasterSecret(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// A fresh key for an endpoint slot: new nonce, the derived key's digest and prefix.
EndpointKey new_endpoint_key(const MasterSecret& master, std::string_view endpoint_id, KeySlot slot);
std::string endpoint_key_value(const MasterSecret& master, std::string_view endpoint_id, KeySlot slot,
                               const EndpointKey& key);

inline constexpr size_t kKeyPrefixChars = 6;
std::string secret_digest(std::string_view secret);  // sha256 hex

struct NewToken {
  std::string token;   // shown once
  std::string digest;  // stored
  std::string prefix;
};
NewToken new_api_token();

}  // namespace maas
