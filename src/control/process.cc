// process.cc — fork/exec with a joined output pipe and parent-death signal.
#include "control/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

extern char** environ;

namespace maas {

StatusOr<std::string> self_executable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return internal_error(std::string("cannot resolve /proc/self/exe: ") + std::strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

StatusOr<SpawnedProcess> spawn_process(const std::string& binary, const std::vector<std::string>& argv,
                                       const std::vector<std::pair<std::string, std::string>>& env,
                                       const std::vector<int>& cpus) {
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  for (int c : cpus) CPU_SET(c, &affinity);
  // Everything the child needs, built before fork.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s = *e;
    bool replaced = false;
    for (const auto& [k, v] : env) replaced |= s.compare(0, k.size() + 1, k + "=") == 0;
    if (!replaced) env_strings.push_back(std::move(s));
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (std::string& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return unavailable(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return unavailable(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    if (!cpus.empty() && ::sched_setaffinity(0, sizeof(affinity), &affinity) != 0) ::_exit(126);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the platform blocks SIGTERM for sigwait
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(binary.c_str(), args.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return SpawnedProcess{pid, fds[0]};
}

}  // namespace maas

namespace maas {

StatusOr<CommandResult> run_command(const std::string& binary, const std::vector<std::string>& argv, int timeout_ms,
                                    size_t max_output) {
  ASSIGN_OR_RETURN(SpawnedProcess p, spawn_process(binary, argv, {}));
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool killed = false;
  char buf[4096];
  for (;;) {
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0 && !killed) {
      ::kill(p.pid, SIGKILL);
      killed = true;
    }
    pollfd pfd{p.output_fd, POLLIN, 0};
    if (::poll(&pfd, 1, killed ? 1000 : std::min(left, 1000)) <= 0) {
      if (killed) break;
      continue;
    }
    const ssize_t n = ::read(p.output_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (result.output.size() < max_output) result.output.append(buf, static_cast<size_t>(n));
  }
  ::close(p.output_fd);
  int status = 0;
  ::waitpid(p.pid, &status, 0);
  result.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace maas
