#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace maas {
namespace {

TEST(ThreadPool, EveryThreadRunsOncePerCall) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(3);
  for (int rep = 0; rep < 1000; ++rep) {
    pool.run([&](int ith, int nth) {
      EXPECT_EQ(nth, 3);
      hits[ith].fetch_add(1);
    });
  }
  for (auto& h : hits) EXPECT_EQ(h.load(), 1000);
}

// deal: every index of [0, n) in exactly one piece, pieces `step` long except the last.
TEST(ThreadPool, DealCoversRangeOnceInSteps) {
  ThreadPool pool(3);
  for (long n : {0L, 1L, 7L, 100L, 1001L}) {
    for (long step : {1L, 3L, 16L}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad{0};
      pool.deal(n, step, [&](long b, long e) {
        if (b % step != 0 || e > n || (e - b != step && e != n)) bad.fetch_add(1);
        for (long i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      EXPECT_EQ(bad.load(), 0) << n << " " << step;
      for (long i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << step << " " << i;
    }
  }
}

TEST(ThreadPool, SplitCoversRangeWithAlignment) {
  for (long n : {0L, 1L, 31L, 32L, 100L, 4096L}) {
    for (int nth : {1, 2, 3, 7}) {
      long covered = 0, prev_end = 0;
      for (int i = 0; i < nth; ++i) {
        long b, e;
        ThreadPool::split(n, i, nth, 32, &b, &e);
        EXPECT_EQ(b, prev_end);
        if (e < n) {
          EXPECT_EQ(e % 32, 0);
        }
        covered += e - b;
        prev_end = e;
      }
      EXPECT_EQ(covered, n);
    }
  }
}

}  // namespace
}  // namespace maas
