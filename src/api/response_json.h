// response_json.h — the JSON pieces every response shares: logprobs in both formats, usage,
// and the one serialisation (dump_json) that guarantees valid UTF-8 output (TESTPLAN E7, L1):
// invalid bytes anywhere in a string become U+FFFD.
//
// Completions logprobs (OpenAI legacy):
//   {"tokens":[s], "token_logprobs":[x|null], "top_logprobs":[{s: x}|null], "text_offset":[n]}
//   top_logprobs holds the top k alternatives plus the sampled token (<= k+1 entries);
//   text_offset is the byte offset of the token in the choice's text (echoed prompt included).
//   A NaN logprob (the first prompt token) is null, and so is its top_logprobs entry.
// Chat logprobs (OpenAI):
//   {"content":[{"token":s, "logprob":x, "bytes":[b], "top_logprobs":[{"token","logprob","bytes"}]}]}
//   `bytes` are the token's raw bytes (a token may hold part of a UTF-8 character; its `token`
//   text then shows U+FFFD).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "tokenizer/tokenizer.h"

namespace maas::api {

using OJson = nlohmann::ordered_json;

// Serialises with invalid UTF-8 replaced by U+FFFD; never throws.
std::string dump_json(const OJson& value);

// Appends `tokens` to a completions logprobs object (created with empty arrays when null);
// *text_offset advances by each token's byte length.
void append_completion_logprobs(const std::vector<TokenLogprobs>& tokens, const Tokenizer& tokenizer,
                                size_t* text_offset, OJson* logprobs);

// Appends `tokens` to a chat logprobs `content` array (created when null).
void append_chat_logprobs(const std::vector<TokenLogprobs>& tokens, const Tokenizer& tokenizer, OJson* content);

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};
OJson usage_json(const Usage& usage);  // {prompt_tokens, completion_tokens, total_tokens}

// Choice index of sequence `sequence` of prompt `prompt` (prompt * n + sequence).
inline int64_t choice_index(size_t prompt, int32_t sequence, int32_t n) {
  return static_cast<int64_t>(prompt) * n + sequence;
}

}  // namespace maas::api
