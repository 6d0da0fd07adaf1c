// engine.cc — the engine thread around EngineCore: a bounded submission queue, cancellation
// from any thread, a condition variable while idle, and a stats snapshot (see engine.h).
#include "engine/engine.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "engine/engine_core.h"

namespace maas {

struct Engine::Impl {
  struct Submission {
    EngineRequest request;
    OutputCallback on_output;
  };

  EngineOptions options;
  std::unique_ptr<EngineCore> core;  // engine thread only (after start())
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Submission> incoming;  // guarded by mu
  std::vector<std::string> cancels;  // guarded by mu
  bool stopping = false;             // guarded by mu
  bool started = false;              // guarded by mu
  int32_t core_waiting = 0;          // guarded by mu: the core's waiting queue after the last step, plus what was taken since
  EngineStats snapshot;              // guarded by mu
  std::atomic<bool> healthy{true};
  std::thread thread;

  void loop();
  bool take_inputs(std::vector<Submission>* subs, std::vector<std::string>* ids);
  void drain_into_core();
  void deliver();
};

Engine::Engine(Model& model, const Tokenizer& tokenizer, EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = resolve_engine_options(options, model.config());
  impl_->core = std::make_unique<EngineCore>(model, tokenizer, impl_->options);
  impl_->snapshot = impl_->core->stats();
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  } else {
    impl_->drain_into_core();  // never started: end the queued requests here
    impl_->core->cancel_all();
    impl_->deliver();
  }
}

void Engine::start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started) return;
  impl_->started = true;
  impl_->thread = std::thread([this] { impl_->loop(); });
}

Status Engine::submit(EngineRequest request, OutputCallback on_output) {
  if (!healthy()) return unavailable("the engine stopped after an internal failure");
  RETURN_IF_ERROR(impl_->core->validate(request));  // const, safe from any thread
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return unavailable("the engine is shutting down");
    if (static_cast<int32_t>(impl_->incoming.size()) + impl_->core_waiting >= impl_->options.max_waiting) {
      return resource_exhausted("the engine queue is full (" + std::to_string(impl_->options.max_waiting) + " waiting)");
    }
    impl_->incoming.push_back(Impl::Submission{std::move(request), std::move(on_output)});
  }
  impl_->cv.notify_one();
  return Status::Ok();
}

void Engine::cancel(const std::string& request_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->cancels.push_back(request_id);
  }
  impl_->cv.notify_one();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  EngineStats s = impl_->snapshot;
  s.n_waiting += static_cast<int32_t>(impl_->incoming.size());
  return s;
}

const EngineOptions& Engine::options() const { return impl_->options; }
bool Engine::healthy() const { return impl_->healthy.load(); }

// Waits for work; moves submissions and cancellations out. False when stopping.
bool Engine::Impl::take_inputs(std::vector<Submission>* subs, std::vector<std::string>* ids) {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return stopping || !incoming.empty() || !cancels.empty() || core->has_work(); });
  if (stopping) return false;
  subs->swap(incoming);
  ids->swap(cancels);
  // The taken submissions join the core's queue now; count them there until the step after them
  // refreshes core_waiting, or submit() would admit past max_waiting while the step runs.
  core_waiting += static_cast<int32_t>(subs->size());
  return true;
}

void Engine::Impl::drain_into_core() {
  std::vector<Submission> subs;
  {
    std::lock_guard<std::mutex> lock(mu);
    subs.swap(incoming);
    cancels.clear();
  }
  for (Submission& s : subs) core->add(std::move(s.request), std::move(s.on_output));
}

void Engine::Impl::loop() {
  try {
    std::vector<Submission> subs;
    std::vector<std::string> ids;
    while (take_inputs(&subs, &ids)) {
      for (Submission& s : subs) core->add(std::move(s.request), std::move(s.on_output));
      for (const std::string& id : ids) core->cancel(id);
      subs.clear();
      ids.clear();
      core->step();
      {
        std::lock_guard<std::mutex> lock(mu);
        snapshot = core->stats();
        core_waiting = core->n_waiting();
      }
      deliver();
    }
  } catch (const std::exception& e) {
    LOG_ERROR("engine loop stopped: %s", e.what());
    healthy = false;
  }
  drain_into_core();
  core->cancel_all();
  {
    std::lock_guard<std::mutex> lock(mu);
    snapshot = core->stats();
  }
  deliver();
}

// Runs the callbacks of the step's outputs (engine thread). A callback that throws (e.g. its
// connection is gone) cancels its request before the next step.
void Engine::Impl::deliver() {
  for (PendingOutput& p : core->take_outputs()) {
    try {
      (*p.on_output)(std::move(p.output));
    } catch (const std::exception& e) {
      LOG_WARN("output callback of request %s failed: %s", p.request_id.c_str(), e.what());
      core->cancel(p.request_id);
    }
  }
}

}  // namespace maas
