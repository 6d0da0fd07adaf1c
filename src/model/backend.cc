// backend.cc — choosing a backend by device name.
#include "model/backend.h"

#include "model/cpu_backend.h"
#ifdef MAAS_HAVE_CUDA
#include "model/cuda_backend.h"
#endif

namespace maas {

StatusOr<std::unique_ptr<Backend>> make_backend(const LoadOptions& options) {
  ASSIGN_OR_RETURN(DeviceName device, parse_device(options.device));
  if (device.kind == DeviceName::kCpu) return make_cpu_backend(options.n_threads);
#ifdef MAAS_HAVE_CUDA
  return make_cuda_backend(device.index, options);
#else
  return unimplemented("device '" + options.device +
                       "': this build has no CUDA backend (configure with -DMAAS_CUDA=ON where nvcc is installed; "
                       "docs/cuda.md)");
#endif
}

}  // namespace maas
