// secrets.cc — master secret file, key derivation, token generation.
#include "control/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file_util.h"
#include "control/crypto.h"

namespace maas {
namespace {
constexpr size_t kMasterBytes = 32;
}  // namespace

StatusOr<MasterSecret> MasterSecret::load_or_create(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return failed_precondition(path + " is readable by other users; chmod 600 it");
    }
    ASSIGN_OR_RETURN(std::string bytes, read_file(path, 4096));
    if (bytes.size() != kMasterBytes) return failed_precondition(path + " is not a maas master secret (wrong size)");
    return MasterSecret(std::move(bytes));
  }
  const std::string bytes = random_bytes(kMasterBytes);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  return MasterSecret(bytes);
}

std::string MasterSecret::derive_endpoint_key(std::string_view endpoint_id, KeySlot slot,
                                              std::string_view nonce) const {
  std::string message = "endpoint-key/v1";
  message += '\0';
  message += endpoint_id;
  message += '\0';
  message += key_slot_name(slot);
  message += '\0';
  message += nonce;
  return to_hex(hmac_sha256(bytes_, message)).substr(0, 48);
}

std::string secret_digest(std::string_view secret) { return sha256_hex(secret); }

EndpointKey new_endpoint_key(const MasterSecret& master, std::string_view endpoint_id, KeySlot slot) {
  EndpointKey k;
  k.nonce = random_hex(16);
  const std::string key = master.derive_endpoint_key(endpoint_id, slot, k.nonce);
  k.hash = secret_digest(key);
  k.prefix = key.substr(0, kKeyPrefixChars);
  return k;
}

std::string endpoint_key_value(const MasterSecret& master, std::string_view endpoint_id, KeySlot slot,
                               const EndpointKey& key) {
  return master.derive_endpoint_key(endpoint_id, slot, key.nonce);
}

NewToken new_api_token() {
  NewToken t;
  t.token = "maas_" + random_hex(24);
  t.digest = secret_digest(t.token);
  t.prefix = t.token.substr(0, 5 + kKeyPrefixChars);
  return t;
}

}  // namespace maas
