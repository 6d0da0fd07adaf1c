// file_util.cc — whole-file reads.
#include "base/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace maas {

StatusOr<std::string> read_file(const std::string& path, size_t max_bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return not_found("no such file: " + path);
    return invalid_argument("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    if (out.size() + n > max_bytes) {
      std::fclose(f);
      return resource_exhausted(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, n);
  }
  bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return internal_error("error reading " + path);
  return out;
}

}  // namespace maas
