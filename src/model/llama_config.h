// llama_config.h — the hyperparameters of a `llama` architecture GGUF file.
//
// Read from `llama.*` metadata, with the tensor shapes as a second source of truth (vocabulary
// size from token_embd). Everything is validated: counts positive, heads dividing the
// embedding, GQA groups whole, RoPE dimension even and within the head.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf.h"

namespace maas {

struct LlamaConfig {
  std::string name;            // general.name, or empty
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;     // context length the model was trained for
  int32_t n_embd = 0;          // model width
  int32_t n_layer = 0;         // transformer blocks
  int32_t n_head = 0;          // query heads
  int32_t n_head_kv = 0;       // key/value heads (GQA when < n_head)
  int32_t n_ff = 0;            // feed-forward hidden width
  int32_t head_dim = 0;        // n_embd / n_head unless attention.key_length says otherwise
  int32_t n_rot = 0;           // RoPE dimensions per head (= head_dim for Llama)
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool has_rope_freqs = false;  // rope_freqs.weight present (Llama 3.1 scaling)
  bool tied_embeddings = false; // output.weight absent: logits use token_embd

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
  int32_t n_gqa() const { return n_head / n_head_kv; }

  // Unimplemented for architectures other than llama; InvalidArgument naming the key for
  // missing or inconsistent values.
  static StatusOr<LlamaConfig> from_gguf(const GgufFile& file);
  // Parameter count from the tensor shapes.
  static uint64_t count_parameters(const GgufFile& file);
};

}  // namespace maas
