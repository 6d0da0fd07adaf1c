// supervisor.h — worker processes for deployments: start, probe, restart, drain, log.
//
// A deployment (a serverless model pool now, a managed-compute deployment later) is N instances
// of one InstanceSpec; each instance is a `maas worker` process on a free local port with its
// own random key (passed in the environment, never on the command line). The supervisor:
//   - starts the worker with `--port 0`, reads its joined stdout/stderr into
//     `<log_dir>/<deployment>-<index>.log` and takes the port from its "listening on" line;
//   - probes GET /health/ready every probe_interval_ms: 200 makes the instance Ready (routable),
//     anything else Unready; a process that never gets ready within ready_timeout_ms, or whose
//     liveness fails for liveness_failures probes in a row, is killed and restarted;
//   - notices a dead process within ~200 ms (waitpid), marks it not routable at once, and
//     restarts it with exponential backoff (1 s, 2 s, ... 30 s; reset after 60 s Ready);
//     after max_start_failures failures in a row without ever getting ready the instance is
//     Failed (the last lines of its log say why) until the deployment is set again;
//   - scales a deployment up (new instances join when ready) or down (surplus instances stop
//     getting requests at once, get SIGTERM once their outstanding requests are done, and
//     drain), and changes its spec without dropping traffic: new instances start beside the old
//     ones, which keep serving until every new one is ready, then drain and stop (if the new
//     ones fail, the old ones keep serving and the pool reports the failure);
//   - pins instances with pin_cores to the least used CPUs, so that no two share a core while
//     free cores remain;
//   - removes deployments, and at shutdown sends SIGTERM to every worker (they drain), then
//     SIGKILL to what is left after the drain deadline.
// The gateway routes through InstancePool::acquire(): the Ready instance with the fewest
// outstanding requests (least outstanding requests balancing).
// Thread safety: all public methods may be called from any thread; on_change runs on the
// monitor thread and must not call back into the supervisor synchronously.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "http/client.h"

namespace maas {

struct InstanceSpec {
  std::string model_path;
  std::string served_name;
  int n_threads = 0;                    // 0: the worker's default (every CPU it may use)
  int pin_cores = 0;                    // > 0: pinned to this many CPUs, chosen least used first
  std::vector<std::string> extra_args;  // more `maas worker` flags
  bool operator==(const InstanceSpec& o) const {
    return model_path == o.model_path && served_name == o.served_name && n_threads == o.n_threads &&
           pin_cores == o.pin_cores && extra_args == o.extra_args;
  }
};

enum class InstanceState { kStarting, kReady, kUnready, kBackoff, kFailed, kStopping };
const char* instance_state_name(InstanceState state);

// One worker process slot, shared with the gateway (which reads port/key and counts requests).
class Instance {
 public:
  Instance(std::string deployment, int index, std::string key)
      : deployment_(std::move(deployment)), index_(index), key_(std::move(key)) {}
  const std::string& deployment() const { return deployment_; }
  int index() const { return index_; }
  const std::string& key() const { return key_; }  // the worker's API key
  uint16_t port() const { return port_.load(); }
  bool routable() const { return routable_.load(); }
  int outstanding() const { return outstanding_.load(); }

 private:
  friend class Supervisor;
  friend class InstancePool;
  friend class InstanceLease;
  const std::string deployment_;
  const int index_;
  const std::string key_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> routable_{false};
  std::atomic<int> outstanding_{0};
};

// Holds one outstanding request on an instance; released in the destructor.
class InstanceLease {
 public:
  explicit InstanceLease(std::shared_ptr<Instance> instance) : instance_(std::move(instance)) {
    instance_->outstanding_.fetch_add(1);
  }
  ~InstanceLease() { instance_->outstanding_.fetch_sub(1); }
  InstanceLease(const InstanceLease&) = delete;
  InstanceLease& operator=(const InstanceLease&) = delete;
  const Instance& instance() const { return *instance_; }

 private:
  std::shared_ptr<Instance> instance_;
};

struct PoolStatus {
  int n_instances = 0, n_ready = 0;  // of the current spec
  int n_outgoing = 0;          // instances of a previous spec still serving during a rolling change
  bool failed = false;         // every instance of the current spec Failed
  std::string failure;         // why (the worker's last error line)
  bool updating() const { return n_outgoing > 0; }
};

class InstancePool {
 public:
  explicit InstancePool(std::string deployment) : deployment_(std::move(deployment)) {}
  const std::string& deployment() const { return deployment_; }
  // The routable instance with the fewest outstanding requests (ties: lowest index); nullptr
  // when none is routable.
  std::unique_ptr<InstanceLease> acquire() const;
  PoolStatus status() const;

 private:
  friend class Supervisor;
  const std::string deployment_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Instance>> instances_;  // guarded by mu_ (routable ones first by index)
  PoolStatus status_;                                 // guarded by mu_
};

struct InstanceInfo {
  std::string deployment;
  int index = 0;
  bool outgoing = false;       // of a previous spec, serving until the new instances are ready
  std::vector<int> cpus;       // pinned CPUs (empty: not pinned)
  pid_t pid = 0;
  uint16_t port = 0;
  InstanceState state = InstanceState::kStarting;
  int restarts = 0;
  int outstanding = 0;
  std::string last_error, log_path;
  int64_t started_at_ms = 0;
};

struct SupervisorOptions {
  std::string worker_binary;   // `maas` (self_executable())
  std::string log_dir;
  int probe_interval_ms = 1000;
  int ready_timeout_ms = 300000;
  int liveness_failures = 10;
  int max_start_failures = 5;
  int max_backoff_ms = 30000;
  int drain_timeout_s = 30;    // passed to each worker as --drain-timeout
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options);
  ~Supervisor();  // stop(0)

  // Creates the deployment or changes its size / spec (a changed spec restarts its instances).
  std::shared_ptr<InstancePool> set_deployment(const std::string& deployment, const InstanceSpec& spec, int n_instances);
  void remove_deployment(const std::string& deployment);
  std::shared_ptr<InstancePool> pool(const std::string& deployment) const;
  std::vector<InstanceInfo> instances() const;
  // The current-spec instance `index` of a deployment (its port and key), or nullptr.
  std::shared_ptr<Instance> instance(const std::string& deployment, int index) const;
  // Called (monitor thread) when a deployment's PoolStatus changes.
  void set_on_change(std::function<void(const std::string& deployment, const PoolStatus& status)> callback);
  // SIGTERM to every worker, waits for them up to drain_timeout_s + grace_ms, SIGKILL the rest.
  void stop(int grace_ms = 5000);

 private:
  struct Slot;
  struct Deployment;
  void monitor();
  void start_process(Deployment& d, Slot& slot);
  std::vector<int> choose_cpus(int n) const;
  void retire(std::unique_ptr<Slot> slot);
  void reap(Slot& slot, int wait_status);
  void probe(Deployment& d, Slot& slot);
  void on_probe(const std::string& deployment, uint64_t serial, uint64_t generation, int status);
  void update_status(Deployment& d);
  void terminate(Slot& slot, int signal);

  const SupervisorOptions options_;
  http::HttpClient client_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Deployment>> deployments_;  // guarded by mu_
  std::vector<int> cpus_;                                            // usable CPUs, ascending
  uint64_t next_serial_ = 1;                                         // guarded by mu_
  std::vector<std::unique_ptr<Slot>> retired_;                       // guarded by mu_: draining
  std::function<void(const std::string&, const PoolStatus&)> on_change_;  // guarded by mu_
  bool stopping_ = false;                                            // guarded by mu_
  std::thread monitor_;
};

}  // namespace maas
