// output_executor.cc — the encoding pool over Boost.Asio's thread_pool and strands, with a count
// of queued tasks for drain() (see output_executor.h).
#include "worker/output_executor.h"

#include <algorithm>
#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "base/log.h"

namespace maas {

struct OutputExecutor::Impl {
  explicit Impl(int n) : pool(static_cast<size_t>(std::max(1, n))) {}
  boost::asio::thread_pool pool;
  std::mutex mu;
  std::condition_variable idle;
  int64_t pending = 0;  // guarded by mu: posted tasks not yet finished

  void done() {
    std::lock_guard<std::mutex> lock(mu);
    if (--pending == 0) idle.notify_all();
  }
};

namespace {

class AsioStrand : public OutputExecutor::Strand {
 public:
  explicit AsioStrand(std::shared_ptr<OutputExecutor::Impl> impl)
      : impl_(std::move(impl)), strand_(boost::asio::make_strand(impl_->pool)) {}
  void post(std::function<void()> task) override {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      ++impl_->pending;
    }
    boost::asio::post(strand_, [impl = impl_, task = std::move(task)] {
      try {
        task();
      } catch (const std::exception& e) {
        LOG_WARN("output task failed: %s", e.what());
      }
      impl->done();
    });
  }

 private:
  std::shared_ptr<OutputExecutor::Impl> impl_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
};

}  // namespace

OutputExecutor::OutputExecutor(int n_threads) : impl_(std::make_shared<Impl>(n_threads)) {}

OutputExecutor::~OutputExecutor() {
  drain();
  impl_->pool.join();
}

std::shared_ptr<OutputExecutor::Strand> OutputExecutor::make_strand() { return std::make_shared<AsioStrand>(impl_); }

void OutputExecutor::drain() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->idle.wait(lock, [&] { return impl_->pending == 0; });
}

}  // namespace maas
