// stream_encoder.h — RequestOutputs -> server-sent events (SPEC §2, TESTPLAN E1–E8).
//
// Framing: every event is "data: <one JSON chunk>\n\n"; the stream ends with
// "data: [DONE]\n\n". Chunks are {"id","object","created","model","choices":[one choice]}
// (+ "usage": null when include_usage; with continuous_usage the usage so far, as vLLM's
// stream_options.continuous_usage_stats), object "text_completion" or "chat.completion.chunk".
// Per choice (index = prompt * n + sequence), in order:
//   chat:         {"index","delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}
//                 once, when the choice's first output arrives;
//   text chunks:  completions {"index","text","logprobs","finish_reason":null},
//                 chat {"index","delta":{"content"},"logprobs","finish_reason":null},
//                 for each delta with text or logprobs (echo: the prompt text leads the
//                 choice's first text chunk);
//   last chunk:   the same with empty text / empty delta and "finish_reason": the reason —
//                 the only chunk of the choice whose finish_reason is not null.
// When every prompt has finished: with include_usage a chunk {"...","choices":[],"usage":{...}},
// then [DONE] — encode() appends both by itself. A failed output (RequestOutput::error) gives
// "data: {"error":{...}}\n\n" then [DONE] (E3); nothing is emitted after [DONE].
// All JSON is valid UTF-8 (dump_json).
// Thread safety: none; one encoder per stream, fed from one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "api/api_error.h"
#include "api/api_request.h"
#include "api/response_json.h"

namespace maas::api {

// Response headers of an event stream (content-type text/event-stream, no caching).
std::vector<std::pair<std::string, std::string>> sse_headers();

// "data: <json>\n\n".
std::string sse_event(const std::string& json);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

class StreamEncoder {
 public:
  StreamEncoder(ResponseOptions options, const Tokenizer& tokenizer, size_t n_prompts);

  // The events for one output of prompt `prompt` (may be empty).
  std::string encode(size_t prompt, const RequestOutput& output);
  // An error event and [DONE] (for failures found outside the outputs); "" once done().
  std::string error(const ApiError& error);
  bool done() const { return done_; }
  Usage usage() const;

 private:
  struct ChoiceState {
    bool started = false;
    bool finished = false;
    size_t text_offset = 0;  // completions logprobs
    bool plain = false;      // tool calling: decided to be ordinary text (nothing held any more)
    std::string held;        // tool calling: text held back while it may be a call
    std::vector<TokenLogprobs> held_logprobs;
  };
  bool may_be_tool_call(const std::string& held) const;
  OJson envelope() const;
  std::string chunk(OJson choice) const;
  OJson text_choice(int64_t index, std::string text, OJson logprobs, const std::string* finish) const;
  std::string encode_delta(size_t prompt, const SequenceDelta& delta);
  std::string finish_stream();

  ResponseOptions options_;
  const Tokenizer& tokenizer_;
  std::vector<std::vector<ChoiceState>> choices_;  // [prompt][sequence]
  std::vector<Usage> usage_;                       // per prompt
  std::vector<bool> prompt_finished_;
  size_t n_finished_ = 0;
  bool done_ = false;
};

}  // namespace maas::api
