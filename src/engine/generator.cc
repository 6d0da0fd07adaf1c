// generator.cc — single-sequence generation over the paged KV cache.
#include "engine/generator.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace maas {
namespace {
constexpr int32_t kBlockSize = 16;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

StatusOr<std::unique_ptr<Generator>> Generator::load(const std::string& path, const GeneratorOptions& o) {
  std::unique_ptr<Generator> g(new Generator());
  LoadOptions load;
  load.n_threads = o.n_threads;
  ASSIGN_OR_RETURN(g->model_, load_model(path, load));
  ASSIGN_OR_RETURN(g->tokenizer_, Tokenizer::from_gguf(g->model_->file()));
  if (g->tokenizer_->n_vocab() != g->model_->config().n_vocab) {
    return invalid_argument("the vocabulary has " + std::to_string(g->tokenizer_->n_vocab()) +
                            " tokens but token_embd.weight has " + std::to_string(g->model_->config().n_vocab) + " rows");
  }
  ASSIGN_OR_RETURN(ChatTemplate tmpl, chat_template_from_gguf(g->model_->file()));
  g->template_ = std::make_unique<ChatTemplate>(std::move(tmpl));
  g->n_ctx_ = std::min(o.n_ctx, g->model_->config().n_ctx_train);
  g->n_batch_ = std::max(1, o.n_batch);
  int32_t n_blocks = (g->n_ctx_ + kBlockSize - 1) / kBlockSize;
  ASSIGN_OR_RETURN(g->cache_, g->model_->allocate_kv_cache({.n_blocks = n_blocks, .block_size = kBlockSize}));
  g->block_table_.resize(static_cast<size_t>(n_blocks));
  std::iota(g->block_table_.begin(), g->block_table_.end(), 0);
  return g;
}

StatusOr<std::vector<int32_t>> Generator::encode_chat(const std::vector<ChatMessage>& messages) const {
  std::string bos = std::string(tokenizer_->token_text(tokenizer_->bos_id()));
  std::string eos = std::string(tokenizer_->token_text(tokenizer_->eos_id()));
  ASSIGN_OR_RETURN(std::string text, template_->render(messages, true, bos, eos));
  // The template writes BOS itself when the model wants it.
  return tokenizer_->encode(text, /*add_special=*/false, /*parse_special=*/true);
}

Status Generator::prefill(const std::vector<int32_t>& tokens, int32_t from, std::vector<float>& logits) {
  const int32_t n = static_cast<int32_t>(tokens.size());
  for (int32_t start = from; start < n; start += n_batch_) {
    int32_t len = std::min(n_batch_, n - start);
    Batch batch;
    batch.tokens.assign(tokens.begin() + start, tokens.begin() + start + len);
    batch.seqs.push_back(BatchSequence{block_table_.data(), static_cast<int32_t>(block_table_.size()), start, len, false});
    model_->forward(batch, *cache_, logits.data());
  }
  return Status::Ok();
}

void Generator::step(int32_t token, std::vector<float>& logits) {
  Batch batch;
  batch.tokens.push_back(token);
  int32_t pos = static_cast<int32_t>(cached_.size());
  batch.seqs.push_back(BatchSequence{block_table_.data(), static_cast<int32_t>(block_table_.size()), pos, 1, false});
  model_->forward(batch, *cache_, logits.data());
  cached_.push_back(token);
}

StatusOr<GenerateStats> Generator::generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                            const std::function<void(const std::string&)>& on_text, bool keep_cache) {
  const int32_t n_vocab = model_->config().n_vocab;
  if (prompt.empty()) return invalid_argument("the prompt is empty");
  for (int32_t id : prompt) {
    if (id < 0 || id >= n_vocab) return invalid_argument("token id " + std::to_string(id) + " is out of vocabulary");
  }
  if (static_cast<int32_t>(prompt.size()) >= n_ctx_) {
    return out_of_range("the prompt has " + std::to_string(prompt.size()) + " tokens; the context holds " +
                        std::to_string(n_ctx_));
  }
  // Reuse the cached prefix (interactive chat appends to the conversation).
  int32_t reuse = 0;
  if (keep_cache) {
    while (reuse < static_cast<int32_t>(cached_.size()) && reuse + 1 < static_cast<int32_t>(prompt.size()) &&
           cached_[static_cast<size_t>(reuse)] == prompt[static_cast<size_t>(reuse)]) {
      ++reuse;
    }
  }
  GenerateStats stats;
  stats.n_prompt = static_cast<int32_t>(prompt.size());
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(prefill(prompt, reuse, logits));
  cached_ = prompt;
  stats.prefill_seconds = seconds_since(t0);

  Sampler sampler(params.sampling);
  IncrementalDecoder decoder(*tokenizer_, /*skip_special=*/true);
  std::vector<int32_t> generated;
  auto t1 = std::chrono::steady_clock::now();
  stats.finish_reason = "length";
  for (int32_t i = 0; i < params.max_tokens; ++i) {
    SampleResult r = sampler.sample(logits.data(), n_vocab, prompt, generated);
    generated.push_back(r.token);
    ++stats.n_generated;
    if (!params.ignore_eos && tokenizer_->is_eog(r.token)) {
      stats.finish_reason = "stop";
      break;
    }
    if (std::string text = decoder.push(r.token); !text.empty()) on_text(text);
    if (static_cast<int32_t>(cached_.size()) + 1 >= n_ctx_) break;
    step(r.token, logits);
  }
  if (std::string rest = decoder.flush(); !rest.empty()) on_text(rest);
  stats.decode_seconds = seconds_since(t1);
  return stats;
}

}  // namespace maas
