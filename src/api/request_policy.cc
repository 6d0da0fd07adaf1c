// request_policy.cc — which fields a request may carry, features refused outright, and the
// context-length rule.
#include <algorithm>
#include <iterator>
#include <string_view>

#include "api/request_fields.h"
#include "api/utf8_text.h"

namespace maas::api {
namespace {

constexpr std::string_view kCommonFields[] = {
    "model", "stream", "stream_options", "max_tokens", "temperature", "top_p", "n", "best_of",
    "stop", "logprobs", "presence_penalty", "frequency_penalty", "repetition_penalty", "top_k", "min_p", "seed",
    "min_tokens", "ignore_eos", "use_beam_search", "stop_token_ids", "skip_special_tokens",
    "include_stop_str_in_output", "logit_bias", "user", "priority",
    // recognised, refused unless empty (check_unsupported_features)
    "allowed_token_ids", "guided_json", "guided_regex", "guided_choice", "guided_grammar", "response_format",
    "tools", "tool_choice"};
constexpr std::string_view kCompletionFields[] = {"prompt", "echo", "suffix"};
constexpr std::string_view kChatFields[] = {
    "messages", "top_logprobs", "max_completion_tokens", "add_generation_prompt", "functions", "function_call",
    "parallel_tool_calls"};

template <size_t N>
bool contains(const std::string_view (&a)[N], std::string_view key) {
  return std::find(std::begin(a), std::end(a), key) != std::end(a);
}

bool known_field(ApiKind kind, std::string_view key) {
  if (contains(kCommonFields, key)) return true;
  return kind == ApiKind::kCompletion ? contains(kCompletionFields, key) : contains(kChatFields, key);
}

ApiError refuse(const char* param, const char* what) {
  return invalid_request(std::string(what) + " is not supported by this server.", param);
}

// Absent, null, [] or "" (what clients send when they mean "none").
bool is_empty_value(const Json* v) {
  return !v || (v->is_array() && v->empty()) || (v->is_string() && v->get_ref<const std::string&>().empty());
}

}  // namespace

ApiError check_unsupported_features(const Json& body, ApiKind kind) {
  for (const char* key : {"allowed_token_ids", "guided_regex", "guided_choice", "guided_grammar"}) {
    if (!is_empty_value(find_field(body, key))) return refuse(key, key);
  }
  // Chat reads tools and tool_choice (chat_tools.cc); completions have no tool calling.
  if (kind == ApiKind::kCompletion && !is_empty_value(find_field(body, "tools"))) return refuse("tools", "tools on /completions");
  const char* route_only = kind == ApiKind::kCompletion ? "suffix" : "functions";
  if (!is_empty_value(find_field(body, route_only))) return refuse(route_only, route_only);
  for (const char* key : {kind == ApiKind::kChat ? "function_call" : "tool_choice"}) {
    const Json* v = find_field(body, key);
    if (v && !(v->is_string() && (*v == "none" || *v == "auto"))) return refuse(key, key);
  }
  return ApiError{};
}

ApiError check_unknown_fields(const Json& body, ApiKind kind, const ParseOptions& options,
                              std::vector<std::string>* ignored) {
  for (const auto& [key, value] : body.items()) {
    if (known_field(kind, key)) continue;
    if (options.azure && options.extra_parameters == ExtraParameters::kError) {
      const std::string name = truncate_utf8(key, 64);
      return unsupported_parameter("Extra parameter '" + name +
                                       "' is not allowed when 'extra-parameters' is missing or 'error'; send the "
                                       "header 'extra-parameters: drop' or 'pass-through' to allow it.",
                                   name);
    }
    if (ignored->size() < 16) ignored->push_back(truncate_utf8(key, 64));
  }
  return ApiError{};
}

ApiError fit_context(ApiKind kind, size_t prompt_tokens, const ParseOptions& options, bool max_tokens_given,
                     int32_t* max_tokens) {
  const int64_t n_ctx = options.n_ctx;
  const int64_t p = static_cast<int64_t>(prompt_tokens);
  if (!max_tokens_given && p < n_ctx) *max_tokens = static_cast<int32_t>(std::min<int64_t>(*max_tokens, n_ctx - p));
  const int64_t c = *max_tokens;
  if (p + c <= n_ctx) return ApiError{};
  const bool chat = kind == ApiKind::kChat;
  std::string m = "This model's maximum context length is " + std::to_string(n_ctx) +
                  " tokens. However, you requested " + std::to_string(p + c) + " tokens (" + std::to_string(p) +
                  (chat ? " in the messages, " : " in the prompt, ") + std::to_string(c) +
                  " in the completion). Please reduce the length of the " + (chat ? "messages" : "prompt") +
                  " or completion.";
  return context_length_exceeded(std::move(m), chat ? "messages" : "prompt");
}

}  // namespace maas::api
