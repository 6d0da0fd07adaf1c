// block_manager.cc — reference-counted KV blocks and the prefix cache (see block_manager.h).
#include "engine/block_manager.h"

#include <algorithm>

#include "base/check.h"

namespace maas {
namespace {
uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

BlockManager::BlockManager(int32_t n_blocks, int32_t block_size)
    : block_size_(block_size), ref_(static_cast<size_t>(n_blocks), 0), entry_(static_cast<size_t>(n_blocks)) {
  CHECK(n_blocks > 0 && block_size > 0);
  free_.reserve(static_cast<size_t>(n_blocks));
  // A stack: block 0 is handed out first.
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockManager::allocate() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    block = lru_.front();
    forget(block);  // also removes it from the LRU list
  } else {
    return std::nullopt;
  }
  CHECK(ref_[static_cast<size_t>(block)] == 0);
  ref_[static_cast<size_t>(block)] = 1;
  return block;
}

void BlockManager::retain(int32_t block) {
  CHECK(ref_[static_cast<size_t>(block)] > 0);
  ++ref_[static_cast<size_t>(block)];
}

void BlockManager::free(int32_t block) {
  int32_t& r = ref_[static_cast<size_t>(block)];
  CHECK(r > 0);
  if (--r > 0) return;
  Entry& e = entry_[static_cast<size_t>(block)];
  if (e.cached) {
    e.lru_it = lru_.insert(lru_.end(), block);
    e.in_lru = true;
  } else {
    free_.push_back(block);
  }
}

uint64_t BlockManager::hash_block(uint64_t parent, std::span<const int32_t> tokens) {
  uint64_t h = mix(parent ^ 0x6d616173ULL);
  for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t));
  return h;
}

std::optional<int32_t> BlockManager::find(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  const Entry& e = entry_[static_cast<size_t>(it->second)];
  if (e.parent != parent || !std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin(), tokens.end())) {
    return std::nullopt;
  }
  return it->second;
}

bool BlockManager::peek_cached(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const {
  return find(hash, parent, tokens).has_value();
}

std::optional<int32_t> BlockManager::acquire_cached(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) {
  std::optional<int32_t> block = find(hash, parent, tokens);
  if (!block) return std::nullopt;
  Entry& e = entry_[static_cast<size_t>(*block)];
  if (e.in_lru) {
    lru_.erase(e.lru_it);
    e.in_lru = false;
  }
  ++ref_[static_cast<size_t>(*block)];
  return block;
}

void BlockManager::register_full(int32_t block, uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) {
  CHECK(ref_[static_cast<size_t>(block)] > 0);
  CHECK(static_cast<int32_t>(tokens.size()) == block_size_);
  Entry& e = entry_[static_cast<size_t>(block)];
  if (e.cached || by_hash_.count(hash)) return;
  e.cached = true;
  e.hash = hash;
  e.parent = parent;
  e.tokens.assign(tokens.begin(), tokens.end());
  by_hash_[hash] = block;
}

void BlockManager::forget(int32_t block) {
  Entry& e = entry_[static_cast<size_t>(block)];
  if (!e.cached) return;
  by_hash_.erase(e.hash);
  if (e.in_lru) lru_.erase(e.lru_it);
  e = Entry{};
}

void BlockManager::clear_cache() {
  std::vector<int32_t> evictable(lru_.begin(), lru_.end());
  for (int32_t b = 0; b < n_blocks(); ++b) forget(b);
  for (int32_t b : evictable) free_.push_back(b);
}

}  // namespace maas
