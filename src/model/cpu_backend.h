// cpu_backend.h — the CPU backend: kernels.h's ops (AVX-512 / AVX2 / scalar, chosen at run
// time) on a ThreadPool of the process's own, host buffers, and a KV cache in host memory (F32,
// F16 or Q8_0: cpu_kv_cache.h).
// See backend.h for the contract. Internal to src/model: others reach it through make_backend.
#pragma once

#include <memory>

#include "model/backend.h"

namespace maas {

// n_threads <= 0: every CPU this process may use.
std::unique_ptr<Backend> make_cpu_backend(int n_threads);

}  // namespace maas
