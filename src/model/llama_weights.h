// llama_weights.h — the model's tensors bound by name from a GGUF file, shape-checked.
//
// Matrices point into the mapped file (no copy; they stay in their quantized type), or, once
// interleave_for_decode has run, some into their re-laid copies (`storage`). Norm vectors and
// RoPE frequency factors are small and converted to float once.
// Lifetime: borrows the GgufFile, which must outlive it. Immutable after loading.
#pragma once

#include <memory>
#include <vector>

#include "base/status.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/llama_config.h"
#include "model/load_options.h"

namespace maas {

struct LlamaLayerWeights {
  std::vector<float> attn_norm;  // [n_embd]
  WeightMatrix wq;               // [n_embd_q rows][n_embd cols]
  WeightMatrix wk;               // [n_embd_kv][n_embd]
  WeightMatrix wv;               // [n_embd_kv][n_embd]
  WeightMatrix wo;               // [n_embd][n_embd_q]
  std::vector<float> ffn_norm;   // [n_embd]
  WeightMatrix w_gate;           // [n_ff][n_embd]
  WeightMatrix w_up;             // [n_ff][n_embd]
  WeightMatrix w_down;           // [n_embd][n_ff]
};

// Where the re-laid matrices live: none re-laid (the file's layout), a private buffer of this
// process, or a shared weights cache file that this load built or found (weight_cache.h).
enum class RelaidStorage : uint8_t { kNone, kPrivate, kCacheBuilt, kCacheMapped };

struct LlamaWeights {
  WeightMatrix token_embd;        // [n_vocab][n_embd]
  std::vector<float> output_norm; // [n_embd]
  WeightMatrix output;            // [n_vocab][n_embd]; = token_embd when tied
  std::vector<float> rope_freqs;  // [n_rot/2] divisors of the RoPE frequencies; empty = none
  std::vector<LlamaLayerWeights> layers;
  std::shared_ptr<const void> storage;  // owns the matrices re-laid at load: a buffer or a mapping
  RelaidStorage relaid = RelaidStorage::kNone;

  // InvalidArgument naming the tensor for a missing tensor or wrong shape, Unimplemented for
  // a type maas has no kernel for.
  static StatusOr<LlamaWeights> bind(const GgufFile& file, const LlamaConfig& config);
};

// Re-lays the Q8_0 / Q4_0 / Q4_K / Q6_K matrices that the active kernels multiply faster
// interleaved (kernels.h kRows16) into w.storage and drops the file's pages behind them; no-op when none
// would gain or MAAS_INTERLEAVE=0. With options' weights cache, w.storage is the shared cache file
// (built first if needed; load_options.h). InvalidArgument for invalid options; a cache that
// cannot be used is logged and replaced by a private copy. Load-time work, once per model
// (weight_packing.cc).
Status interleave_for_decode(LlamaWeights& w, const GgufFile& file, const LoadOptions& options);

}  // namespace maas
