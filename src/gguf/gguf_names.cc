// gguf_names.cc — formatting of per-block tensor names.
#include "gguf/gguf_names.h"

#include <cstdio>

namespace maas::gguf_tensor {

std::string block_tensor(const char* pattern, int block) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), pattern, block);
  return buf;
}

}  // namespace maas::gguf_tensor
