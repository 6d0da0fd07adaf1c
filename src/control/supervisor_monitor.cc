// supervisor_monitor.cc — the monitor loop: reaping and restarting workers, readiness probes,
// finishing rolling changes, draining retired instances; and shutdown.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "control/supervisor.h"
#include "control/supervisor_internal.h"

namespace maas {
namespace {

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

bool live(InstanceState s) {
  return s == InstanceState::kStarting || s == InstanceState::kReady || s == InstanceState::kUnready;
}

}  // namespace

void Supervisor::reap(Slot& s, int wait_status) {
  // The process is gone: its pipe is at EOF once the reader drains what is left, so the join
  // is short, and afterwards the last lines it printed are all there.
  if (s.reader.joinable()) s.reader.join();
  const int64_t now = supervisor_now_ms();
  s.instance->routable_.store(false);
  s.instance->port_.store(0);
  s.pid = -1;
  const std::string how = describe_exit(wait_status);
  if (s.state == InstanceState::kStopping) return;
  const bool was_stable = s.ready_since > 0 && now - s.ready_since >= 60000;
  s.failures_in_row = was_stable ? 1 : s.failures_in_row + 1;
  const std::string why = s.last_output_error();
  s.last_error = why.empty() ? "the worker " + how : "the worker " + how + ": " + why;
  s.ready_since = 0;
  ++s.restarts;
  if (s.failures_in_row >= options_.max_start_failures) {
    s.state = InstanceState::kFailed;
    LOG_ERROR("supervisor: %s instance %d failed %d times in a row; giving up (%s)",
              s.instance->deployment().c_str(), s.instance->index(), s.failures_in_row, s.last_error.c_str());
    return;
  }
  const int64_t backoff = std::min<int64_t>(options_.max_backoff_ms, 1000LL << std::min(s.failures_in_row - 1, 15));
  s.state = InstanceState::kBackoff;
  s.next_start_at = now + backoff;
  LOG_WARN("supervisor: %s instance %d %s; restarting in %lld ms", s.instance->deployment().c_str(),
           s.instance->index(), s.last_error.c_str(), static_cast<long long>(backoff));
}

void Supervisor::on_probe(const std::string& deployment, uint64_t serial, uint64_t generation, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(deployment);
  if (it == deployments_.end()) return;
  Slot* found = nullptr;
  for (auto* list : {&it->second->slots, &it->second->outgoing}) {
    for (auto& s : *list) {
      if (s->serial == serial && s->generation == generation) found = s.get();
    }
  }
  if (found == nullptr) return;
  Slot& s = *found;
  const int index = s.instance->index();
  s.probe_inflight = false;
  if (s.pid <= 0 || s.state == InstanceState::kStopping) return;
  if (status == 200) {
    s.liveness_failures = 0;
    if (s.state != InstanceState::kReady) {
      LOG_INFO("supervisor: %s instance %d is ready on port %u", deployment.c_str(), index, s.instance->port());
      s.ready_since = supervisor_now_ms();
    }
    s.state = InstanceState::kReady;
    s.instance->routable_.store(true);
  } else if (status > 0) {  // answered, but not ready (loading or draining)
    s.liveness_failures = 0;
    s.instance->routable_.store(false);
    if (s.state == InstanceState::kReady) s.state = InstanceState::kUnready;
  } else {  // no answer at all
    s.instance->routable_.store(false);
    if (s.state == InstanceState::kReady) s.state = InstanceState::kUnready;
    if (++s.liveness_failures >= options_.liveness_failures) {
      s.last_error = "the worker stopped answering its health probes";
      LOG_ERROR("supervisor: %s instance %d does not answer; killing it", deployment.c_str(), index);
      terminate(s, SIGKILL);
    }
  }
  update_status(*it->second);
  cv_.notify_all();
}

void Supervisor::update_status(Deployment& d) {
  PoolStatus st;
  st.n_instances = static_cast<int>(d.slots.size());
  st.n_outgoing = static_cast<int>(d.outgoing.size());
  st.failed = !d.slots.empty();
  for (const auto& s : d.slots) {
    if (s->instance->routable()) ++st.n_ready;
    if (s->state != InstanceState::kFailed) st.failed = false;
    if (st.failure.empty() && !s->last_error.empty()) st.failure = s->last_error;
  }
  std::lock_guard<std::mutex> pl(d.pool->mu_);
  d.pool->status_ = st;
}

void Supervisor::monitor() {
  struct Probe {
    std::string deployment;
    uint64_t serial;
    uint64_t generation;
    uint16_t port;
  };
  for (;;) {
    std::vector<Probe> probes;
    std::vector<std::thread> finished_readers;
    std::vector<std::pair<std::string, PoolStatus>> changes;
    std::function<void(const std::string&, const PoolStatus&)> notify;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (stopping_) return;
      const int64_t now = supervisor_now_ms();
      for (auto& [name, d] : deployments_) {
        for (auto* list : {&d->slots, &d->outgoing}) {
          for (auto& sp : *list) {
            Slot& s = *sp;
            int st = 0;
            if (s.pid > 0 && ::waitpid(s.pid, &st, WNOHANG) == s.pid) reap(s, st);
            if (s.state == InstanceState::kBackoff && now >= s.next_start_at && !s.outgoing) start_process(*d, s);
            if (live(s.state) && s.state == InstanceState::kStarting && now - s.started_at > options_.ready_timeout_ms) {
              s.last_error = "the worker did not become ready within " + std::to_string(options_.ready_timeout_ms / 1000) + " s";
              terminate(s, SIGKILL);
            }
            if (live(s.state) && !s.probe_inflight && s.instance->port() > 0 &&
                now - s.last_probe_at >= options_.probe_interval_ms) {
              s.probe_inflight = true;
              s.last_probe_at = now;
              probes.push_back({name, s.serial, s.generation, s.instance->port()});
            }
          }
        }
        // A rolling change completes when every new instance is ready: the old ones go. An
        // outgoing instance that dies is not restarted; it just leaves.
        int ready_new = 0;
        for (const auto& s : d->slots) ready_new += s->instance->routable() ? 1 : 0;
        const bool done = !d->outgoing.empty() && ready_new == static_cast<int>(d->slots.size());
        for (auto& o : d->outgoing) {
          if (done || o->state == InstanceState::kBackoff || o->state == InstanceState::kFailed) retire(std::move(o));
        }
        std::erase_if(d->outgoing, [](const std::unique_ptr<Slot>& o) { return o == nullptr; });
        {
          std::lock_guard<std::mutex> pl(d->pool->mu_);
          d->pool->instances_.clear();
          for (auto& s : d->slots) d->pool->instances_.push_back(s->instance);
          for (auto& s : d->outgoing) d->pool->instances_.push_back(s->instance);
        }
        update_status(*d);
        PoolStatus st = d->pool->status();
        if (st.n_ready != d->reported.n_ready || st.failed != d->reported.failed ||
            st.n_instances != d->reported.n_instances || st.n_outgoing != d->reported.n_outgoing) {
          d->reported = st;
          changes.emplace_back(name, st);
        }
      }
      // Retired instances: SIGTERM once no request is outstanding on them (or after 30 s), then
      // the worker drains; SIGKILL past the deadline.
      for (auto it = retired_.begin(); it != retired_.end();) {
        Slot& s = **it;
        int st = 0;
        if (s.pid > 0 && ::waitpid(s.pid, &st, WNOHANG) == s.pid) s.pid = -1;
        if (s.pid > 0 && !s.term_sent && (s.instance->outstanding() == 0 || now - s.retired_at > 30000)) {
          terminate(s, SIGTERM);
          s.term_sent = true;
        }
        if (s.pid > 0 && now > s.kill_deadline) terminate(s, SIGKILL);
        if (s.pid <= 0) {
          if (s.reader.joinable()) finished_readers.push_back(std::move(s.reader));
          it = retired_.erase(it);
        } else {
          ++it;
        }
      }
      notify = on_change_;
    }
    for (std::thread& t : finished_readers) t.join();
    for (const Probe& p : probes) {
      http::ClientRequest req;
      req.method = "GET";
      req.port = p.port;
      req.target = "/health/ready";
      req.connect_timeout_ms = 1000;
      req.response_timeout_ms = 2000;
      req.read_timeout_ms = 2000;
      auto status = std::make_shared<int>(0);
      http::ClientHandlers h;
      h.on_head = [status](http::ClientResponseHead&& head) { *status = head.status; };
      h.on_complete = [this, p, status](Status s) { on_probe(p.deployment, p.serial, p.generation, s.ok() ? *status : 0); };
      client_.start(std::move(req), std::move(h));
    }
    if (notify) {
      for (const auto& [name, st] : changes) notify(name, st);
    }
  }
}

void Supervisor::stop(int grace_ms) {
  std::vector<std::unique_ptr<Slot>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !monitor_.joinable()) return;
    stopping_ = true;
    for (auto& [name, d] : deployments_) {
      for (auto& s : d->slots) all.push_back(std::move(s));
      for (auto& s : d->outgoing) all.push_back(std::move(s));
      d->slots.clear();
      d->outgoing.clear();
      std::lock_guard<std::mutex> pl(d->pool->mu_);
      d->pool->instances_.clear();
    }
    for (auto& s : retired_) all.push_back(std::move(s));
    retired_.clear();
  }
  cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  for (auto& s : all) {
    s->instance->routable_.store(false);
    if (s->pid > 0) ::kill(s->pid, SIGTERM);
  }
  const int64_t deadline = supervisor_now_ms() + (grace_ms > 0 ? options_.drain_timeout_s * 1000 + grace_ms : 0);
  for (auto& s : all) {
    while (s->pid > 0) {
      int st = 0;
      const pid_t r = ::waitpid(s->pid, &st, WNOHANG);
      if (r == s->pid || r < 0) {
        s->pid = -1;
        break;
      }
      if (supervisor_now_ms() >= deadline) {
        ::kill(s->pid, SIGKILL);
        ::waitpid(s->pid, &st, 0);
        s->pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (s->reader.joinable()) s->reader.join();
  }
}

}  // namespace maas
