// cpu_kv_cache.h — the CPU backend's KV cache: F32 vectors in host memory,
// [layer][block][slot][n_embd_kv] for K and for V (kernels.h PagedKv reads this layout).
// Internal to the CPU backend.
#pragma once

#include <vector>

#include "model/kv_cache.h"
#include "model/llama_config.h"

namespace maas {

class CpuKvCache final : public KvCache {
 public:
  CpuKvCache(const LlamaConfig& config, const KvCacheOptions& o);

  size_t bytes() const override { return (k_.size() + v_.size()) * sizeof(float); }
  float* k(int32_t layer, int32_t block, int32_t slot) { return k_.data() + index(layer, block, slot); }
  float* v(int32_t layer, int32_t block, int32_t slot) { return v_.data() + index(layer, block, slot); }

 private:
  size_t index(int32_t layer, int32_t block, int32_t slot) const {
    return ((static_cast<size_t>(layer) * n_blocks() + block) * block_size() + slot) * n_embd_kv();
  }
  std::vector<float> k_, v_;
};

}  // namespace maas
