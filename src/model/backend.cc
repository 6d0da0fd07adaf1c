// backend.cc — choosing a backend by device name.
#include "model/backend.h"

#include "model/cpu_backend.h"

namespace maas {

StatusOr<std::unique_ptr<Backend>> make_backend(const LoadOptions& options) {
  ASSIGN_OR_RETURN(DeviceName device, parse_device(options.device));
  if (device.kind == DeviceName::kCpu) return make_cpu_backend(options.n_threads);
  return unimplemented("device '" + options.device +
                       "': the CUDA backend is not implemented yet (its first kernels are in src/kernels/cuda; issue 12)");
}

}  // namespace maas
