// load_options.cc — checking LoadOptions before a load.
#include "model/load_options.h"

#include <cctype>

namespace maas {

StatusOr<DeviceName> parse_device(const std::string& device) {
  if (device == "cpu") return DeviceName{DeviceName::kCpu, 0};
  if (device == "cuda") return DeviceName{DeviceName::kCuda, 0};
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 8) {
    int index = 0;
    for (size_t i = 5; i < device.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(device[i]))) index = -1;
      if (index >= 0) index = index * 10 + (device[i] - '0');
    }
    if (index >= 0) return DeviceName{DeviceName::kCuda, index};
  }
  return invalid_argument("unknown device '" + device.substr(0, 40) + "': expected cpu, cuda or cuda:N");
}

StatusOr<bool> parse_on_off(const std::string& value) {
  if (value == "on") return true;
  if (value == "off") return false;
  return invalid_argument("expected on or off, got '" + value.substr(0, 40) + "'");
}

Status LoadOptions::validate() const {
  RETURN_IF_ERROR(parse_device(device).status());
  if (!(gpu_memory_fraction > 0.0 && gpu_memory_fraction <= 1.0)) {
    return invalid_argument("the GPU memory fraction must be in (0, 1], got " + std::to_string(gpu_memory_fraction));
  }
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
