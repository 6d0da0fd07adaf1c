// synthetic_model.h — writes Llama-architecture GGUF models with random weights.
//
// The embedded default model, the test models (every weight type, Llama 2 and Llama 3
// vocabularies, tied or separate output, Llama 3.1 RoPE factors) and the 1B-shape benchmark
// model are all made here. The caller puts the tokenizer metadata into the writer first
// (import_hf_tokenizer, or copied from another GGUF); this adds the architecture keys and the
// tensors, named and shaped as llama.cpp's converter writes them. Weights are Gaussian with
// per-matrix scales chosen so activations stay O(1) and the logits are peaked enough that
// greedy decoding is stable across weight types.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf_writer.h"

namespace maas {

struct SyntheticModelOptions {
  std::string name = "maas-tiny-llama3";
  int32_t n_embd = 256;
  int32_t n_layer = 4;
  int32_t n_head = 8;
  int32_t n_head_kv = 4;
  int32_t n_ff = 768;
  int32_t n_ctx = 8192;
  float rope_freq_base = 500000.0f;
  float rms_eps = 1e-5f;
  bool tied_embeddings = true;
  bool llama31_rope_scaling = false;  // write rope_freqs.weight as Llama 3.1's converter does
  // Weight type of the matrices: "f32" "f16" "bf16" "q8_0" "q4_0" "q4_k" "q6_k" (one type for
  // every matrix, like llama-quantize --pure) or "q4_k_m" (llama.cpp's mix: Q6_K for the output
  // and for attn_v / ffn_down in the layers that get more bits, Q4_K elsewhere).
  std::string type = "f16";
  uint64_t seed = 42;
  // Scale of the attention-output and feed-forward-down matrices. With random weights and tied
  // embeddings, a small residual update leaves each position's logits dominated by its own input
  // embedding (the model repeats its last token); a larger one makes the text vary.
  float out_scale = 4.0f;
  // Scale of the query and key matrices (entries N(0, qk_scale^2 / n_embd)): the attention
  // scores' standard deviation grows as its square (2: about 4, near-argmax softmax, which makes
  // a deep random network sensitive to rounding; 1: about 1).
  float qk_scale = 2.0f;
  int n_threads = 0;  // quantization threads; 0 = all cores
};

// Shapes by name: "tiny" (the embedded default above), "1b" (Llama 3.2 1B: 2048 embd, 16 blocks,
// 32 heads, 8 KV heads, 8192 ff, 131072 context), "8b" (Llama 3 8B: 4096 embd, 32 blocks, 32 heads,
// 8 KV heads, 14336 ff, untied output), "test" (64 embd, 2 blocks, 4 heads, 2 KV heads,
// 256 ff) for unit tests.
StatusOr<SyntheticModelOptions> synthetic_preset(const std::string& name);

// Adds architecture metadata and random tensors for a vocabulary of n_vocab tokens.
Status add_synthetic_llama(const SyntheticModelOptions& options, int32_t n_vocab, GgufWriter& writer);

// llama.cpp's general.file_type number for a type name (informational metadata).
int32_t file_type_for(const std::string& type);

}  // namespace maas
