// request_fields.h — the request fields shared by completions and chat (SPEC §2), read and
// range-checked in one place. Internal to src/api (request_parser.h is the public entry).
//
// Limits (README.md "Policy"): n in [1, 128]; best_of in [n, 20] (or == n); stop: at most 4
// non-empty strings of at most kMaxStopBytes; stop_token_ids and logit_bias: at most 1024
// entries, ids in [0, n_vocab); max_tokens and min_tokens in [1|0, 2^31-1] (the context check
// follows once the prompt is tokenized); seed: any int64 (negatives taken as their two's
// complement bits).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/api_request.h"
#include "api/json_fields.h"

namespace maas::api {

inline constexpr int32_t kMaxN = 128;
inline constexpr int32_t kMaxBestOf = 20;
inline constexpr size_t kMaxStop = 4;
inline constexpr size_t kMaxStopBytes = 512;
inline constexpr size_t kMaxTokenIdList = 1024;
inline constexpr int32_t kMaxLogprobs = 20;
inline constexpr size_t kMaxPrompts = 64;

struct CommonFields {
  EngineRequest request;        // every option; id and prompt are filled by the caller
  bool max_tokens_given = false;
  bool include_usage = false;
  bool continuous_usage = false;  // stream_options.continuous_usage_stats (vLLM)
  bool echo = false;            // completions only
  std::string model;            // as sent (empty when absent)
};

// Reads every shared field (and the completions- or chat-specific logprobs / echo forms).
ApiError parse_common_fields(const Json& body, ApiKind kind, const ParseOptions& options, CommonFields* out);

// response_format / guided_json -> r->json_grammar (response_format.cc).
ApiError parse_response_format(const Json& body, EngineRequest* r);

// One function of a chat request's `tools` (chat_tools.cc reads them).
struct ToolDefinition {
  std::string name;
  const Json* parameters = nullptr;  // its JSON Schema (inside the request body); null: any object
  std::string param;                 // "tools[i]", for errors
};
// The grammar of one forced tool call in Llama 3.1's JSON format, {"name": <one of the tools>,
// "parameters": <that tool's parameters>}, the keys in that order (response_format.cc).
ApiError tool_call_grammar(const std::vector<ToolDefinition>& tools, std::shared_ptr<const JsonGrammar>* out);

// Unknown top-level fields: on /v1/* and Azure drop/pass-through they are listed in *ignored;
// on Azure with extra-parameters: error the first one is a 422 parameter_not_supported.
ApiError check_unknown_fields(const Json& body, ApiKind kind, const ParseOptions& options,
                              std::vector<std::string>* ignored);

// prompt_tokens + max_tokens <= n_ctx. When max_tokens was not sent the default (16) is
// lowered to what fits; a prompt that leaves no room is refused either way (400
// context_length_exceeded, OpenAI's message).
ApiError fit_context(ApiKind kind, size_t prompt_tokens, const ParseOptions& options, bool max_tokens_given,
                     int32_t* max_tokens);

// One prompt, tokenized: what the engine gets and what `echo` shows.
struct PromptInput {
  std::vector<int32_t> ids;
  std::string echo_text;
};

// Body -> JSON object, unknown-field policy, shared fields, model name (404 when it names
// another model). *body_json and *fields are filled on success.
ApiError parse_request_prelude(std::string_view body, ApiKind kind, const ParseOptions& options, Json* body_json,
                               CommonFields* fields, std::vector<std::string>* ignored);

// One EngineRequest per prompt (ids, seeds, context fit) and the ResponseOptions.
ApiOr<ParsedRequest> assemble_request(ApiKind kind, const CommonFields& fields, std::vector<PromptInput> prompts,
                                      const ParseOptions& options, std::vector<std::string> ignored);

// Refuses text that cannot fit n_ctx tokens before tokenizing it (needs max_piece_bytes).
ApiError check_text_size(ApiKind kind, size_t text_bytes, const ParseOptions& options);

}  // namespace maas::api
