// backend.h — the device seam: what a backend (CPU, CUDA) implements for the forward pass.
//
// A backend owns the memory the forward pass computes in (activation buffers, the paged KV cache
// in its element type), prepares a model's weights for its kernels once at load, and offers the
// batched ops the forward pass is written in. Every op works on a whole batch ([n, d] rows of
// every sequence at once) so that a device backend launches a few kernels per layer, and every
// op hides how it is parallelised (threads, streams): no thread pool crosses this interface.
//
// Pointers passed to ops are in the backend's memory (Buffer::data(), KV caches it allocated),
// except where an argument says host: Batch (host metadata the backend copies as it needs), the
// norm vectors of LlamaWeights (host today; a device backend uploads them in prepare_weights),
// and the logits the last op writes.
//
// Implementations: cpu_backend.cc (kernels.h: AVX-512 / AVX2 / scalar on a ThreadPool) and, when
// built with MAAS_CUDA, cuda_backend.cc (src/kernels/cuda/: weights, activations and the KV cache
// in device memory; ops queued on the device, errors gathered until finish_step).
// Thread safety: one thread drives a backend (the engine thread); ops run in call order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "base/status.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "model/llama_weights.h"
#include "model/load_options.h"
#include "model/rope.h"

namespace maas {

// n floats in a backend's memory; freed with the Buffer. Contents undefined until written.
class Buffer {
 public:
  virtual ~Buffer() = default;
  float* data() const { return data_; }
  size_t size() const { return size_; }

 protected:
  float* data_ = nullptr;
  size_t size_ = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu", "cuda:0", ...
  virtual std::string name() const = 0;
  // Host threads the ops compute with (CPU), or 1.
  virtual int n_threads() const = 0;

  // --- Weights: once per model, at load --------------------------------------------------------
  // Lays the matrices out for this backend's kernels (CPU: kRows16 interleaving, load_options.h)
  // or copies them to its memory. Errors as interleave_for_decode's.
  virtual Status prepare_weights(LlamaWeights& weights, const GgufFile& file, const LoadOptions& options) = 0;

  // --- Memory ----------------------------------------------------------------------------------
  virtual std::unique_ptr<Buffer> allocate(size_t n_floats) = 0;
  // A cache of o.n_blocks blocks of o.block_size slots for every layer of `config`.
  // Unimplemented for an element type this backend does not store; ResourceExhausted when
  // the memory is not there.
  virtual StatusOr<std::unique_ptr<KvCache>> allocate_kv_cache(const LlamaConfig& config, const KvCacheOptions& o) = 0;
  // The first n_slots slots of block src copied to block dst, in every layer (copy-on-write of a
  // shared prefix block).
  virtual void copy_kv_block(KvCache& cache, int32_t src, int32_t dst, int32_t n_slots) = 0;

  // Device memory of a device backend, for sizing the KV cache and for /metrics.
  struct DeviceMemory {
    size_t total = 0;     // the device's memory
    size_t used = 0;      // in use on it (by every process), now
    size_t weights = 0;   // the model's weights uploaded by this backend
    size_t kv_cache = 0;  // KV caches allocated by this backend
  };
  // False for a host backend (the CPU's), which has no device memory to report.
  virtual bool device_memory(DeviceMemory* out) const {
    (void)out;
    return false;
  }
  // Bytes a KV cache may take on the device: LoadOptions::gpu_memory_fraction of its memory less
  // what is in use now (after the weights); -1 for a host backend (sized by the caller's options).
  virtual int64_t kv_cache_budget_bytes() const { return -1; }

  // --- Steps -----------------------------------------------------------------------------------
  // The forward pass brackets each step's ops with these: begin_step before the first op (a device
  // backend copies the batch's metadata: tokens, positions, block tables, logit rows), finish_step
  // after the last; it returns the first error any op of the step met (ops return nothing), OK for
  // the CPU. An error from a device leaves the device unusable (CUDA errors are sticky).
  // A device backend may capture a decode step's ops as a graph and replay it on later steps with
  // the same token count (step_graph_plan.h): then the ops of a replayed step only name what the
  // graph already holds, and the work runs in finish_step. So a step's ops must depend only on
  // the batch's shape, the cache and the buffers, as the forward pass's do.
  virtual void begin_step(const Batch& batch, const KvCache& cache) {
    (void)batch;
    (void)cache;
  }
  virtual Status finish_step() { return Status::Ok(); }

  // --- Ops (n = tokens in the batch) -----------------------------------------------------------
  // x[t] = table[tokens[t]] as floats                                  [n, n_cols]
  virtual void embed(const WeightMatrix& table, const Batch& batch, float* x) = 0;
  // out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w for each of n rows of d   (out may alias x)
  virtual void rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps) = 0;
  // y = x · wᵀ: x [n, w.n_cols], y [n, w.n_rows] (kernels.h matmul)
  virtual void matmul(const WeightMatrix& w, const float* x, int64_t n, float* y) = 0;
  // Several products of the same x (Q, K, V; gate, up), up to four (kernels.h matmul_many).
  virtual void matmul_many(std::initializer_list<MatmulOut> outs, const float* x, int64_t n) = 0;
  // out = silu(gate) ⊙ up over n floats (out may alias gate)
  virtual void silu_mul(const float* gate, const float* up, float* out, int64_t n) = 0;
  // y += x over n floats
  virtual void add(float* y, const float* x, int64_t n) = 0;

  // --- Fused ops: defaults in terms of the ops above; a backend overrides them when fusing saves
  // a pass over memory (CUDA: the mat-vec kernel's epilogues). Results equal the defaults' up to
  // float rounding order.
  // y += x · wᵀ: the projection and the residual add. scratch [n, w.n_rows] (the default's).
  virtual void matmul_add(const WeightMatrix& w, const float* x, int64_t n, float* y, float* scratch) {
    matmul(w, x, n, scratch);
    add(y, scratch, n * w.n_rows);
  }
  // out = silu(x · gateᵀ) ⊙ (x · upᵀ) [n, gate.n_rows]; up_out [n, up.n_rows] is the default's
  // buffer for the up product (a fused backend may leave it unwritten).
  virtual void matmul_swiglu(const WeightMatrix& gate, const WeightMatrix& up, const float* x, int64_t n, float* out,
                             float* up_out) {
    matmul_many({{&gate, out}, {&up, up_out}}, x, n);
    silu_mul(out, up_out, out, n * gate.n_rows);
  }
  // Rotates q [n, rope.n_head()·head_dim] and k [n, n_head_kv·head_dim] in place for each
  // token's position, then writes k and v [n, n_embd_kv] to the token's cache slot in `layer`.
  virtual void rope_store_kv(const Batch& batch, int32_t layer, const Rope& rope, float* q, float* k, const float* v,
                             KvCache& cache) = 0;
  // Causal attention with grouped KV heads of every new token over its sequence's cached
  // positions (rope_store_kv wrote the batch's own): for token t at position p and head h,
  //   out[t,h] = sum_{j<=p} softmax_j(q[t,h]·K[h/n_gqa, j] / sqrt(head_dim)) V[h/n_gqa, j]
  // q, out: [n, n_head·head_dim] (n_head a multiple of the cache's n_head_kv). The backend plans
  // its own work split.
  virtual void attention(const Batch& batch, int32_t layer, const float* q, int32_t n_head, KvCache& cache,
                         float* out) = 0;
  // out[r] = x[row r] for the rows of the batch that want logits (batch.h), in order.
  virtual void gather_logit_rows(const Batch& batch, const float* x, int64_t d, float* out) = 0;
  // host_logits = x · wᵀ: x [rows, w.n_cols] in backend memory; host_logits [rows, w.n_rows].
  virtual void logits(const WeightMatrix& w, const float* x, int64_t rows, float* host_logits) = 0;
};

// The backend options.device names: "cpu" (with options.n_threads), or "cuda[:N]" (Unimplemented
// in a build without MAAS_CUDA; Unavailable when the device is not there). InvalidArgument for any
// other name.
StatusOr<std::unique_ptr<Backend>> make_backend(const LoadOptions& options);

}  // namespace maas
