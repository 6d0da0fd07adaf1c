// api_request.h — what parsing a completions / chat request produces, and what it needs.
//
// The worker calls parse_completion_request / parse_chat_request (request_parser.h) with the
// raw body and ParseOptions describing the served model. The result is a ParsedRequest: one
// EngineRequest per prompt (a batch `prompt` gives several; chat always one), already
// validated against the vocabulary and the context, plus ResponseOptions that the response
// builders (response_builder.h, stream_encoder.h) need.
//
// Choice indices: prompt i, sequence j (j in [0, n)) is choice i * n + j (OpenAI's order).
// Engine ids: "<request_id>" for one prompt, "<request_id>-<i>" for prompt i of a batch.
// Seeds: prompt i gets seed + i * best_of, so no two generated sequences share a seed.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/request.h"

namespace maas {
class Tokenizer;
}  // namespace maas

namespace maas::api {

enum class ApiKind { kCompletion, kChat };

// The Azure `extra-parameters` header: what to do with fields this server does not know.
enum class ExtraParameters {
  kError,        // default: 422 parameter_not_supported naming the field
  kDrop,         // "drop" or "ignore": the fields are removed
  kPassThrough,  // "pass-through": kept (there is no backend to pass them to: ignored)
};

struct ParseOptions {
  const Tokenizer* tokenizer = nullptr;         // required; outlives the call
  int32_t n_vocab = 0;      // token ids must be below this: min(tokenizer, model) vocabulary
  int32_t n_ctx = 0;        // prompt tokens + max_tokens <= n_ctx
  std::string model_name;   // the served model: `model` naming anything else -> 404
  bool azure = false;       // an Azure AI Model Inference route (/completions, /chat/completions)
  ExtraParameters extra_parameters = ExtraParameters::kError;  // Azure routes only
  bool default_ignore_eos = false;       // deployment default for `ignore_eos` (SPEC §2 note)
  bool parse_special_in_prompt = false;  // completions text prompts: recognise "<|...|>" markers
  // Longest token piece in bytes (max_piece_bytes(tokenizer)); > 0 lets a prompt whose text
  // cannot fit n_ctx tokens be refused before tokenizing it (TESTPLAN D6).
  int32_t max_piece_bytes = 0;
  std::string request_id = "req";  // EngineRequest ids derive from it
  std::string response_id;         // "cmpl-..." / "chatcmpl-..."; empty: generated
  int64_t created = 0;             // response `created` (unix seconds); 0: now
  std::vector<std::pair<std::string, std::string>> template_vars;  // extra chat template variables
};

// Function calling on the chat route (chat_tools.cc): whether an answer may be tool calls.
enum class ToolMode {
  kNone,    // no tools, or tool_choice "none": answers are text
  kAuto,    // tool_choice "auto": an answer that is (only) Llama 3.1 JSON tool calls becomes tool_calls
  kForced,  // "required" or a named function: decoding is constrained to one call
};

struct ResponseOptions {
  ApiKind kind = ApiKind::kCompletion;
  std::string id;         // "cmpl-<hex>" or "chatcmpl-<hex>"
  int64_t created = 0;
  std::string model;      // echoed as `model`
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // stream_options.continuous_usage_stats (vLLM): with include_usage, every chunk carries the
  // usage so far instead of null, so a stream cut short still tells what it generated.
  bool continuous_usage = false;
  int32_t n = 1;               // choices per prompt
  int32_t logprobs = -1;       // -1: no logprobs; k >= 0: top-k alternatives per token
  bool echo = false;           // completions: prompt text (and prompt logprobs) first
  std::vector<std::string> echo_text;  // per prompt (when echo)
  ToolMode tool_mode = ToolMode::kNone;
  std::vector<std::string> tool_names;  // the functions an answer may call
};

struct ParsedRequest {
  std::vector<EngineRequest> prompts;  // one per prompt, in order
  ResponseOptions response;
  std::vector<std::string> ignored_fields;  // unknown top-level fields that were ignored/dropped
  // Tokens to reserve against rate limits: sum of prompt + max_tokens * max(n, best_of).
  int64_t reserved_tokens = 0;
};

}  // namespace maas::api
