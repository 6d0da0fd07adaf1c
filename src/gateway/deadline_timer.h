// deadline_timer.h — runs callbacks after a delay on one background thread (the gateway's
// bound on waiting for a usage record's commit). Coarse (10 ms) and cheap: a sorted queue.
// Thread safety: after() may be called from any thread; callbacks run on the timer thread and
// must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace maas::gateway {

class DeadlineTimer {
 public:
  DeadlineTimer();
  ~DeadlineTimer();  // drops callbacks not yet due
  void after(int delay_ms, std::function<void()> callback);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<TimePoint, std::function<void()>> due_;  // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  std::thread thread_;
};

}  // namespace maas::gateway
