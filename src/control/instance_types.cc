// instance_types.cc — the instance type table and the machine's capacity.
#include "control/instance_types.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/thread_pool.h"

namespace maas {

const std::vector<InstanceType>& instance_types() {
  static const std::vector<InstanceType> kTypes = {
      {"cpu-1c-2g", 1, 2048, 0, "", 25000},
      {"cpu-1c-4g", 1, 4096, 0, "", 40000},
      {"cpu-2c-8g", 2, 8192, 0, "", 90000},
      {"cpu-4c-16g", 4, 16384, 0, "", 180000},
      {"cpu-8c-32g", 8, 32768, 0, "", 360000},
      {"cpu-16c-64g", 16, 65536, 0, "", 720000},
      {"gpu-1x-h100-80g", 16, 196608, 1, "NVIDIA H100 80GB", 6980000},
      {"gpu-1x-h200-141g", 16, 262144, 1, "NVIDIA H200 141GB", 8500000},
  };
  return kTypes;
}

std::optional<InstanceType> find_instance_type(const std::string& name) {
  for (const InstanceType& t : instance_types()) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

MachineCapacity machine_capacity() {
  MachineCapacity c;
  c.cores = usable_cpus();
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") {
      c.memory_mib = kib / 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  std::error_code ec;
  for (int i = 0; i < 16; ++i) {
    if (std::filesystem::exists("/dev/nvidia" + std::to_string(i), ec)) ++c.gpus;
  }
  return c;
}

}  // namespace maas
