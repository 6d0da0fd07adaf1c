// tool_calls.cc — Llama 3.1 JSON tool calls in an answer -> OpenAI tool_calls.
#include "api/tool_calls.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace maas::api {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

size_t skip_ws(std::string_view t, size_t pos) {
  while (pos < t.size() && is_ws(t[pos])) ++pos;
  return pos;
}

// Just past the JSON object that starts at text[pos] (brackets counted outside strings; the
// object is validated when parsed), or 0 when there is none.
size_t object_end(std::string_view text, size_t pos) {
  if (pos >= text.size() || text[pos] != '{') return 0;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

// One call object's text -> a ToolCall, if it is exactly {"name", "parameters" | "arguments"}.
std::optional<ToolCall> read_call(std::string_view text, const std::vector<std::string>& names) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.size() != 2) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return std::nullopt;
  if (std::find(names.begin(), names.end(), name->get<std::string>()) == names.end()) return std::nullopt;
  auto params = j.find("parameters");
  if (params == j.end()) params = j.find("arguments");
  if (params == j.end()) return std::nullopt;
  nlohmann::json args = *params;
  if (args.is_string()) args = nlohmann::json::parse(args.get<std::string>(), nullptr, false);
  if (!args.is_object()) return std::nullopt;
  return ToolCall{name->get<std::string>(), args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace

std::optional<std::vector<ToolCall>> parse_tool_calls(std::string_view text, const std::vector<std::string>& names) {
  constexpr std::string_view kPythonTag = "<|python_tag|>";
  size_t pos = skip_ws(text, 0);
  if (text.substr(pos, kPythonTag.size()) == kPythonTag) pos = skip_ws(text, pos + kPythonTag.size());
  std::vector<ToolCall> calls;
  while (pos < text.size()) {
    const size_t end = object_end(text, pos);
    if (end == 0) return std::nullopt;
    std::optional<ToolCall> call = read_call(text.substr(pos, end - pos), names);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
    pos = skip_ws(text, end);
    if (pos < text.size()) {
      if (text[pos] != ';') return std::nullopt;
      pos = skip_ws(text, pos + 1);
    }
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

OJson tool_calls_json(const std::vector<ToolCall>& calls, const std::string& id_prefix, bool stream) {
  OJson out = OJson::array();
  for (size_t k = 0; k < calls.size(); ++k) {
    OJson c;
    if (stream) c["index"] = k;
    c["id"] = id_prefix + "_" + std::to_string(k);
    c["type"] = "function";
    c["function"] = OJson{{"name", calls[k].name}, {"arguments", calls[k].arguments}};
    out.push_back(std::move(c));
  }
  return out;
}

std::string tool_call_id_prefix(const std::string& response_id, int64_t choice_index) {
  const size_t dash = response_id.rfind('-');
  const std::string hex = dash == std::string::npos ? response_id : response_id.substr(dash + 1);
  return "call_" + hex + "_" + std::to_string(choice_index);
}

}  // namespace maas::api
