// supervisor.cc — the monitor loop, process starts and reaping, readiness probes.
#include "control/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>

#include "base/log.h"
#include "control/crypto.h"
#include "control/process.h"

namespace maas {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch()).count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a worker process printed: copied to its log file, the port taken from "listening on",
// the last lines kept to explain a failure.
struct OutputState {
  std::mutex mu;
  std::deque<std::string> last_lines;  // guarded by mu
};

void read_output(int fd, int log_fd, const std::shared_ptr<Instance>& instance, std::atomic<uint16_t>* port,
                 const std::shared_ptr<OutputState>& out) {
  (void)instance;  // kept alive while its port is written
  char buf[4096];
  std::string line;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log_fd >= 0 && ::write(log_fd, buf, static_cast<size_t>(n)) < 0) {
      // A full disk must not stop the worker: its output is dropped, the pipe keeps draining.
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') {
        if (line.size() < 512) line += buf[i];
        continue;
      }
      static const std::string kListening = "listening on http://";
      if (line.rfind(kListening, 0) == 0) {
        const size_t colon = line.rfind(':');
        if (colon != std::string::npos) port->store(static_cast<uint16_t>(std::atoi(line.c_str() + colon + 1)));
      }
      std::lock_guard<std::mutex> lock(out->mu);
      out->last_lines.push_back(line);
      if (out->last_lines.size() > 8) out->last_lines.pop_front();
      line.clear();
    }
  }
  ::close(fd);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

const char* instance_state_name(InstanceState s) {
  switch (s) {
    case InstanceState::kStarting: return "Starting";
    case InstanceState::kReady: return "Ready";
    case InstanceState::kUnready: return "Unready";
    case InstanceState::kBackoff: return "Restarting";
    case InstanceState::kFailed: return "Failed";
    case InstanceState::kStopping: return "Stopping";
  }
  return "?";
}

struct Supervisor::Slot {
  std::shared_ptr<Instance> instance;
  std::string log_path;
  InstanceState state = InstanceState::kBackoff;
  pid_t pid = -1;
  uint64_t generation = 0;
  std::thread reader;
  std::shared_ptr<OutputState> output = std::make_shared<OutputState>();
  int restarts = 0;
  int failures_in_row = 0;        // exits without a stable Ready period
  int liveness_failures = 0;
  bool probe_inflight = false;
  int64_t started_at = 0, started_wall = 0, ready_since = 0, next_start_at = 0, last_probe_at = 0;
  int64_t kill_deadline = 0;      // kStopping: SIGKILL after this
  std::string last_error;

  std::string last_output_error() {
    std::lock_guard<std::mutex> lock(output->mu);
    for (auto it = output->last_lines.rbegin(); it != output->last_lines.rend(); ++it) {
      if (it->find("error") != std::string::npos) return *it;
    }
    return output->last_lines.empty() ? "" : output->last_lines.back();
  }
};

struct Supervisor::Deployment {
  std::string name;
  InstanceSpec spec;
  std::shared_ptr<InstancePool> pool;
  std::vector<std::unique_ptr<Slot>> slots;
  PoolStatus reported;  // last status given to on_change
};

// ---- InstancePool ------------------------------------------------------------------------

std::unique_ptr<InstanceLease> InstancePool::acquire() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Instance> best;
  for (const auto& i : instances_) {
    if (!i->routable()) continue;
    if (!best || i->outstanding() < best->outstanding()) best = i;
  }
  if (!best) return nullptr;
  return std::make_unique<InstanceLease>(best);
}

PoolStatus InstancePool::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

// ---- Supervisor --------------------------------------------------------------------------

Supervisor::Supervisor(SupervisorOptions options) : options_(std::move(options)) {
  monitor_ = std::thread([this] { monitor(); });
}

Supervisor::~Supervisor() { stop(0); }

void Supervisor::set_on_change(std::function<void(const std::string&, const PoolStatus&)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_change_ = std::move(callback);
}

std::shared_ptr<InstancePool> Supervisor::set_deployment(const std::string& name, const InstanceSpec& spec,
                                                         int n_instances) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& d = deployments_[name];
  if (!d) {
    d = std::make_unique<Deployment>();
    d->name = name;
    d->spec = spec;
    d->pool = std::make_shared<InstancePool>(name);
  }
  const bool respec = !(d->spec == spec);
  d->spec = spec;
  auto retire = [&](std::unique_ptr<Slot> s) {
    s->instance->routable_.store(false);
    if (s->pid > 0) {
      terminate(*s, SIGTERM);
      s->state = InstanceState::kStopping;
      s->kill_deadline = now_ms() + options_.drain_timeout_s * 1000 + 5000;
      retired_.push_back(std::move(s));
    } else if (s->reader.joinable()) {
      retired_.push_back(std::move(s));
    }
  };
  if (respec) {  // a new model file or flags: replace every instance
    for (auto& s : d->slots) retire(std::move(s));
    d->slots.clear();
  }
  while (static_cast<int>(d->slots.size()) > n_instances) {
    retire(std::move(d->slots.back()));
    d->slots.pop_back();
  }
  for (auto& s : d->slots) {  // setting a deployment again retries Failed instances
    if (s->state == InstanceState::kFailed) {
      s->state = InstanceState::kBackoff;
      s->failures_in_row = 0;
      s->next_start_at = 0;
    }
  }
  while (static_cast<int>(d->slots.size()) < n_instances) {
    auto s = std::make_unique<Slot>();
    const int index = static_cast<int>(d->slots.size());
    s->instance = std::make_shared<Instance>(name, index, random_hex(24));
    std::string file = name + "-" + std::to_string(index) + ".log";
    std::replace(file.begin(), file.end(), '/', '_');
    s->log_path = options_.log_dir + "/" + file;
    d->slots.push_back(std::move(s));
  }
  {
    std::lock_guard<std::mutex> pl(d->pool->mu_);
    d->pool->instances_.clear();
    for (auto& s : d->slots) d->pool->instances_.push_back(s->instance);
  }
  update_status(*d);
  cv_.notify_all();
  return d->pool;
}

void Supervisor::remove_deployment(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(name);
  if (it == deployments_.end()) return;
  for (auto& s : it->second->slots) {
    s->instance->routable_.store(false);
    if (s->pid > 0) {
      terminate(*s, SIGTERM);
      s->state = InstanceState::kStopping;
      s->kill_deadline = now_ms() + options_.drain_timeout_s * 1000 + 5000;
    }
    if (s->pid > 0 || s->reader.joinable()) retired_.push_back(std::move(s));
  }
  {
    std::lock_guard<std::mutex> pl(it->second->pool->mu_);
    it->second->pool->instances_.clear();
    it->second->pool->status_ = PoolStatus{};
  }
  deployments_.erase(it);
}

std::shared_ptr<InstancePool> Supervisor::pool(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(name);
  return it == deployments_.end() ? nullptr : it->second->pool;
}

std::vector<InstanceInfo> Supervisor::instances() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InstanceInfo> out;
  for (const auto& [name, d] : deployments_) {
    for (const auto& s : d->slots) {
      InstanceInfo i;
      i.deployment = name;
      i.index = s->instance->index();
      i.pid = s->pid;
      i.port = s->instance->port();
      i.state = s->state;
      i.restarts = s->restarts;
      i.outstanding = s->instance->outstanding();
      i.last_error = s->last_error;
      i.log_path = s->log_path;
      i.started_at_ms = s->started_wall;
      out.push_back(i);
    }
  }
  return out;
}

void Supervisor::terminate(Slot& s, int sig) {
  if (s.pid > 0) ::kill(s.pid, sig);
}

void Supervisor::start_process(Slot& s) {
  const Deployment* d = nullptr;
  for (const auto& [n, dep] : deployments_) {
    for (const auto& x : dep->slots) {
      if (x.get() == &s) d = dep.get();
    }
  }
  if (d == nullptr) return;
  std::vector<std::string> argv = {options_.worker_binary, "worker", "--model", d->spec.model_path, "--host",
                                   "127.0.0.1", "--port", "0", "--served-model-name", d->spec.served_name,
                                   "--drain-timeout", std::to_string(options_.drain_timeout_s)};
  if (d->spec.n_threads > 0) {
    argv.push_back("--threads");
    argv.push_back(std::to_string(d->spec.n_threads));
  }
  argv.insert(argv.end(), d->spec.extra_args.begin(), d->spec.extra_args.end());
  auto spawned = spawn_process(options_.worker_binary, argv, {{"MAAS_API_KEY", s.instance->key()}});
  const int64_t now = now_ms();
  if (!spawned.ok()) {
    s.last_error = spawned.status().message();
    s.state = InstanceState::kBackoff;
    s.next_start_at = now + options_.max_backoff_ms;
    LOG_ERROR("supervisor: cannot start a worker for %s: %s", d->name.c_str(), s.last_error.c_str());
    return;
  }
  const int log_fd = ::open(s.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd >= 0) {
    const std::string head = "==== maas serve: worker pid " + std::to_string(spawned->pid) + " for " + d->name + " (" +
                             d->spec.model_path + ") ====\n";
    if (::write(log_fd, head.data(), head.size()) < 0) {
    }
  }
  s.pid = spawned->pid;
  ++s.generation;
  s.instance->port_.store(0);
  s.instance->routable_.store(false);
  s.state = InstanceState::kStarting;
  s.started_at = now;
  s.started_wall = wall_ms();
  s.last_probe_at = now;
  s.liveness_failures = 0;
  s.probe_inflight = false;
  s.output = std::make_shared<OutputState>();
  // The reader owns both descriptors and ends at EOF, when the process is gone.
  if (s.reader.joinable()) s.reader.join();
  s.reader = std::thread([fd = spawned->output_fd, log_fd, inst = s.instance, out = s.output] {
    read_output(fd, log_fd, inst, &inst->port_, out);
    if (log_fd >= 0) ::close(log_fd);
  });
  LOG_INFO("supervisor: started worker pid %d for %s (instance %d)", static_cast<int>(s.pid), d->name.c_str(),
           s.instance->index());
}

void Supervisor::reap(Slot& s, int wait_status) {
  // The process is gone: its pipe is at EOF once the reader drains what is left, so the join
  // is short, and afterwards the last lines it printed are all there.
  if (s.reader.joinable()) s.reader.join();
  const int64_t now = now_ms();
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

void Supervisor::on_probe(const std::string& deployment, int index, uint64_t generation, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(deployment);
  if (it == deployments_.end() || index >= static_cast<int>(it->second->slots.size())) return;
  Slot& s = *it->second->slots[static_cast<size_t>(index)];
  if (s.generation != generation) return;
  s.probe_inflight = false;
  if (s.pid <= 0 || s.state == InstanceState::kStopping) return;
  if (status == 200) {
    s.liveness_failures = 0;
    if (s.state != InstanceState::kReady) {
      LOG_INFO("supervisor: %s instance %d is ready on port %u", deployment.c_str(), index, s.instance->port());
      s.ready_since = now_ms();
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
    int index;
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
      const int64_t now = now_ms();
      for (auto& [name, d] : deployments_) {
        for (auto& sp : d->slots) {
          Slot& s = *sp;
          int st = 0;
          if (s.pid > 0 && ::waitpid(s.pid, &st, WNOHANG) == s.pid) {
            reap(s, st);
          }
          if (s.state == InstanceState::kBackoff && now >= s.next_start_at) start_process(s);
          const bool live = s.state == InstanceState::kStarting || s.state == InstanceState::kReady ||
                            s.state == InstanceState::kUnready;
          if (live && s.state == InstanceState::kStarting && now - s.started_at > options_.ready_timeout_ms) {
            s.last_error = "the worker did not become ready within " + std::to_string(options_.ready_timeout_ms / 1000) + " s";
            terminate(s, SIGKILL);
          }
          if (live && !s.probe_inflight && s.instance->port() > 0 && now - s.last_probe_at >= options_.probe_interval_ms) {
            s.probe_inflight = true;
            s.last_probe_at = now;
            probes.push_back({name, s.instance->index(), s.generation, s.instance->port()});
          }
        }
        update_status(*d);
        PoolStatus st = d->pool->status();
        if (st.n_ready != d->reported.n_ready || st.failed != d->reported.failed ||
            st.n_instances != d->reported.n_instances) {
          d->reported = st;
          changes.emplace_back(name, st);
        }
      }
      for (auto it = retired_.begin(); it != retired_.end();) {
        Slot& s = **it;
        int st = 0;
        if (s.pid > 0 && ::waitpid(s.pid, &st, WNOHANG) == s.pid) s.pid = -1;
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
      h.on_complete = [this, p, status](Status s) { on_probe(p.deployment, p.index, p.generation, s.ok() ? *status : 0); };
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
      d->slots.clear();
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
  const int64_t deadline = now_ms() + (grace_ms > 0 ? options_.drain_timeout_s * 1000 + grace_ms : 0);
  for (auto& s : all) {
    while (s->pid > 0) {
      int st = 0;
      const pid_t r = ::waitpid(s->pid, &st, WNOHANG);
      if (r == s->pid || r < 0) {
        s->pid = -1;
        break;
      }
      if (now_ms() >= deadline) {
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
