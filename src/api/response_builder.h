// response_builder.h — the non-streaming answer: merges a request's RequestOutputs (one
// EngineRequest per prompt) into the completions / chat JSON of SPEC §2.
//
//   completions: {"id","object":"text_completion","created","model",
//                 "choices":[{"index","text","logprobs","finish_reason"}],
//                 "usage":{"prompt_tokens","completion_tokens","total_tokens"}}
//   chat:        {"id","object":"chat.completion","created","model",
//                 "choices":[{"index","message":{"role":"assistant","content"},"logprobs",
//                 "finish_reason"}], "usage":{...}}
// Choice index = prompt * n + sequence. With echo, a choice's text starts with its prompt's
// text and (with logprobs) its logprobs with the prompt's. Usage sums over prompts the latest
// prompt_tokens / completion_tokens each prompt reported (best_of sequences count).
// finish_reason is the engine's ("stop", "length", ...) or null if none arrived.
// Thread safety: none; feed it from one thread at a time (the engine callback is).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api/api_request.h"
#include "api/response_json.h"
#include "base/status.h"

namespace maas::api {

class ResponseAccumulator {
 public:
  // `tokenizer` must outlive the accumulator; n_prompts = ParsedRequest::prompts.size().
  ResponseAccumulator(ResponseOptions options, const Tokenizer& tokenizer, size_t n_prompts);

  // Merges one output of prompt `prompt` (deltas, finish reasons, usage, prompt logprobs).
  void add(size_t prompt, const RequestOutput& output);

  bool finished() const { return n_finished_ == prompts_.size(); }
  const Status& error() const { return error_; }  // the first failure any output reported
  Usage usage() const;

  // The response body (valid UTF-8 JSON). Meaningful once finished() and error().ok().
  std::string body() const;

 private:
  struct Choice {
    std::string text;
    std::vector<TokenLogprobs> logprobs;
    std::string finish_reason;
  };
  struct PromptState {
    std::vector<Choice> choices;  // n
    std::vector<TokenLogprobs> prompt_logprobs;
    Usage usage;
    bool finished = false;
  };
  OJson choice_json(size_t prompt, size_t j) const;

  ResponseOptions options_;
  const Tokenizer& tokenizer_;
  std::vector<PromptState> prompts_;
  size_t n_finished_ = 0;
  Status error_;
};

}  // namespace maas::api
