// request.h — the plain structs between the API layer and the engine core.
//
// The API layer (src/api) turns a validated HTTP request into an EngineRequest: prompt token ids
// and every generation option, already checked against the model (vocabulary, context). The
// engine streams RequestOutput values back through the request's callback, on the engine thread;
// the callback must be quick and must not call back into the engine except cancel().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sampling/json_grammar.h"
#include "sampling/sampler.h"

namespace maas {

struct EngineRequest {
  std::string id;                    // unique per request (the HTTP x-request-id or a generated id)
  std::vector<int32_t> prompt;       // token ids, BOS included when wanted; non-empty
  SamplingParams sampling;           // seed: sequence i of a request uses seed + i
  int32_t max_tokens = 16;           // prompt + max_tokens <= n_ctx (validated by the API layer)
  int32_t min_tokens = 0;            // EOS and stop_token_ids banned before this many tokens
  bool ignore_eos = false;
  std::vector<std::string> stop;     // never in the output (unless include_stop_str_in_output)
  std::vector<int32_t> stop_token_ids;
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
  int32_t n = 1;                     // sequences returned
  int32_t best_of = 1;               // sequences generated (>= n); the n with the highest mean logprob are returned
  bool use_beam_search = false;      // beam width best_of (or n), greedy scores
  bool stream = false;               // deliver deltas as tokens arrive (else one final output)
  int32_t logprobs = -1;             // -1: none; k >= 0: sampled token's logprob + top k
  bool echo_logprobs = false;        // with echo: logprobs of the prompt tokens too
  int32_t priority = 0;              // scheduling: lower runs first (vLLM); ties by arrival
  // response_format: every sequence's text is JSON this grammar accepts (json_constraint.h); a
  // sequence ends ("stop") when its value is closed. Null: unconstrained.
  std::shared_ptr<const JsonGrammar> json_grammar;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct TokenLogprobs {
  int32_t id = 0;
  std::string text;                  // the token's bytes, as text (may be a partial UTF-8 sequence)
  float logprob = 0;                 // NaN for the first prompt token (no logprob)
  std::vector<TokenLogprob> top;     // top alternatives, descending
};

// One choice's new text since the previous output (streaming) or all of it (final).
struct SequenceDelta {
  int32_t index = 0;                   // choice index in [0, n)
  std::string text;                    // complete UTF-8; never part of a stop string
  std::vector<TokenLogprobs> logprobs; // for the tokens this text came from (when requested)
  std::optional<std::string> finish_reason;  // "stop" | "length" | "cancelled" | "error" when done
};

struct RequestOutput {
  std::string id;
  std::vector<SequenceDelta> deltas;
  bool finished = false;               // the last output for this request
  Status error;                        // non-ok: the request failed (finished is true)
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;       // over every generated sequence (best_of counts)
  int32_t cached_prompt_tokens = 0;    // prompt tokens served by the prefix cache (usage details)
  std::vector<TokenLogprobs> prompt_logprobs;  // with echo_logprobs, in the final output
};

using OutputCallback = std::function<void(RequestOutput&&)>;

}  // namespace maas
