// llama.h — a loaded Llama model and its forward pass.
//
// LlamaModel owns the mapped GGUF file, the validated config, the bound weights (prepared for
// its backend at load) and the backend. forward() runs one step for a batch of sequences that
// share every matrix product: the tokens of all sequences are stacked into one [n_tokens, n_embd]
// activation, so each weight is streamed from memory once per step however many sequences are
// running (continuous batching). Attention reads each sequence's own positions from the paged KV
// cache. Every op runs on the backend (backend.h), which decides how it is parallelised.
//
// Thread safety: forward() is driven by one thread at a time (it uses the model's activation
// buffers and backend).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "gguf/gguf.h"
#include "model/backend.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "model/llama_weights.h"
#include "model/load_options.h"
#include "model/model.h"
#include "model/rope.h"

namespace maas {

class LlamaModel final : public Model {
 public:
  // options: the device and threads, and where the re-laid weights live (load_options.h).
  static StatusOr<std::unique_ptr<LlamaModel>> load(const std::string& path, const LoadOptions& options = {});
  // Takes ownership of an already-open file (the CLI and server inspect it first).
  static StatusOr<std::unique_ptr<LlamaModel>> from_file(std::unique_ptr<GgufFile> file,
                                                         const LoadOptions& options = {});

  const LlamaConfig& config() const override { return config_; }
  const GgufFile& file() const override { return *file_; }
  Backend& backend() override { return *backend_; }
  const LlamaWeights& weights() const { return weights_; }

  void forward(const Batch& batch, KvCache& cache, float* logits) override;

 private:
  LlamaModel() = default;
  void reserve(int64_t n_tokens);  // grows the activation buffers to n_tokens rows

  std::unique_ptr<GgufFile> file_;
  LlamaConfig config_;
  std::unique_ptr<Backend> backend_;  // declared before weights_: prepared weights may live in it
  LlamaWeights weights_;
  std::unique_ptr<Rope> rope_;

  // Activations in the backend's memory, for up to n_reserved_ tokens (n = tokens in the batch).
  int64_t n_reserved_ = 0;
  std::unique_ptr<Buffer> x_;     // [n, n_embd] residual stream
  std::unique_ptr<Buffer> xn_;    // [n, n_embd] normalised input of a sublayer
  std::unique_ptr<Buffer> q_;     // [n, n_embd_q]
  std::unique_ptr<Buffer> k_;     // [n, n_embd_kv]
  std::unique_ptr<Buffer> v_;     // [n, n_embd_kv]
  std::unique_ptr<Buffer> attn_;  // [n, n_embd_q]
  std::unique_ptr<Buffer> gate_;  // [n, n_ff]
  std::unique_ptr<Buffer> up_;    // [n, n_ff]
  std::unique_ptr<Buffer> proj_;  // [n, n_embd] output of wo / w_down
};

}  // namespace maas
