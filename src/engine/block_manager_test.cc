// block_manager_test.cc — reference counts, the prefix cache and LRU eviction.
#include "engine/block_manager.h"

#include <gtest/gtest.h>

namespace maas {
namespace {

TEST(BlockManager, AllocateRetainFree) {
  BlockManager m(3, 4);
  auto a = m.allocate(), b = m.allocate(), c = m.allocate();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(m.allocate().has_value());  // "cannot allocate": the scheduler preempts
  EXPECT_EQ(m.n_used(), 3);
  m.retain(*a);
  m.free(*a);
  EXPECT_EQ(m.n_free(), 0);
  m.free(*a);
  EXPECT_EQ(m.n_free(), 1);
  EXPECT_EQ(m.allocate(), a);
}

TEST(BlockManager, PrefixCacheHitAndLruEviction) {
  BlockManager m(2, 2);
  const std::vector<int32_t> t1 = {1, 2}, t2 = {3, 4};
  uint64_t h1 = BlockManager::hash_block(0, t1), h2 = BlockManager::hash_block(h1, t2);
  EXPECT_NE(h1, BlockManager::hash_block(0, t2));
  int32_t b1 = *m.allocate(), b2 = *m.allocate();
  m.register_full(b1, h1, 0, t1);
  m.register_full(b2, h2, h1, t2);
  m.free(b2);  // tail first
  m.free(b1);
  EXPECT_EQ(m.n_free(), 2);
  EXPECT_EQ(m.n_cached_free(), 2);
  // Wrong parent or tokens never hit, even with the same hash value.
  EXPECT_FALSE(m.peek_cached(h2, 0, t2));
  EXPECT_FALSE(m.peek_cached(h1, 0, t2));
  auto hit = m.acquire_cached(h1, 0, t1);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, b1);
  EXPECT_EQ(m.ref_count(b1), 1);
  EXPECT_EQ(m.n_free(), 1);
  // The only free block is b2 (cached): allocating evicts it.
  EXPECT_EQ(m.allocate(), b2);
  EXPECT_FALSE(m.peek_cached(h2, h1, t2));
  m.free(b1);
  m.free(b2);
  EXPECT_TRUE(m.peek_cached(h1, 0, t1));
  m.clear_cache();
  EXPECT_FALSE(m.peek_cached(h1, 0, t1));
  EXPECT_EQ(m.n_free(), 2);
}

}  // namespace
}  // namespace maas
