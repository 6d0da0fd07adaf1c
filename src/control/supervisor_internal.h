// supervisor_internal.h — the supervisor's per-instance and per-deployment state, shared by
// supervisor.cc (the public operations) and supervisor_monitor.cc (the monitor loop). Guarded
// by Supervisor::mu_, except OutputState (its own mutex) and Instance's atomics.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/supervisor.h"

namespace maas {

// What a worker process printed: copied to its log file, the port taken from "listening on",
// the last lines kept to explain a failure.
struct OutputState {
  std::mutex mu;
  std::deque<std::string> last_lines;  // guarded by mu
};

struct Supervisor::Slot {
  std::shared_ptr<Instance> instance;
  std::string log_path;
  InstanceState state = InstanceState::kBackoff;
  pid_t pid = -1;
  uint64_t serial = 0;            // unique among all slots ever made (probes find their slot by it)
  uint64_t generation = 0;
  std::thread reader;
  std::shared_ptr<OutputState> output = std::make_shared<OutputState>();
  std::vector<int> cpus;          // pinned CPUs of the running process
  int restarts = 0;
  int failures_in_row = 0;        // exits without a stable Ready period
  int liveness_failures = 0;
  bool probe_inflight = false;
  bool outgoing = false;          // of a previous spec, serving during a rolling change
  int64_t started_at = 0, started_wall = 0, ready_since = 0, next_start_at = 0, last_probe_at = 0;
  int64_t retired_at = 0;         // kStopping: when it stopped getting requests
  bool term_sent = false;         // kStopping: SIGTERM sent (once idle, or after the idle wait)
  int64_t kill_deadline = 0;      // kStopping: SIGKILL after this
  std::string last_error;
  std::string last_output_error();
};

struct Supervisor::Deployment {
  std::string name;
  InstanceSpec spec;
  std::shared_ptr<InstancePool> pool;
  std::vector<std::unique_ptr<Slot>> slots;     // the current spec
  std::vector<std::unique_ptr<Slot>> outgoing;  // the previous spec, until `slots` are all ready
  PoolStatus reported;                          // last status given to on_change
};

int64_t supervisor_now_ms();

}  // namespace maas
