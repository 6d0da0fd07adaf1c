// names.h — the naming rules of user-created resources (SPEC §1): 3–32 characters, a letter
// first, then letters, digits and '-'. A serverless endpoint's name becomes part of its URL
// and host name, so the same rule keeps every name safe in a path segment and a DNS label.
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "base/status.h"

namespace maas {

// Ok, or kInvalidArgument with a message naming `what` ("serverless endpoint name") and the
// broken rule. The offending name is not echoed (it may hold control characters).
Status validate_resource_name(std::string_view name, std::string_view what);

// Region names: 1–32 lowercase letters, digits and '-'.
Status validate_region(std::string_view region);

}  // namespace maas
