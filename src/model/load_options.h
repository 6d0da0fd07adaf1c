// load_options.h — where a model is loaded (device, compute threads) and how its weights are
// laid out in memory.
//
// Default (no cache): the Q8_0 / Q4_0 / Q4_K / Q6_K matrices that the decode kernels stream
// faster re-laid (kernels.h kRows16) are copied into a private buffer of each process, as the
// rest of the weights are read from the mapped GGUF file.
//
// Shared weights cache (weights_cache_dir and weights_sha256 both set): the re-laid copy lives in
// a file of that directory, <sha256>.<variant>.v1.relaid (weight_cache.h draws the format), that
// the first process to load the model builds and every process then maps read-only and shared,
// so N instances of one model on a machine hold one copy. The SHA-256 of the GGUF file is the
// caller's (the platform computes it once, when the model is registered); the loader trusts it
// as the file's identity and checks only the file's size and a fingerprint of the re-laid
// tensors' bytes against it. A cache that cannot be used (unwritable directory, full disk,
// another process still building it after weights_cache_wait_ms) is logged and the load falls
// back to the private copy: the cache never makes a load fail or change a logit.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace maas {

struct LoadOptions {
  std::string device = "cpu";     // the backend (backend.h make_backend): "cpu" or "cuda[:N]"
  int n_threads = 0;              // compute threads of the CPU backend; 0 = every usable CPU
  // A device backend's share of its device's memory, weights and KV cache together: the KV cache
  // gets fraction x total - (used after the weights) bytes (Backend::kv_cache_budget_bytes).
  double gpu_memory_fraction = 0.9;
  // A device backend replays decode steps as captured CUDA graphs (model/step_graph_plan.h);
  // off: every step launches its kernels one by one (for A/B runs and as a way out).
  bool cuda_graphs = true;
  std::string weights_cache_dir{};  // created if missing; empty: no cache
  std::string weights_sha256{};     // 64 hex digits (either case): SHA-256 of the GGUF file
  int weights_cache_wait_ms = 600000;  // longest wait for another process building the cache file

  // InvalidArgument when only one of the two is set, the SHA-256 is not 64 hex digits, the
  // device is not "cpu", "cuda" or "cuda:N", or gpu_memory_fraction is not in (0, 1].
  Status validate() const;
  bool uses_weights_cache() const { return !weights_cache_dir.empty(); }
};

// "on" / "off" (a flag's value, e.g. --cuda-graphs); InvalidArgument for anything else.
StatusOr<bool> parse_on_off(const std::string& value);

// A parsed LoadOptions::device: "cpu" (index 0), "cuda" (index 0) or "cuda:N".
struct DeviceName {
  enum Kind : uint8_t { kCpu, kCuda } kind = kCpu;
  int index = 0;
};
// InvalidArgument naming the accepted forms for anything else.
StatusOr<DeviceName> parse_device(const std::string& device);

}  // namespace maas
