// loaded_model.h — the one loader of a model to run: the weights on their device, the
// tokenizer, the chat template, the name it is served under, and the engine options with the
// maximum context length clamped once. `maas worker`, `maas run`, `maas bench` and
// `maas perplexity` all load through load_served_model().
//
// The context (EngineOptions::n_ctx; the API's max_model_len) is, after load, the smallest of
//   1. the requested EngineOptions::n_ctx;
//   2. the model's training context (general.context_length) — logged at info when it cuts;
//   3. the positions the KV cache holds (n_kv_blocks × kv_block_size, when n_kv_blocks was set
//      below one context) — logged as a warning, since a request must fit the whole cache to
//      ever finish: it is refused up front (400), not retried (503) forever.
// Every later reader (the API's ParseOptions::n_ctx, the engine's validate(), the scheduler)
// sees that one number; resolve_engine_options() on the result changes nothing.
//
// Order: the file is opened, then its tokenizer and chat template are read (cheap, so a bad
// vocabulary or template fails before gigabytes of weights are prepared), then the weights.
// Errors are values: a hostile or broken file gives the reader's Status (gguf.h, tokenizer.h,
// chat_template.h, llama_config.h, llama_weights.h), never a crash.
// Thread safety: load_served_model() is a plain function; the result is owned by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "chat/chat_template.h"
#include "engine/engine.h"
#include "model/llama_config.h"
#include "model/load_options.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace maas {

struct LoaderOptions {
  std::string model_path;
  LoadOptions load;               // device, threads, shared weights cache (load_options.h)
  EngineOptions engine;           // n_ctx requested (<= 0: the training context); KV cache size
  std::string served_model_name;  // empty: general.name, else the file name without extension
  // Empty: the file's tokenizer.chat_template, else the built-in for its vocabulary
  // (chat_template_from_gguf). Otherwise a built-in name ("llama2", "llama3", "llama3.1",
  // "llama3.2") or the path of a Jinja file (at most 1 MiB), which replaces the file's.
  std::string chat_template;
  bool need_chat_template = true;  // false (bench, perplexity): none is read; chat_template null
};

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;  // null when !need_chat_template
  std::string served_name;
  EngineOptions engine;  // resolved; engine.n_ctx is the context, clamped once
  int32_t max_model_len() const { return engine.n_ctx; }
};

// Loads everything above. Errors: the options' (InvalidArgument), the file's, the tokenizer's,
// the chat template's (with the override's name or path in the message), the weights'.
StatusOr<LoadedModel> load_served_model(const LoaderOptions& options);

// Step 2 and 3 of the clamp above (the loader's, exposed for tests): resolve_engine_options()
// and then the KV cache bound, logging what was cut.
EngineOptions fit_engine_options(const EngineOptions& requested, const LlamaConfig& config);

// The chat template for `file` with an optional override (LoaderOptions::chat_template).
StatusOr<ChatTemplate> select_chat_template(const std::string& override_name_or_path, const GgufFile& file);

}  // namespace maas
