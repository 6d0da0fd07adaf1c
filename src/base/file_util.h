// file_util.h — reading a whole (small) file into memory, with a size cap.
#pragma once

#include <string>

#include "base/status.h"

namespace maas {

// NotFound when missing; ResourceExhausted when larger than max_bytes.
StatusOr<std::string> read_file(const std::string& path, size_t max_bytes = size_t{1} << 30);

}  // namespace maas
