// names.cc — resource name rules.
#include "control/names.h"

#include <string>

namespace maas {
namespace {
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

Status validate_resource_name(std::string_view name, std::string_view what) {
  const std::string w(what);
  if (name.size() < 3 || name.size() > 32) {
    return invalid_argument(w + " must be 3 to 32 characters long (got " + std::to_string(name.size()) + ")");
  }
  if (!is_alpha(name[0])) return invalid_argument(w + " must start with a letter");
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '-') {
      return invalid_argument(w + " may contain only letters, digits and '-'");
    }
  }
  return Status::Ok();
}

Status validate_region(std::string_view region) {
  if (region.empty() || region.size() > 32) return invalid_argument("region must be 1 to 32 characters long");
  for (char c : region) {
    if (!(c >= 'a' && c <= 'z') && !is_digit(c) && c != '-') {
      return invalid_argument("region may contain only lowercase letters, digits and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace maas
