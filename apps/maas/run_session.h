// run_session.h — what `maas run` drives: the loaded model (engine/loaded_model.h) and one
// EngineCore, stepped on the calling thread, fed the same requests the server gets.
//
// A turn is an OpenAI request body (completions or chat, SPEC §2) built from the CLI's flags. It
// goes through the worker's parser (api/request_parser.h: validation, defaults, chat rendering
// through ChatRenderer, stop strings, logprobs, seeds) and then the engine core, exactly as a
// `maas worker` request does; the text deltas reach on_text as the engine produces them. The
// turn also holds the body the worker would answer to a non-streaming request (for --output json).
// Prefix caching keeps the KV blocks of earlier turns, so an interactive chat recomputes only
// the new messages.
// Thread safety: one thread drives a RunSession.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/chat_render.h"
#include "engine/engine_core.h"
#include "engine/loaded_model.h"

namespace maas {

struct RunTurn {
  std::string text;                     // the completion (stop strings removed, as the server does)
  std::vector<TokenLogprobs> logprobs;  // per generated token, when the body asked for logprobs
  std::string finish_reason;            // "stop" | "length" | ...
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_prompt_tokens = 0;  // served by the prefix cache (earlier turns)
  double first_output_seconds = 0;   // from submission to the first token (prefill + one sample)
  double total_seconds = 0;
  int64_t spec_draft_tokens = 0;     // speculative decoding in this turn: draft tokens run
  int64_t spec_accepted_tokens = 0;  // and kept
  std::string response_body;  // the worker's non-streaming response JSON for the body
};

class RunSession {
 public:
  static StatusOr<std::unique_ptr<RunSession>> load(const LoaderOptions& options);
  ~RunSession();

  const LoadedModel& loaded() const { return loaded_; }
  const Tokenizer& tokenizer() const { return *loaded_.tokenizer; }
  int32_t n_ctx() const { return loaded_.max_model_len(); }

  // Prompt token ids of a chat as the server renders them (for the CLI's context arithmetic).
  // InvalidArgument with the server's reason when the template refuses the messages.
  StatusOr<std::vector<int32_t>> render_chat(const std::vector<ChatMessage>& messages) const;

  // Parses `body` as /v1/completions (or /v1/chat/completions when chat) would and runs it to
  // the end. InvalidArgument carrying the server's message when the body is refused; the
  // engine's error when the request fails.
  StatusOr<RunTurn> run(const nlohmann::json& body, bool chat, const std::function<void(std::string_view)>& on_text);

 private:
  explicit RunSession(LoadedModel loaded);
  // Steps the core on this thread, delivering each output, until `finished` is set by a callback.
  Status step_until(const bool& finished);

  LoadedModel loaded_;
  std::unique_ptr<ChatRenderer> renderer_;
  std::unique_ptr<EngineCore> core_;
  int32_t max_piece_bytes_ = 0;
  int turns_ = 0;
};

}  // namespace maas
