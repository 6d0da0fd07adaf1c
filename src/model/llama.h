// llama.h — a loaded Llama model and its forward pass.
//
// LlamaModel owns the mapped GGUF file, the validated config and the bound weights. forward()
// runs one step for a batch of sequences that share every matrix product: the tokens of all
// sequences are stacked into one [n_tokens, n_embd] activation, so each weight is streamed from
// memory once per step however many sequences are running (continuous batching). Attention
// reads each sequence's own positions from the paged KV cache.
//
// Thread safety: forward() is driven by one thread at a time (it uses the model's scratch
// buffers); the ThreadPool parallelises inside it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/gguf.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "model/llama_weights.h"
#include "model/load_options.h"
#include "model/rope.h"

namespace maas {

// One sequence's part of a batch: its new tokens are consecutive in Batch::tokens.
struct BatchSequence {
  const int32_t* block_table = nullptr;  // KV blocks for positions 0.. (see kv_cache.h)
  int32_t n_table = 0;                   // entries in block_table
  int32_t n_past = 0;                    // positions already in the cache
  int32_t n_tokens = 0;                  // new tokens, at positions n_past .. n_past+n_tokens-1
  bool all_logits = false;               // logits for every new token, else only for the last
};

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<BatchSequence> seqs;
};

class LlamaModel {
 public:
  // options: where the re-laid weights live (load_options.h; default: a private copy).
  static StatusOr<std::unique_ptr<LlamaModel>> load(const std::string& path, const LoadOptions& options = {});
  // Takes ownership of an already-open file (the CLI and server inspect it first).
  static StatusOr<std::unique_ptr<LlamaModel>> from_file(std::unique_ptr<GgufFile> file,
                                                         const LoadOptions& options = {});

  const LlamaConfig& config() const { return config_; }
  const GgufFile& file() const { return *file_; }
  const LlamaWeights& weights() const { return weights_; }

  // Number of logit rows forward() writes for this batch.
  static int32_t n_logit_rows(const Batch& batch);
  // Runs the batch, appends its K/V to the cache, and writes n_logit_rows(batch) rows of n_vocab
  // logits (sequence order; all tokens or the last, per sequence). Token ids must be < n_vocab
  // and every position must fit its block table: the caller validates (CHECKed here).
  void forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* logits);

 private:
  LlamaModel() = default;
  void attention(const Batch& batch, int32_t layer, KvCache& cache, ThreadPool& pool);
  void plan_attention(const Batch& batch);  // fills chunks_

  std::unique_ptr<GgufFile> file_;
  LlamaConfig config_;
  LlamaWeights weights_;
  std::unique_ptr<Rope> rope_;

  // Scratch activations, grown on demand (n = tokens in the batch).
  std::vector<float> x_;       // [n, n_embd] residual stream
  std::vector<float> xn_;      // [n, n_embd] normalised input of a sublayer
  std::vector<float> q_;       // [n, n_embd_q]
  std::vector<float> k_;       // [n, n_embd_kv]
  std::vector<float> v_;       // [n, n_embd_kv]
  std::vector<float> attn_;    // [n, n_embd_q]
  std::vector<float> gate_;    // [n, n_ff]
  std::vector<float> up_;      // [n, n_ff]
  std::vector<float> proj_;    // [n, n_embd] output of wo / w_down
  // attention()'s work: consecutive new tokens of one sequence, heaviest (latest) first.
  struct AttentionChunk {
    int32_t seq;       // index in Batch::seqs
    int64_t tok;       // first token's row in the batch
    int32_t pos0;      // its position in the sequence
    int32_t n_tokens;
  };
  std::vector<AttentionChunk> chunks_;
};

}  // namespace maas
