// crypto.h — the few cryptographic primitives the platform needs, over OpenSSL's libcrypto:
// SHA-256 (streaming and one-shot), HMAC-SHA-256, random bytes from the OS, and hex encoding
// (constant-time comparison: http/key_auth.h).
//
// Used for: endpoint keys and API tokens (stored as SHA-256 digests, never raw), key derivation
// from the data directory's master secret (HMAC), and verifying downloaded model files.
// Thread safety: free functions are thread-safe; one Sha256 object per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace maas {

// Incremental SHA-256: update()* then hex() / digest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string digest();  // 32 raw bytes; finishes the hash
  std::string hex();     // 64 lowercase hex characters; finishes the hash

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view data);
// SHA-256 of a whole file, streamed; NotFound / Internal on I/O errors.
StatusOr<std::string> sha256_file_hex(const std::string& path);
std::string hmac_sha256(std::string_view key, std::string_view message);  // 32 raw bytes

// n bytes from the OS's CSPRNG (getrandom); CHECKs on failure (never falls back to weak randomness).
std::string random_bytes(size_t n);
std::string random_hex(size_t n_bytes);  // 2 * n_bytes hex characters

std::string to_hex(std::string_view bytes);
bool is_hex(std::string_view s);

}  // namespace maas
