// supervisor.cc — deployments and their instances: setting, scaling, rolling changes,
// retiring, CPU choice, process starts; the pool the gateway routes through.
#include "control/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "base/thread_pool.h"
#include "control/crypto.h"
#include "control/process.h"
#include "control/supervisor_internal.h"

namespace maas {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

}  // namespace

int64_t supervisor_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

std::string Supervisor::Slot::last_output_error() {
  std::lock_guard<std::mutex> lock(output->mu);
  for (auto it = output->last_lines.rbegin(); it != output->last_lines.rend(); ++it) {
    if (it->find("error") != std::string::npos) return *it;
  }
  return output->last_lines.empty() ? "" : output->last_lines.back();
}

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
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus_.push_back(c);
    }
  }
  if (cpus_.empty()) cpus_.push_back(0);
  monitor_ = std::thread([this] { monitor(); });
}

Supervisor::~Supervisor() { stop(0); }

void Supervisor::set_on_change(std::function<void(const std::string&, const PoolStatus&)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_change_ = std::move(callback);
}

// Stops routing to the slot at once; SIGTERM follows once its requests are done (monitor).
void Supervisor::retire(std::unique_ptr<Slot> s) {
  s->instance->routable_.store(false);
  if (s->pid <= 0 && !s->reader.joinable()) return;
  s->state = InstanceState::kStopping;
  s->retired_at = supervisor_now_ms();
  s->term_sent = false;
  s->kill_deadline = s->retired_at + 30000 + options_.drain_timeout_s * 1000 + 5000;
  retired_.push_back(std::move(s));
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
  if (!(d->spec == spec)) {
    // A rolling change: the current instances keep serving (as outgoing) until the new ones are
    // all ready; an earlier change still rolling out is dropped for this one.
    for (auto& o : d->outgoing) {
      if (o->state != InstanceState::kReady) retire(std::move(o));
    }
    std::erase_if(d->outgoing, [](const std::unique_ptr<Slot>& o) { return o == nullptr; });
    for (auto& s : d->slots) {
      if (s->state == InstanceState::kReady || s->state == InstanceState::kUnready) {
        s->outgoing = true;
        d->outgoing.push_back(std::move(s));
      } else {
        retire(std::move(s));
      }
    }
    d->slots.clear();
    d->spec = spec;
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
    s->serial = next_serial_++;
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
    for (auto& s : d->outgoing) d->pool->instances_.push_back(s->instance);
  }
  update_status(*d);
  cv_.notify_all();
  return d->pool;
}

void Supervisor::remove_deployment(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(name);
  if (it == deployments_.end()) return;
  for (auto& s : it->second->slots) retire(std::move(s));
  for (auto& s : it->second->outgoing) retire(std::move(s));
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
    for (const auto* list : {&d->slots, &d->outgoing}) {
      for (const auto& s : *list) {
        InstanceInfo i;
        i.deployment = name;
        i.index = s->instance->index();
        i.outgoing = s->outgoing;
        i.cpus = s->cpus;
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
  }
  return out;
}

std::shared_ptr<Instance> Supervisor::instance(const std::string& deployment, int index) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(deployment);
  if (it == deployments_.end() || index < 0 || index >= static_cast<int>(it->second->slots.size())) return nullptr;
  return it->second->slots[static_cast<size_t>(index)]->instance;
}

void Supervisor::terminate(Slot& s, int sig) {
  if (s.pid > 0) ::kill(s.pid, sig);
}

// The n usable CPUs with the fewest pinned processes on them (ties: lowest number).
std::vector<int> Supervisor::choose_cpus(int n) const {
  std::vector<std::pair<int, int>> load;  // (processes, cpu)
  for (int c : cpus_) load.emplace_back(0, c);
  auto count = [&](const Slot& s) {
    if (s.pid <= 0) return;
    for (int c : s.cpus) {
      for (auto& [n_on, cpu] : load) n_on += cpu == c ? 1 : 0;
    }
  };
  for (const auto& [name, d] : deployments_) {
    for (const auto& s : d->slots) count(*s);
    for (const auto& s : d->outgoing) count(*s);
  }
  for (const auto& s : retired_) count(*s);
  std::stable_sort(load.begin(), load.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int> out;
  for (int i = 0; i < n && i < static_cast<int>(load.size()); ++i) out.push_back(load[static_cast<size_t>(i)].second);
  std::sort(out.begin(), out.end());
  return out;
}

void Supervisor::start_process(Deployment& d, Slot& s) {
  std::vector<std::string> argv = {options_.worker_binary, "worker", "--model", d.spec.model_path, "--host",
                                   "127.0.0.1", "--port", "0", "--served-model-name", d.spec.served_name,
                                   "--drain-timeout", std::to_string(options_.drain_timeout_s)};
  s.cpus = d.spec.pin_cores > 0 ? choose_cpus(d.spec.pin_cores) : std::vector<int>{};
  const int threads = d.spec.n_threads > 0 ? d.spec.n_threads : static_cast<int>(s.cpus.size());
  if (threads > 0) {
    argv.push_back("--threads");
    argv.push_back(std::to_string(threads));
  }
  argv.insert(argv.end(), d.spec.extra_args.begin(), d.spec.extra_args.end());
  auto spawned = spawn_process(options_.worker_binary, argv, {{"MAAS_API_KEY", s.instance->key()}}, s.cpus);
  const int64_t now = supervisor_now_ms();
  if (!spawned.ok()) {
    s.last_error = spawned.status().message();
    s.state = InstanceState::kBackoff;
    s.next_start_at = now + options_.max_backoff_ms;
    LOG_ERROR("supervisor: cannot start a worker for %s: %s", d.name.c_str(), s.last_error.c_str());
    return;
  }
  const int log_fd = ::open(s.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd >= 0) {
    std::string cpus;
    for (int c : s.cpus) cpus.append(cpus.empty() ? "" : ",").append(std::to_string(c));
    const std::string head = "==== maas serve: worker pid " + std::to_string(spawned->pid) + " for " + d.name + " (" +
                             d.spec.model_path + (cpus.empty() ? "" : ", cpus " + cpus) + ") ====\n";
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
  LOG_INFO("supervisor: started worker pid %d for %s (instance %d)", static_cast<int>(s.pid), d.name.c_str(),
           s.instance->index());
}

}  // namespace maas
