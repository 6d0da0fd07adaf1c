// chat_request.cc — POST /v1/chat/completions and /chat/completions: `messages`.
#include <string>
#include <vector>

#include "api/chat_tools.h"
#include "api/request_fields.h"
#include "api/request_parser.h"

namespace maas::api {
namespace {

constexpr size_t kMaxMessages = 4096;

// content: a string, or [{"type":"text","text":s}, ...] joined with "\n" (vLLM's joining).
ApiError parse_content(const Json& msg, const std::string& at, bool may_be_null, std::string* out) {
  const Json* c = find_field(msg, "content");
  const std::string param = at + ".content";
  if ((!c || c->is_null()) && may_be_null) return ApiError{};
  if (!c) return invalid_request("'" + param + "' is required.", param);
  if (c->is_string()) {
    *out = c->get<std::string>();
    return ApiError{};
  }
  if (!c->is_array()) return type_error(param, "a string or an array of content parts", *c);
  for (size_t j = 0; j < c->size(); ++j) {
    const Json& part = (*c)[j];
    const std::string pp = param + "[" + std::to_string(j) + "]";
    if (!part.is_object()) return type_error(pp, "an object", part);
    const Json* type = find_field(part, "type");
    if (!type || !type->is_string() || *type != "text") {
      return invalid_request("Only content parts of type 'text' are supported.", pp + ".type");
    }
    const Json* text = find_field(part, "text");
    if (!text) return invalid_request("'" + pp + ".text' is required.", pp + ".text");
    std::string t;
    RETURN_IF_API_ERROR(as_string(*text, pp + ".text", &t));
    if (j > 0) out->push_back('\n');
    out->append(t);
  }
  return ApiError{};
}

ApiError parse_message(const Json& msg, size_t i, ChatMessage* out) {
  const std::string at = "messages[" + std::to_string(i) + "]";
  if (!msg.is_object()) return type_error(at, "an object", msg);
  const Json* role = find_field(msg, "role");
  if (!role || !role->is_string() || (*role != "system" && *role != "user" && *role != "assistant" && *role != "tool")) {
    return invalid_request("'" + at + ".role' must be one of 'system', 'user', 'assistant', 'tool'.", at + ".role");
  }
  out->role = role->get<std::string>();
  RETURN_IF_API_ERROR(parse_tool_message_fields(msg, at, out));
  // An assistant message that made tool calls may have no content (OpenAI sends null).
  return parse_content(msg, at, !out->tool_calls.empty(), &out->content);
}

ApiError parse_messages(const Json& body, std::vector<ChatMessage>* out, size_t* content_bytes) {
  const Json* m = find_field(body, "messages");
  if (!m) return invalid_request("'messages' is required.", "messages");
  if (!m->is_array()) return type_error("messages", "an array", *m);
  if (m->empty()) return invalid_request("'messages' must not be empty.", "messages");
  if (m->size() > kMaxMessages) return invalid_request("Too many messages.", "messages");
  out->resize(m->size());
  for (size_t i = 0; i < m->size(); ++i) {
    RETURN_IF_API_ERROR(parse_message((*m)[i], i, &(*out)[i]));
    *content_bytes += (*out)[i].content.size();
  }
  return ApiError{};
}

}  // namespace

ApiOr<ParsedRequest> parse_chat_request(std::string_view body, const ParseOptions& options,
                                        const ChatRenderer& renderer) {
  CHECK(options.tokenizer != nullptr);
  Json json;
  CommonFields fields;
  std::vector<std::string> ignored;
  RETURN_IF_API_ERROR(parse_request_prelude(body, ApiKind::kChat, options, &json, &fields, &ignored));
  std::vector<ChatMessage> messages;
  size_t content_bytes = 0;
  RETURN_IF_API_ERROR(parse_messages(json, &messages, &content_bytes));
  bool add_generation_prompt = true;
  RETURN_IF_API_ERROR(get_bool(json, "add_generation_prompt", &add_generation_prompt));
  RETURN_IF_API_ERROR(check_text_size(ApiKind::kChat, content_bytes, options));
  ToolRequest tools;
  RETURN_IF_API_ERROR(parse_tools(json, &tools));
  if (tools.grammar) {
    if (fields.request.json_grammar) {
      return invalid_request("'response_format' cannot be combined with a forced tool call ('tool_choice').",
                             "response_format");
    }
    if (fields.request.use_beam_search) return invalid_request("Beam search cannot make a forced tool call.", "use_beam_search");
    fields.request.json_grammar = tools.grammar;
  }
  auto rendered = renderer.render(messages, add_generation_prompt, options.template_vars, tools.tools_json);
  if (!rendered.ok()) return invalid_request(rendered.error().message, rendered.error().param);
  std::vector<PromptInput> prompts(1);
  prompts[0].ids = std::move(rendered.value().tokens);
  if (prompts[0].ids.empty()) return invalid_request("The rendered prompt is empty.", "messages");
  ApiOr<ParsedRequest> parsed = assemble_request(ApiKind::kChat, fields, std::move(prompts), options, std::move(ignored));
  if (parsed.ok()) {
    parsed->response.tool_mode = tools.mode;
    parsed->response.tool_names = std::move(tools.names);
  }
  return parsed;
}

}  // namespace maas::api
