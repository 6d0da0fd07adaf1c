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

size_t kv_type_size(KvType type) {
  switch (type) {
    case KvType::kF32: return 4;
    case KvType::kF16: return 2;
    case KvType::kQ8_0: return 34;  // per 32 elements; see kv_block_bytes
  }
  return 4;
}

size_t kv_block_bytes(const LlamaConfig& c, int32_t block_size, KvType type) {
  const size_t elems = static_cast<size_t>(c.n_layer) * static_cast<size_t>(block_size) * static_cast<size_t>(c.n_embd_kv());
  const size_t bytes = type == KvType::kQ8_0 ? elems / 32 * 34 : elems * kv_type_size(type);
  return 2 * bytes;  // K and V
}

}  // namespace maas
