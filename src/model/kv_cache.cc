// kv_cache.cc — names of the KV cache element types.
#include "model/kv_cache.h"

namespace maas {

const char* kv_type_name(KvType type) {
  switch (type) {
    case KvType::kF32: return "f32";
    case KvType::kF16: return "f16";
    case KvType::kQ8_0: return "q8_0";
  }
  return "?";
}

}  // namespace maas
