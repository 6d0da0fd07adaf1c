// gpu_worker_main.cc — maas-gpu-worker: `maas worker` alone (apps/maas/cmd_worker.cc, the same
// flags and server), linked without the platform's libraries (control plane, gateway: OpenSSL,
// libcurl, SQLite), so that bench/gpu-check.sh can build it on a GPU machine from carried Boost
// and nlohmann-json headers (CMake option MAAS_GPU_CHECK_WORKER) and run the serving benchmark
// against it. `maas-gpu-worker ARGS` behaves as `maas worker ARGS`.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"

namespace maas {

// The maas binary's definition lives in cmd_run.cc, which this binary does not link.
int report_error(const std::string& message, int code) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

}  // namespace maas

int main(int argc, char** argv) { return maas::cmd_worker(std::vector<std::string>(argv + 1, argv + argc)); }
