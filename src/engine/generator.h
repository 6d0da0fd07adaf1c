// generator.h — one sequence, one model: prefill a prompt, then sample token by token.
//
// What `maas run` uses: the loaded model with its tokenizer and chat template, a KV cache for
// one sequence of up to n_ctx positions, and a sampler. (The server's engine core batches many
// sequences over the same Model; this is the single-stream path.)
// Thread safety: one thread drives a Generator.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "sampling/sampler.h"
#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace maas {

struct GeneratorOptions {
  int n_threads = 0;     // compute threads of the CPU backend; 0 = all cores
  int32_t n_ctx = 4096;  // KV positions; capped at the model's training context
  int32_t n_batch = 512; // prompt tokens per forward pass (chunked prefill)
};

struct GenerateParams {
  SamplingParams sampling;
  int32_t max_tokens = 256;
  bool ignore_eos = false;
};

struct GenerateStats {
  int32_t n_prompt = 0;
  int32_t n_generated = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::string finish_reason;  // "stop" (end of generation token) or "length"
};

class Generator {
 public:
  static StatusOr<std::unique_ptr<Generator>> load(const std::string& model_path, const GeneratorOptions& options);

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatTemplate& chat_template() const { return *template_; }
  int32_t n_ctx() const { return n_ctx_; }

  // Renders messages with the model's chat template (generation prompt added) and tokenizes
  // them with special tokens parsed (the template's own markers).
  StatusOr<std::vector<int32_t>> encode_chat(const std::vector<ChatMessage>& messages) const;

  // Generates after `prompt` (continuing the cache when keep_cache and the prompt extends what is
  // cached, as in an interactive chat). on_text receives UTF-8 text as it becomes complete.
  // OutOfRange when the prompt does not fit the context.
  StatusOr<GenerateStats> generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                   const std::function<void(const std::string&)>& on_text, bool keep_cache = false);

 private:
  Generator() = default;
  Status prefill(const std::vector<int32_t>& tokens, int32_t from, std::vector<float>& logits);
  void step(int32_t token, std::vector<float>& logits);

  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> template_;
  std::unique_ptr<KvCache> cache_;  // declared after model_: freed before its backend
  std::vector<int32_t> block_table_;
  std::vector<int32_t> cached_;  // tokens whose K/V are in the cache, in order
  int32_t n_ctx_ = 0;
  int32_t n_batch_ = 512;
};

}  // namespace maas
