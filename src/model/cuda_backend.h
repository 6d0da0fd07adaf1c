// cuda_backend.h — the CUDA backend: the model's weights (file layout), activations and the paged
// KV cache (F32 or F16) in one GPU's memory, every op a kernel of src/kernels/cuda (cuda_ops.h),
// logits copied to the host for the shared sampler. See backend.h for the contract and
// docs/cuda.md for what has been verified. Compiled only when MAAS_CUDA is ON; others reach it
// through make_backend ("cuda" or "cuda:N").
#pragma once

#include <memory>

#include "base/status.h"
#include "model/backend.h"

namespace maas {

// Unavailable when device `index` is not there (no driver, no device, index out of range).
StatusOr<std::unique_ptr<Backend>> make_cuda_backend(int index, const LoadOptions& options);

}  // namespace maas
