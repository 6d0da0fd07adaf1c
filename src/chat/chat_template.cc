// chat_template.cc — ChatTemplate: parse, render with the standard variables, pick a model's
// template from its GGUF metadata (see chat_template.h).
#include "chat/chat_template.h"

#include "gguf/gguf.h"
#include "gguf/gguf_names.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_parser.h"

namespace maas {

namespace {

constexpr size_t kMaxSourceBytes = 1 << 20;
constexpr const char* kChatTemplateKey = "tokenizer.chat_template";

}  // namespace

StatusOr<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  if (source.size() > kMaxSourceBytes) {
    return invalid_argument("chat template is " + std::to_string(source.size()) + " bytes; the limit is " +
                            std::to_string(kMaxSourceBytes));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const jinja::Program> program, jinja::parse_program(source));
  return ChatTemplate(std::move(program));
}

const std::string& ChatTemplate::source() const { return program_->source; }

StatusOr<std::string> ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                           const std::string& bos_token, const std::string& eos_token,
                                           const std::vector<std::pair<std::string, std::string>>& extra_vars) const {
  return render_at(-1, messages, add_generation_prompt, bos_token, eos_token, extra_vars);
}

StatusOr<std::string> ChatTemplate::render_at(int64_t now_unix, const std::vector<ChatMessage>& messages,
                                              bool add_generation_prompt, const std::string& bos_token,
                                              const std::string& eos_token,
                                              const std::vector<std::pair<std::string, std::string>>& extra_vars) const {
  using jinja::Value;
  jinja::Array list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    jinja::Object obj;
    obj.entries = {{"role", Value::string(m.role)}, {"content", Value::string(m.content)}};
    list.push_back(Value::object(std::move(obj)));
  }
  std::vector<std::pair<std::string, Value>> vars = {
      {"messages", Value::array(std::move(list))},
      {"add_generation_prompt", Value::boolean(add_generation_prompt)},
      {"bos_token", Value::string(bos_token)},
      {"eos_token", Value::string(eos_token)},
  };
  for (const auto& [k, v] : extra_vars) {
    bool replaced = false;
    for (auto& [name, value] : vars) {
      if (name == k) {
        value = Value::string(v);
        replaced = true;
      }
    }
    if (!replaced) vars.emplace_back(k, Value::string(v));
  }
  jinja::RenderOptions options;
  options.now_unix = now_unix;
  return jinja::render_program(*program_, vars, options);
}

StatusOr<ChatTemplate> chat_template_from_gguf(const GgufFile& file) {
  StatusOr<std::string> text = file.get_string(kChatTemplateKey);
  if (text.ok()) {
    StatusOr<ChatTemplate> tmpl = ChatTemplate::parse(*text);
    if (!tmpl.ok()) return tmpl.status().with_context(kChatTemplateKey);
    return tmpl;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status().with_context(kChatTemplateKey);
  StatusOr<std::string> model = file.get_string(gguf_key::kTokModel);
  if (!model.ok()) return not_found("no tokenizer.chat_template and no tokenizer.ggml.model to choose a built-in one");
  std::string_view builtin = *model == "gpt2" ? builtin_chat_template("llama3")
                             : *model == "llama" ? builtin_chat_template("llama2")
                                                 : std::string_view();
  if (builtin.empty()) return not_found("no tokenizer.chat_template and no built-in template for tokenizer model '" + *model + "'");
  return ChatTemplate::parse(builtin);
}

}  // namespace maas
