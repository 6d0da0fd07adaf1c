// kv_cache.h — the paged key/value cache: a pool of fixed-size blocks of token slots.
//
// A sequence's positions 0, 1, 2, ... live in the blocks its block table lists, in order:
// position p is slot p % block_size of block table[p / block_size]. Which blocks a sequence
// owns is decided by the block manager (engine); this class only stores the vectors.
// Layout: [layer][block][slot][n_embd_kv] floats for K and for V.
// Thread safety: none; the forward pass writes disjoint slots from its worker threads.
#pragma once

#include <cstdint>
#include <vector>

#include "model/llama_config.h"

namespace maas {

class KvCache {
 public:
  KvCache(const LlamaConfig& config, int32_t n_blocks, int32_t block_size);

  int32_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }
  int32_t n_embd_kv() const { return n_embd_kv_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  float* k(int32_t layer, int32_t block, int32_t slot) { return k_.data() + index(layer, block, slot); }
  float* v(int32_t layer, int32_t block, int32_t slot) { return v_.data() + index(layer, block, slot); }

 private:
  size_t index(int32_t layer, int32_t block, int32_t slot) const {
    return ((static_cast<size_t>(layer) * n_blocks_ + block) * block_size_ + slot) * n_embd_kv_;
  }
  int32_t n_blocks_, block_size_, n_embd_kv_;
  std::vector<float> k_, v_;
};

}  // namespace maas
