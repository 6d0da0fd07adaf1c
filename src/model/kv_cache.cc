// kv_cache.cc — storage for the paged KV cache.
#include "model/kv_cache.h"

namespace maas {

KvCache::KvCache(const LlamaConfig& c, int32_t n_blocks, int32_t block_size)
    : n_blocks_(n_blocks), block_size_(block_size), n_embd_kv_(c.n_embd_kv()) {
  size_t n = static_cast<size_t>(c.n_layer) * n_blocks * block_size * n_embd_kv_;
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace maas
