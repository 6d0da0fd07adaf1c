// loaded_model.cc — load_served_model: file, tokenizer, chat template, weights, context (see
// loaded_model.h).
#include "engine/loaded_model.h"

#include <algorithm>
#include <filesystem>

#include "base/file_util.h"
#include "base/log.h"
#include "engine/engine_core.h"
#include "gguf/gguf.h"

namespace maas {
namespace {

constexpr size_t kMaxTemplateFileBytes = size_t{1} << 20;

std::string default_served_name(const std::string& path, const LlamaConfig& config) {
  return config.name.empty() ? std::filesystem::path(path).stem().string() : config.name;
}

}  // namespace

StatusOr<ChatTemplate> select_chat_template(const std::string& name_or_path, const GgufFile& file) {
  if (name_or_path.empty()) return chat_template_from_gguf(file);
  std::string source(builtin_chat_template(name_or_path));
  if (source.empty()) {
    StatusOr<std::string> text = read_file(name_or_path, kMaxTemplateFileBytes);
    if (!text.ok()) {
      return text.status().with_context(
          "--chat-template " + name_or_path +
          " (neither a built-in name: llama2, llama3, llama3.1, llama3.2, nor a readable file)");
    }
    source = std::move(*text);
  }
  StatusOr<ChatTemplate> tmpl = ChatTemplate::parse(source);
  if (!tmpl.ok()) return tmpl.status().with_context("--chat-template " + name_or_path);
  return tmpl;
}

EngineOptions fit_engine_options(const EngineOptions& options, const LlamaConfig& config) {
  EngineOptions requested = options;
  if (requested.n_ctx <= 0) requested.n_ctx = config.n_ctx_train;
  EngineOptions r = resolve_engine_options(requested, config);
  if (r.n_ctx < requested.n_ctx) {
    LOG_INFO("context: %d positions (requested %d; the model was trained for %d)", r.n_ctx, requested.n_ctx,
             config.n_ctx_train);
  }
  // A request must fit the whole KV cache to ever finish: advertise and enforce the smaller of
  // the context and the cache, so one that cannot fit gets a 400 up front, not a retryable 503.
  const int64_t cache_positions = static_cast<int64_t>(r.n_kv_blocks) * r.kv_block_size;
  if (cache_positions < r.n_ctx) {
    LOG_WARN("the KV cache holds %lld positions, fewer than the context %d: max_model_len is %lld",
             static_cast<long long>(cache_positions), r.n_ctx, static_cast<long long>(cache_positions));
    r.n_ctx = static_cast<int32_t>(cache_positions);
  }
  return r;
}

StatusOr<LoadedModel> load_served_model(const LoaderOptions& o) {
  RETURN_IF_ERROR(o.load.validate());
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::open(o.model_path));
  LoadedModel m;
  ASSIGN_OR_RETURN(m.tokenizer, Tokenizer::from_gguf(*file));
  if (o.need_chat_template) {
    ASSIGN_OR_RETURN(ChatTemplate tmpl, select_chat_template(o.chat_template, *file));
    m.chat_template = std::make_unique<ChatTemplate>(std::move(tmpl));
  }
  ASSIGN_OR_RETURN(m.model, load_model(std::move(file), o.load));
  const LlamaConfig& config = m.model->config();
  m.served_name = o.served_model_name.empty() ? default_served_name(o.model_path, config) : o.served_model_name;
  m.engine = fit_engine_options(o.engine, config);
  return m;
}

}  // namespace maas
