#include "base/thread_pool.h"

#include <algorithm>

#include <immintrin.h>
#include <sched.h>

namespace maas {
namespace {
constexpr int kSpinIterations = 20000;
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = usable_cpus();
  if (n_threads <= 0) n_threads = 1;
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  fn(0, n_threads_);
  while (pending_.load(std::memory_order_acquire) != 0) _mm_pause();
  job_ = nullptr;
}

void ThreadPool::worker_loop(int ith) {
  unsigned seen = 0;
  for (;;) {
    unsigned gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      _mm_pause();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    (*job_)(ith, n_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::deal(long n, long step, const std::function<void(long, long)>& fn) {
  if (n <= 0) return;
  if (step < 1) step = 1;
  std::atomic<long> next{0};
  run([&](int, int) {
    for (long b = next.fetch_add(step, std::memory_order_relaxed); b < n;
         b = next.fetch_add(step, std::memory_order_relaxed)) {
      fn(b, b + step < n ? b + step : n);
    }
  });
}

void ThreadPool::split(long n, int ith, int nth, long align, long* begin, long* end) {
  if (align < 1) align = 1;
  long n_units = (n + align - 1) / align;
  long per = n_units / nth, extra = n_units % nth;
  long b = ith * per + (ith < extra ? ith : extra);
  long e = b + per + (ith < extra ? 1 : 0);
  *begin = b * align < n ? b * align : n;
  *end = e * align < n ? e * align : n;
}

}  // namespace maas
