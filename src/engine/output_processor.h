// output_processor.h — one sequence's generated tokens to the text a client may see.
//
// Detokenizes incrementally (IncrementalDecoder: a UTF-8 character is never split), drops
// special tokens when skip_special_tokens, and enforces stop strings: text is held back while
// its tail could still be the beginning of a stop string, so no byte of a stop string is ever
// delivered, even when it spans several tokens; on a match the text ends before the stop string
// (or after it with include_stop_str_in_output). Collects per-token logprobs when asked; they
// are delivered with the text of the same call (or at finish).
// Thread safety: one per sequence, driven by the engine thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/request.h"
#include "tokenizer/tokenizer.h"

namespace maas {

struct OutputOptions {
  std::vector<std::string> stop;
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
};

class OutputProcessor {
 public:
  OutputProcessor(const Tokenizer& tokenizer, OutputOptions options);

  // Appends the text of `token` (unless emit_text is false: EOS, or a special stop token).
  // check_stop: look for stop strings (false below min_tokens). Returns true when a stop string
  // matched: the sequence is finished with "stop" and later push()es are ignored.
  bool push(int32_t token, bool emit_text, bool check_stop);
  // Records a token's logprobs (delivered with the next take()).
  void add_logprobs(TokenLogprobs lp) { pending_logprobs_.push_back(std::move(lp)); }
  // Ends the text: flushes the decoder unless a stop string already ended it.
  void finish();

  // The text (and logprobs) not yet delivered; with `final` everything (after finish()).
  void take(SequenceDelta* delta);
  const std::string& text() const { return text_; }

 private:
  size_t held_back() const;

  OutputOptions options_;
  IncrementalDecoder decoder_;
  size_t max_stop_ = 0;
  std::string text_;       // all text so far (after a stop match: cut at it)
  size_t n_sent_ = 0;      // bytes of text_ delivered
  bool stopped_ = false;   // a stop string matched
  bool finished_ = false;
  std::vector<TokenLogprobs> pending_logprobs_;
};

}  // namespace maas
