// cpu_kv_cache.h — the CPU backend's KV cache in host memory: rows of n_embd_kv elements of the
// cache's KvType (F32; F16; Q8_0 = ggml's blocks of 32 int8 and an fp16 scale, so a head's
// head_dim elements are whole blocks), [layer][block][slot][row] for K and for V (kernels.h
// PagedKv reads this layout). Internal to the CPU backend.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/ggml_type.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"

namespace maas {

class CpuKvCache final : public KvCache {
 public:
  CpuKvCache(const LlamaConfig& config, const KvCacheOptions& o);

  size_t bytes() const override { return k_.size() + v_.size(); }
  GgmlType ggml_type() const { return kv_ggml_type(type()); }
  size_t row_bytes() const { return row_bytes_; }
  uint8_t* k(int32_t layer, int32_t block, int32_t slot) { return k_.data() + offset(layer, block, slot); }
  uint8_t* v(int32_t layer, int32_t block, int32_t slot) { return v_.data() + offset(layer, block, slot); }

 private:
  size_t offset(int32_t layer, int32_t block, int32_t slot) const {
    return ((static_cast<size_t>(layer) * n_blocks() + block) * block_size() + slot) * row_bytes_;
  }
  size_t row_bytes_;
  std::vector<uint8_t> k_, v_;
};

}  // namespace maas
