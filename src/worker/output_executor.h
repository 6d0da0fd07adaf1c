// output_executor.h — where engine outputs become bytes: a small pool of encoding threads and
// one serial executor (a strand) per in-flight request, so the engine thread only schedules,
// runs and samples. The engine's callback posts each output to its request's strand and
// returns at once; the strand encodes it (SSE chunk or final body), records the latency
// metrics and hands the bytes to the connection (whose own strand writes them). Outputs of one
// request run in the order posted, never two at a time; different requests run in parallel.
// Thread safety: post() from any thread; drain() and the destructor from a controlling thread
// (never from a posted task).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace maas {

class OutputExecutor {
 public:
  explicit OutputExecutor(int n_threads);
  ~OutputExecutor();  // runs what is queued, then joins the threads
  OutputExecutor(const OutputExecutor&) = delete;
  OutputExecutor& operator=(const OutputExecutor&) = delete;

  // A serial executor on this pool. Keeps the pool's state alive while tasks are queued.
  class Strand {
   public:
    virtual ~Strand() = default;
    virtual void post(std::function<void()> task) = 0;
  };
  std::shared_ptr<Strand> make_strand();
  // Waits until every task posted so far (and any they post) has run.
  void drain();

  struct Impl;  // internal (output_executor.cc)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace maas
