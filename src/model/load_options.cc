// load_options.cc — checking LoadOptions before a load.
#include "model/load_options.h"

#include <cctype>

namespace maas {

Status LoadOptions::validate() const {
  if (weights_cache_dir.empty() && weights_sha256.empty()) return Status::Ok();
  if (weights_cache_dir.empty() || weights_sha256.empty()) {
    return invalid_argument("a weights cache needs both its directory and the model file's SHA-256");
  }
  bool hex = weights_sha256.size() == 64;
  for (char c : weights_sha256) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex) {
    return invalid_argument("the model file's SHA-256 must be 64 hex digits, got '" + weights_sha256.substr(0, 80) + "'");
  }
  if (weights_cache_wait_ms < 0) return invalid_argument("the weights cache wait must not be negative");
  return Status::Ok();
}

}  // namespace maas
