// tool_calls.h — reading the tool calls out of a generated answer, and writing them as OpenAI's
// `tool_calls` (chat responses and stream deltas).
//
// The format is Llama 3.1's JSON tool call, as vLLM's llama3_json parser reads it: the whole
// answer (after whitespace and an optional "<|python_tag|>") is one JSON object
// {"name": <a tool's name>, "parameters": {...}} ("arguments" is taken for "parameters", also as
// a string holding an object), or several such objects separated by ";". Anything else — other
// keys, an unknown name, text around the objects — is an ordinary answer.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/response_json.h"

namespace maas::api {

struct ToolCall {
  std::string name;
  std::string arguments;  // the parameters object as compact JSON text (OpenAI's `arguments`)
};

std::optional<std::vector<ToolCall>> parse_tool_calls(std::string_view text, const std::vector<std::string>& names);

// [{"id": "<id_prefix>_<k>", "type": "function", "function": {"name", "arguments"}}], with
// "index": k on each when `stream` (a delta's form).
OJson tool_calls_json(const std::vector<ToolCall>& calls, const std::string& id_prefix, bool stream);

// "call_<hex of the response id>_<choice index>": unique per response and choice.
std::string tool_call_id_prefix(const std::string& response_id, int64_t choice_index);

}  // namespace maas::api
