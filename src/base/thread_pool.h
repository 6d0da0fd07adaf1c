// thread_pool.h — a persistent pool of worker threads for data-parallel kernels.
//
// run(fn) calls fn(ith, nth) once on each of nth threads (the caller is thread 0) and returns
// when all have finished: one fork/join per call, no allocation. Workers spin briefly on an
// atomic generation counter before sleeping, so back-to-back calls (one per matmul in a forward
// pass) cost well under a microsecond each. Not re-entrant: run() must not be called from inside
// fn, and one thread at a time drives a pool (the engine thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace maas {

// The CPUs this process may run on (its affinity mask, as `maas serve` pins an instance to the
// cores of its instance type), not the machine's: the default thread count.
int usable_cpus();

class ThreadPool {
 public:
  // n_threads <= 0 picks the number of online cores.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }
  void run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into nth contiguous chunks (multiples of `align` except the last) and returns
  // thread ith's [begin, end).
  static void split(long n, int ith, int nth, long align, long* begin, long* end);

  // Deals [0, n) out in pieces of `step` from a shared counter: each thread runs fn(begin, end)
  // on the next piece until none is left. Unlike a split, a core that is slow for a while (a
  // shared host) takes fewer pieces instead of holding the others at the join.
  void deal(long n, long step, const std::function<void(long begin, long end)>& fn);

 private:
  void worker_loop(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<unsigned> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace maas
