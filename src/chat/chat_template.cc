// chat_template.cc — ChatTemplate: parse, render with the standard variables, pick a model's
// template from its GGUF metadata (see chat_template.h).
#include "chat/chat_template.h"

#include <nlohmann/json.hpp>

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
                                           const std::vector<std::pair<std::string, std::string>>& extra_vars,
                                           const std::string& tools_json) const {
  return render_at(-1, messages, add_generation_prompt, bos_token, eos_token, extra_vars, tools_json);
}

namespace {

// A JSON value as a template value (objects keep their key order).
jinja::Value from_json(const nlohmann::ordered_json& j) {
  using jinja::Value;
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::object: {
      jinja::Object obj;
      for (const auto& [k, v] : j.items()) obj.entries.emplace_back(k, from_json(v));
      return Value::object(std::move(obj));
    }
    case nlohmann::ordered_json::value_t::array: {
      jinja::Array a;
      for (const auto& v : j) a.push_back(from_json(v));
      return Value::array(std::move(a));
    }
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    default: return Value::none();
  }
}

// JSON text (checked by the API layer) as a template value; none if it does not parse.
jinja::Value from_json_text(const std::string& text) {
  const auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  return j.is_discarded() ? jinja::Value::none() : from_json(j);
}

}  // namespace

StatusOr<std::string> ChatTemplate::render_at(int64_t now_unix, const std::vector<ChatMessage>& messages,
                                              bool add_generation_prompt, const std::string& bos_token,
                                              const std::string& eos_token,
                                              const std::vector<std::pair<std::string, std::string>>& extra_vars,
                                              const std::string& tools_json) const {
  using jinja::Value;
  jinja::Array list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    jinja::Object obj;
    obj.entries = {{"role", Value::string(m.role)}, {"content", Value::string(m.content)}};
    if (!m.tool_calls.empty()) {
      jinja::Array calls;
      for (const ChatToolCall& c : m.tool_calls) {
        jinja::Object fn;
        fn.entries = {{"name", Value::string(c.name)}, {"arguments", from_json_text(c.arguments)}};
        jinja::Object call;
        call.entries = {{"id", Value::string(c.id)}, {"type", Value::string("function")},
                        {"function", Value::object(std::move(fn))}};
        calls.push_back(Value::object(std::move(call)));
      }
      obj.entries.emplace_back("tool_calls", Value::array(std::move(calls)));
    }
    if (!m.tool_call_id.empty()) obj.entries.emplace_back("tool_call_id", Value::string(m.tool_call_id));
    list.push_back(Value::object(std::move(obj)));
  }
  std::vector<std::pair<std::string, Value>> vars = {
      {"messages", Value::array(std::move(list))},
      {"add_generation_prompt", Value::boolean(add_generation_prompt)},
      {"bos_token", Value::string(bos_token)},
      {"eos_token", Value::string(eos_token)},
  };
  if (!tools_json.empty()) vars.emplace_back("tools", from_json_text(tools_json));
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
