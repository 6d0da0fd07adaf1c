// model.h — a loaded model as the engine sees it: config, file, backend, forward pass.
//
// The engine, its runner, the worker and the CLI use this interface and load_model(); they do
// not name a model family (llama.h is the one family today). The model owns its backend
// (backend.h: chosen by LoadOptions::device, with the compute threads) and its weights, prepared
// for that backend at load; a KV cache comes from the same backend.
// Thread safety: one thread at a time runs forward() (the model's activation buffers and its
// backend are not shared); config() and file() are immutable.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "gguf/gguf.h"
#include "model/backend.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "model/load_options.h"

namespace maas {

class Model {
 public:
  virtual ~Model() = default;

  virtual const LlamaConfig& config() const = 0;
  virtual const GgufFile& file() const = 0;
  virtual Backend& backend() = 0;

  // Runs the batch, appends its K/V to the cache, and writes n_logit_rows(batch) rows of n_vocab
  // logits to host memory (sequence order; all tokens or the last, per sequence). Token ids must
  // be < n_vocab and every position must fit its block table: the caller validates (CHECKed).
  virtual void forward(const Batch& batch, KvCache& cache, float* logits) = 0;

  // A KV cache for this model in its backend's memory (backend.h allocate_kv_cache).
  StatusOr<std::unique_ptr<KvCache>> allocate_kv_cache(const KvCacheOptions& o) {
    return backend().allocate_kv_cache(config(), o);
  }
};

// Opens a GGUF file and loads the model it holds onto options.device. Errors: the file's
// (gguf.h), the config's and weights' (llama_config.h, llama_weights.h), the options'
// (load_options.h), Unimplemented for a device this build cannot run.
StatusOr<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options = {});
// Takes ownership of an already-open file (the CLI and server inspect it first).
StatusOr<std::unique_ptr<Model>> load_model(std::unique_ptr<GgufFile> file, const LoadOptions& options = {});

}  // namespace maas
