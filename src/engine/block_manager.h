// block_manager.h — who owns which KV cache block: reference counts, a free list, and the
// prefix cache (vLLM v1's KVCacheManager / BlockPool, reduced to plain bookkeeping).
//
// A block is free (reference count 0) or held by one or more sequences (forks of one request
// and requests sharing a cached prefix hold the same block). Prefix caching: a FULL block can
// be registered under the hash chain of its contents, H(parent block's hash, its tokens), so a
// later prompt starting with the same tokens finds it. A registered block whose count drops to
// 0 stays cached: it joins an LRU list and is reused (and forgotten by the cache) only when no
// plain free block is left, least recently freed first. Entries keep their parent hash and
// tokens, so a 64-bit hash collision can never hand out the wrong K/V.
//
// The manager never touches the cache's tensors and never decides policy: allocate() says "no"
// (nullopt) and the scheduler preempts.
// Thread safety: none; the engine thread owns it.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace maas {

class BlockManager {
 public:
  BlockManager(int32_t n_blocks, int32_t block_size);

  int32_t n_blocks() const { return static_cast<int32_t>(ref_.size()); }
  int32_t block_size() const { return block_size_; }
  // Blocks allocate() can hand out now (plain free + cached with count 0).
  int32_t n_free() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  // Blocks held by at least one sequence.
  int32_t n_used() const { return n_blocks() - n_free(); }
  // Free blocks still holding a cached prefix (evictable).
  int32_t n_cached_free() const { return static_cast<int32_t>(lru_.size()); }
  int32_t ref_count(int32_t block) const { return ref_[static_cast<size_t>(block)]; }

  // A block with count 1, or nullopt when none is free. Evicts the least recently freed cached
  // block when no plain free block is left.
  std::optional<int32_t> allocate();
  // Adds a holder (a fork shares the block).
  void retain(int32_t block);
  // Drops a holder; at 0 the block becomes free (cached blocks go to the LRU list's tail).
  void free(int32_t block);

  // The hash of a full block given its parent's hash (0 for the first block) and its tokens.
  static uint64_t hash_block(uint64_t parent, std::span<const int32_t> tokens);
  // Looks up a cached full block with exactly this parent and these tokens; on a hit the block
  // gains a holder (leaving the LRU list if it was free). peek() only tests.
  std::optional<int32_t> acquire_cached(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens);
  bool peek_cached(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const;
  // Registers a full, held block under `hash`. No-op when the block is registered already or
  // another block holds this hash (the duplicate simply stays uncached).
  void register_full(int32_t block, uint64_t hash, uint64_t parent, std::span<const int32_t> tokens);
  // Forgets every cached entry (blocks in use stay in use).
  void clear_cache();

 private:
  struct Entry {
    uint64_t hash = 0, parent = 0;
    std::vector<int32_t> tokens;
    bool cached = false;
    std::list<int32_t>::iterator lru_it;
    bool in_lru = false;
  };
  std::optional<int32_t> find(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const;
  void forget(int32_t block);

  int32_t block_size_;
  std::vector<int32_t> ref_;                 // [n_blocks] holders
  std::vector<Entry> entry_;                 // [n_blocks] prefix-cache registration
  std::vector<int32_t> free_;                // plain free blocks (a stack)
  std::list<int32_t> lru_;                   // cached free blocks, least recently freed first
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

}  // namespace maas
