// instance_types.h — the resource profiles a managed-compute instance runs with, and the
// region's physical capacity (this machine).
//
// An instance of a CPU type is a `maas worker` with threads = cores, pinned to that many CPUs
// (the supervisor chooses them so that no two instances share a core while free cores remain),
// and a KV cache sized so that weights + cache fit the type's memory. GPU types are listed for
// machines with NVIDIA GPUs; they cannot be deployed until the CUDA backend exists (a clear
// error says so). Prices are per instance-hour, micro-USD.
// Thread safety: pure functions over constant data; capacity reads /proc once per call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/resources.h"

namespace maas {

const std::vector<InstanceType>& instance_types();
std::optional<InstanceType> find_instance_type(const std::string& name);

struct MachineCapacity {
  int cores = 0;            // CPUs this process may use
  int64_t memory_mib = 0;   // MemTotal
  int gpus = 0;             // /dev/nvidia<N> devices
};
MachineCapacity machine_capacity();

}  // namespace maas
