// kv_cache.h — the paged key/value cache: a pool of fixed-size blocks of token slots.
//
// A sequence's positions 0, 1, 2, ... live in the blocks its block table lists, in order:
// position p is slot p % block_size of block table[p / block_size]. Which blocks a sequence
// owns is decided by the block manager (engine); the cache only stores the vectors, in the
// memory of the backend that allocated it (Backend::allocate_kv_cache) and in its element type.
// Only that backend reads or writes it (its ops take the KvCache back); callers see its shape.
// Thread safety: none; the forward pass writes disjoint slots from its worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "model/llama_config.h"

namespace maas {

// Element type of the cached vectors: F32; F16 (half the bytes); Q8_0 (ggml's blocks of 32 int8
// and one fp16 scale along each head's head_dim, a multiple of 32: 34 bytes per 32 elements).
// The worker's --kv-cache-dtype auto|f32|f16|q8_0 picks one (kv_type_for_backend resolves auto).
enum class KvType : uint8_t { kF32, kF16, kQ8_0 };
const char* kv_type_name(KvType type);
// "f32" | "f16" | "q8_0" -> the type; "auto" -> nullopt (kv_type_for_backend decides).
StatusOr<std::optional<KvType>> parse_kv_type(const std::string& name);
// The type `auto` means on a backend (Backend::name()): F16 on the CPU (as llama.cpp; measured
// in bench/RESULTS.md) and on CUDA (which stores F32 and F16).
KvType kv_type_for_backend(std::optional<KvType> chosen, const std::string& backend_name);
// The ggml type the elements are stored as, and the bytes of n of them (n % 32 == 0 for Q8_0).
GgmlType kv_ggml_type(KvType type);
size_t kv_row_bytes(KvType type, int64_t n);
// Bytes one token takes in a cache of this type: K and V of every layer.
size_t kv_bytes_per_token(KvType type, const LlamaConfig& config);
// Bytes of one block of block_size slots, K and V of every layer, in `type`: what sizing a cache
// from a memory budget divides by.
size_t kv_block_bytes(const LlamaConfig& config, int32_t block_size, KvType type);

struct KvCacheOptions {
  int32_t n_blocks = 0;
  int32_t block_size = 16;
  KvType type = KvType::kF32;
};

class KvCache {
 public:
  virtual ~KvCache() = default;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int32_t n_layer() const { return n_layer_; }
  int32_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }
  int32_t n_head_kv() const { return n_head_kv_; }
  int32_t head_dim() const { return head_dim_; }
  int32_t n_embd_kv() const { return n_head_kv_ * head_dim_; }
  KvType type() const { return type_; }
  // Bytes of K and V together.
  virtual size_t bytes() const = 0;

 protected:
  KvCache(const LlamaConfig& c, const KvCacheOptions& o)
      : n_layer_(c.n_layer), n_blocks_(o.n_blocks), block_size_(o.block_size), n_head_kv_(c.n_head_kv),
        head_dim_(c.head_dim), type_(o.type) {}

 private:
  int32_t n_layer_, n_blocks_, block_size_, n_head_kv_, head_dim_;
  KvType type_;
};

}  // namespace maas
