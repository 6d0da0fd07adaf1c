// chat_tools.cc — OpenAI function calling on the chat route: `tools` and `tool_choice`, and the
// tool fields of messages (assistant `tool_calls`, role "tool" answers).
//
// tools: at most 128 of {"type": "function", "function": {"name", "description"?,
// "parameters"?, "strict"?}}; names match [A-Za-z0-9_-]{1,64} and are distinct. They reach the
// chat template as `tools` (Llama 3.1's template lists them for the model) unless tool_choice is
// "none". tool_choice: "none" | "auto" (the default with tools) | "required" | {"type":
// "function", "function": {"name"}}. "required" and a named function constrain decoding to one
// call in Llama 3.1's JSON format (tool_call_grammar, the tool's `parameters` schema enforced
// like response_format's), so the answer is always a call; "auto" lets the model choose and
// reads a call out of the answer (tool_calls.h). parallel_tool_calls is accepted; a forced
// answer holds one call, an "auto" one may hold several (";"-separated, as vLLM reads them).
#include "api/chat_tools.h"

#include <algorithm>

#include "api/response_json.h"

namespace maas::api {
namespace {

constexpr size_t kMaxTools = 128;

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

ApiError parse_tool(const Json& t, size_t i, ToolDefinition* def, OJson* for_template) {
  const std::string at = "tools[" + std::to_string(i) + "]";
  if (!t.is_object()) return type_error(at, "an object", t);
  const Json* type = find_field(t, "type");
  if (!type || *type != "function") return invalid_request("'" + at + ".type' must be \"function\".", at + ".type");
  const Json* fn = find_field(t, "function");
  if (!fn || !fn->is_object()) return invalid_request("'" + at + ".function' must be an object.", at + ".function");
  const Json* name = find_field(*fn, "name");
  if (!name || !name->is_string() || !valid_name(name->get<std::string>())) {
    return invalid_request("'" + at + ".function.name' must be 1 to 64 letters, digits, '_' or '-'.",
                           at + ".function.name");
  }
  def->name = name->get<std::string>();
  def->param = at;
  OJson f{{"name", def->name}};
  if (const Json* d = find_field(*fn, "description"); d && !d->is_null()) {
    if (!d->is_string()) return type_error(at + ".function.description", "a string", *d);
    f["description"] = *d;
  }
  if (const Json* p = find_field(*fn, "parameters"); p && !p->is_null()) {
    if (!p->is_object()) return type_error(at + ".function.parameters", "an object (a JSON Schema)", *p);
    def->parameters = p;
    f["parameters"] = OJson::parse(p->dump());
  }
  if (const Json* strict = find_field(*fn, "strict"); strict && !strict->is_null() && !strict->is_boolean()) {
    return type_error(at + ".function.strict", "a boolean", *strict);
  }
  *for_template = OJson{{"type", "function"}, {"function", std::move(f)}};
  return ApiError{};
}

}  // namespace

ApiError parse_tools(const Json& body, ToolRequest* out) {
  const Json* tools = find_field(body, "tools");
  const Json* choice = find_field(body, "tool_choice");
  const bool has_tools = tools && !tools->is_null() && !(tools->is_array() && tools->empty());
  if (const Json* p = find_field(body, "parallel_tool_calls"); p && !p->is_null() && !p->is_boolean()) {
    return type_error("parallel_tool_calls", "a boolean", *p);
  }
  if (!has_tools) {
    if (choice && !choice->is_null() && !(choice->is_string() && (*choice == "none" || *choice == "auto"))) {
      return invalid_request("'tool_choice' needs 'tools'.", "tool_choice");
    }
    return ApiError{};
  }
  if (!tools->is_array()) return type_error("tools", "an array", *tools);
  if (tools->size() > kMaxTools) return invalid_request("At most 128 tools are allowed.", "tools");
  OJson for_template = OJson::array();
  for (size_t i = 0; i < tools->size(); ++i) {
    ToolDefinition def;
    OJson t;
    RETURN_IF_API_ERROR(parse_tool((*tools)[i], i, &def, &t));
    for (const ToolDefinition& d : out->tools) {
      if (d.name == def.name) {
        return invalid_request("Tool names must be distinct: '" + def.name + "' appears twice.",
                               "tools[" + std::to_string(i) + "].function.name");
      }
    }
    out->tools.push_back(std::move(def));
    for_template.push_back(std::move(t));
  }
  out->mode = ToolMode::kAuto;
  std::vector<ToolDefinition> forced;
  if (choice && !choice->is_null()) {
    if (choice->is_string() && *choice == "none") {
      out->mode = ToolMode::kNone;
    } else if (choice->is_string() && *choice == "required") {
      out->mode = ToolMode::kForced;
      forced = out->tools;
    } else if (choice->is_object()) {
      const Json* type = find_field(*choice, "type");
      const Json* fn = find_field(*choice, "function");
      const Json* name = fn && fn->is_object() ? find_field(*fn, "name") : nullptr;
      if (!type || *type != "function" || !name || !name->is_string()) {
        return invalid_request("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", "
                               "\"function\": {\"name\": ...}}.",
                               "tool_choice");
      }
      auto it = std::find_if(out->tools.begin(), out->tools.end(),
                             [&](const ToolDefinition& d) { return d.name == name->get<std::string>(); });
      if (it == out->tools.end()) {
        return invalid_request("'tool_choice' names a function that is not among 'tools'.", "tool_choice.function.name");
      }
      out->mode = ToolMode::kForced;
      forced = {*it};
    } else if (!(choice->is_string() && *choice == "auto")) {
      return invalid_request("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", "
                             "\"function\": {\"name\": ...}}.",
                             "tool_choice");
    }
  }
  if (out->mode == ToolMode::kNone) return ApiError{};
  out->tools_json = dump_json(for_template);
  const bool is_forced = out->mode == ToolMode::kForced;
  for (const ToolDefinition& d : is_forced ? forced : out->tools) out->names.push_back(d.name);
  if (is_forced) RETURN_IF_API_ERROR(tool_call_grammar(forced, &out->grammar));
  return ApiError{};
}

ApiError parse_tool_message_fields(const Json& msg, const std::string& at, ChatMessage* out) {
  if (out->role == "tool") {
    const Json* id = find_field(msg, "tool_call_id");
    if (!id || !id->is_string()) {
      return invalid_request("'" + at + ".tool_call_id' is required (a string) in a tool message.", at + ".tool_call_id");
    }
    out->tool_call_id = id->get<std::string>();
    return ApiError{};
  }
  const Json* calls = find_field(msg, "tool_calls");
  if (!calls || calls->is_null()) return ApiError{};
  if (out->role != "assistant") return invalid_request("Only assistant messages carry 'tool_calls'.", at + ".tool_calls");
  if (!calls->is_array()) return type_error(at + ".tool_calls", "an array", *calls);
  if (calls->size() > kMaxTools) return invalid_request("Too many tool calls.", at + ".tool_calls");
  for (size_t j = 0; j < calls->size(); ++j) {
    const Json& c = (*calls)[j];
    const std::string cat = at + ".tool_calls[" + std::to_string(j) + "]";
    if (!c.is_object()) return type_error(cat, "an object", c);
    ChatToolCall call;
    if (const Json* id = find_field(c, "id"); id && !id->is_null()) RETURN_IF_API_ERROR(as_string(*id, cat + ".id", &call.id));
    if (const Json* type = find_field(c, "type"); type && *type != "function") {
      return invalid_request("'" + cat + ".type' must be \"function\".", cat + ".type");
    }
    const Json* fn = find_field(c, "function");
    if (!fn || !fn->is_object()) return invalid_request("'" + cat + ".function' must be an object.", cat + ".function");
    const Json* name = find_field(*fn, "name");
    if (!name || !name->is_string() || name->get<std::string>().empty()) {
      return invalid_request("'" + cat + ".function.name' must be a non-empty string.", cat + ".function.name");
    }
    call.name = name->get<std::string>();
    const Json* args = find_field(*fn, "arguments");
    if (!args || !args->is_string()) {
      return invalid_request("'" + cat + ".function.arguments' must be a string holding a JSON object.",
                             cat + ".function.arguments");
    }
    const Json parsed = Json::parse(args->get<std::string>(), nullptr, false);
    if (!parsed.is_object()) {
      return invalid_request("'" + cat + ".function.arguments' must be a string holding a JSON object.",
                             cat + ".function.arguments");
    }
    call.arguments = parsed.dump(-1, ' ', false, Json::error_handler_t::replace);
    out->tool_calls.push_back(std::move(call));
  }
  return ApiError{};
}

}  // namespace maas::api
