// process.h — starting a child process for the supervisor: argv and environment prepared before
// fork (the child calls only async-signal-safe functions until exec), stdout and stderr joined
// into one pipe the parent reads, every other descriptor closed (a worker must not inherit the
// platform's listening socket), and PR_SET_PDEATHSIG so a worker gets SIGTERM when `maas serve`
// dies, even by SIGKILL.
// Thread safety: spawn_process may be called from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace maas {

struct SpawnedProcess {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the stdout+stderr pipe (O_CLOEXEC); the caller closes it
};

// env: variables set (or replaced) on top of this process's environment. cpus: when not empty,
// the child is pinned to these CPUs (sched_setaffinity) before exec.
StatusOr<SpawnedProcess> spawn_process(const std::string& binary, const std::vector<std::string>& argv,
                                       const std::vector<std::pair<std::string, std::string>>& env,
                                       const std::vector<int>& cpus = {});

// The path of this process's own executable (/proc/self/exe resolved).
StatusOr<std::string> self_executable();

}  // namespace maas

namespace maas {

struct CommandResult {
  int exit_code = -1;   // -1: killed (timeout or signal)
  std::string output;   // stdout and stderr joined, at most max_output bytes
};

// Runs a command to completion (SIGKILL after timeout_ms) and returns its output.
StatusOr<CommandResult> run_command(const std::string& binary, const std::vector<std::string>& argv, int timeout_ms,
                                    size_t max_output = 1 << 20);

}  // namespace maas
