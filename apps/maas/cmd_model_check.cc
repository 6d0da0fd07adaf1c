// cmd_model_check.cc — `maas model check PATH [--output json]`: everything a worker checks when
// it loads a model, without loading the weights: the GGUF structure, the Llama configuration,
// every tensor's presence, type and shape, the tokenizer and the chat template. `maas serve`
// runs it in a child process to refuse a bad file at registration with the loader's own error
// (a hostile file cannot harm the platform process). Exit 0 and a summary, or exit 1 and
// "error: <reason>".
#include <cstdio>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/gguf_names.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "model/llama_weights.h"
#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace maas {

int cmd_model_check(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--output"}, {});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (args->positional().size() != 1) return report_error("usage: maas model check PATH [--output json]", 2);
  auto file = GgufFile::open(args->positional()[0]);
  if (!file.ok()) return report_error(file.status().message());
  const GgufFile& f = **file;
  auto config = LlamaConfig::from_gguf(f);
  if (!config.ok()) return report_error(config.status().message());
  auto weights = LlamaWeights::bind(f, *config);
  if (!weights.ok()) return report_error(weights.status().message());
  auto tok = Tokenizer::from_gguf(f);
  if (!tok.ok()) return report_error(tok.status().message());
  auto tmpl = chat_template_from_gguf(f);
  if (!tmpl.ok()) return report_error(tmpl.status().message());
  nlohmann::ordered_json j;
  j["path"] = f.path();
  j["name"] = config->name;
  j["file_bytes"] = f.file_size();
  j["parameters"] = LlamaConfig::count_parameters(f);
  j["context_length"] = config->n_ctx_train;
  j["vocabulary_size"] = (*tok)->n_vocab();
  j["chat_template"] = f.find(gguf_key::kChatTemplate) != nullptr;
  // What one token costs in the KV cache of a CPU worker with the default --kv-cache-dtype (auto):
  // K and V of every layer. The platform sizes an instance's cache with it and passes the type.
  const KvType kv_type = kv_type_for_backend(std::nullopt, "cpu");
  j["kv_cache_dtype"] = kv_type_name(kv_type);
  j["kv_bytes_per_token"] = static_cast<int64_t>(kv_bytes_per_token(kv_type, *config));
  if (args->get("--output") == "json") {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("ok: %s (%s), %lld parameters, context %d, vocabulary %d%s\n", f.path().c_str(), config->name.c_str(),
                static_cast<long long>(LlamaConfig::count_parameters(f)), config->n_ctx_train, (*tok)->n_vocab(),
                f.find(gguf_key::kChatTemplate) != nullptr ? ", chat template" : "");
  }
  return 0;
}

}  // namespace maas
