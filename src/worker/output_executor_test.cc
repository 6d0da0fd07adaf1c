// output_executor_test.cc — each strand runs its tasks in order and never two at once; strands
// run in parallel; drain() waits for everything posted (including tasks posted by tasks); a
// throwing task does not stop its strand.
#include "worker/output_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <vector>

namespace maas {
namespace {

TEST(OutputExecutor, StrandsKeepOrderAndDrainWaits) {
  OutputExecutor pool(2);
  constexpr int kStrands = 8, kTasks = 500;
  std::vector<std::shared_ptr<OutputExecutor::Strand>> strands;
  std::vector<std::vector<int>> seen(kStrands);
  std::vector<std::unique_ptr<std::atomic<int>>> busy;
  std::atomic<bool> overlapped{false};
  for (int s = 0; s < kStrands; ++s) {
    strands.push_back(pool.make_strand());
    busy.push_back(std::make_unique<std::atomic<int>>(0));
  }
  for (int i = 0; i < kTasks; ++i) {
    for (int s = 0; s < kStrands; ++s) {
      strands[static_cast<size_t>(s)]->post([&, s, i] {
        if (busy[static_cast<size_t>(s)]->fetch_add(1) != 0) overlapped = true;
        seen[static_cast<size_t>(s)].push_back(i);  // unsynchronised on purpose: the strand serialises
        busy[static_cast<size_t>(s)]->fetch_sub(1);
      });
    }
  }
  pool.drain();
  EXPECT_FALSE(overlapped.load());
  for (int s = 0; s < kStrands; ++s) {
    ASSERT_EQ(seen[static_cast<size_t>(s)].size(), static_cast<size_t>(kTasks));
    for (int i = 0; i < kTasks; ++i) EXPECT_EQ(seen[static_cast<size_t>(s)][static_cast<size_t>(i)], i);
  }
}

TEST(OutputExecutor, DrainCoversTasksPostedByTasksAndSurvivesThrows) {
  OutputExecutor pool(2);
  auto strand = pool.make_strand();
  std::atomic<int> ran{0};
  strand->post([] { throw std::runtime_error("boom"); });
  strand->post([&] {
    ++ran;
    strand->post([&] { ++ran; });
  });
  pool.drain();
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace maas
