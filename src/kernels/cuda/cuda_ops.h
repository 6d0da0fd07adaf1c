// cuda_ops.h — the CUDA versions of kernels.h's ops, one .cu file per op, callable from host
// code compiled without nvcc (no CUDA type crosses this header).
//
// Every op is queued on the current device's default stream and returns at once; pointers are
// device memory (device_buffer.h) unless a name says host. Errors of a launch surface as a
// Status from the op or from synchronize(). Each op has a parity test against the scalar
// reference of kernels.h (cuda_ops_test.cc, ctest label gpu: skipped where no device is present).
// Built when MAAS_CUDA is ON (CMakeLists.txt: nvcc found, sm_80 and sm_90).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "gguf/ggml_type.h"

namespace maas::cuda {

// Devices the driver reports; 0 when there is no driver, no device, or any error asking.
int device_count();
// Waits for everything queued on the current device; the first error of it, as Internal.
Status synchronize();

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w for n rows of d floats (out may alias x).
Status rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps);

// x[t] = row tokens[t] of `table` as floats: table holds rows of n_cols elements of `type`
// (F32, F16 or BF16; Unimplemented for others), tokens n ids in device memory, x [n, n_cols].
Status embed(GgmlType type, const void* table, int64_t n_cols, const int32_t* tokens, int64_t n, float* x);

}  // namespace maas::cuda
