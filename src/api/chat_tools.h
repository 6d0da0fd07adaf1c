// chat_tools.h — function calling on the chat route (see chat_tools.cc). Internal to src/api.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/request_fields.h"
#include "chat/chat_template.h"

namespace maas::api {

struct ToolRequest {
  std::vector<ToolDefinition> tools;
  ToolMode mode = ToolMode::kNone;
  std::vector<std::string> names;  // what an answer may call (kForced: the forced ones)
  std::string tools_json;          // the chat template's `tools`; empty when not rendered (kNone)
  std::shared_ptr<const JsonGrammar> grammar;  // kForced: one call
};

ApiError parse_tools(const Json& body, ToolRequest* out);

// A message's tool fields: role "tool" needs `tool_call_id`; an assistant message may carry
// `tool_calls` (each arguments string must hold a JSON object).
ApiError parse_tool_message_fields(const Json& msg, const std::string& at, ChatMessage* out);

}  // namespace maas::api
