// kv_cache.cc — the KV cache element types: names, the worker's choice, sizes.
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

StatusOr<std::optional<KvType>> parse_kv_type(const std::string& name) {
  if (name == "auto") return std::optional<KvType>();
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
    if (name == kv_type_name(t)) return std::optional<KvType>(t);
  }
  return invalid_argument("unknown KV cache type '" + name + "' (expected auto, f32, f16 or q8_0)");
}

KvType kv_type_for_backend(std::optional<KvType> chosen, const std::string& backend_name) {
  if (chosen) return *chosen;
  (void)backend_name;  // every backend stores F16 (cpu_backend.cc, cuda_backend.cc)
  return KvType::kF16;
}

GgmlType kv_ggml_type(KvType type) {
  switch (type) {
    case KvType::kF32: return GgmlType::kF32;
    case KvType::kF16: return GgmlType::kF16;
    case KvType::kQ8_0: return GgmlType::kQ8_0;
  }
  return GgmlType::kF32;
}

size_t kv_row_bytes(KvType type, int64_t n) { return ggml_row_size(kv_ggml_type(type), n); }

size_t kv_bytes_per_token(KvType type, const LlamaConfig& config) {
  return 2 * static_cast<size_t>(config.n_layer) * kv_row_bytes(type, config.n_embd_kv());
}

size_t kv_block_bytes(const LlamaConfig& c, int32_t block_size, KvType type) {
  return static_cast<size_t>(block_size) * kv_bytes_per_token(type, c);
}

}  // namespace maas
