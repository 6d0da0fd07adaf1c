// deadline_timer.cc — the timer thread.
#include "gateway/deadline_timer.h"

#include <vector>

namespace maas::gateway {

DeadlineTimer::DeadlineTimer() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const TimePoint next = due_.begin()->first;
      if (cv_.wait_until(lock, next) != std::cv_status::timeout && std::chrono::steady_clock::now() < next) continue;
      std::vector<std::function<void()>> run;
      const TimePoint now = std::chrono::steady_clock::now();
      while (!due_.empty() && due_.begin()->first <= now) {
        run.push_back(std::move(due_.begin()->second));
        due_.erase(due_.begin());
      }
      lock.unlock();
      for (auto& f : run) f();
      lock.lock();
    }
  });
}

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    due_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void DeadlineTimer::after(int delay_ms, std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    due_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms), std::move(callback));
  }
  cv_.notify_all();
}

}  // namespace maas::gateway
