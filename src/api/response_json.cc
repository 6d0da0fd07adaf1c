// response_json.cc — logprobs formats, usage, UTF-8-safe serialisation.
#include "api/response_json.h"

#include <cmath>

#include "api/utf8_text.h"

namespace maas::api {
namespace {

OJson logprob_value(float x) {
  if (!std::isfinite(x)) return x < 0 && !std::isnan(x) ? OJson(-9999.0) : OJson(nullptr);
  return static_cast<double>(x);
}

OJson byte_array(const std::string& s) {
  OJson a = OJson::array();
  for (unsigned char c : s) a.push_back(static_cast<int>(c));
  return a;
}

}  // namespace

std::string dump_json(const OJson& value) { return value.dump(-1, ' ', false, OJson::error_handler_t::replace); }

void append_completion_logprobs(const std::vector<TokenLogprobs>& tokens, const Tokenizer& tokenizer,
                                size_t* text_offset, OJson* logprobs) {
  if (logprobs->is_null()) {
    *logprobs = OJson{{"tokens", OJson::array()},
                      {"token_logprobs", OJson::array()},
                      {"top_logprobs", OJson::array()},
                      {"text_offset", OJson::array()}};
  }
  for (const TokenLogprobs& t : tokens) {
    (*logprobs)["tokens"].push_back(sanitize_utf8(t.text));
    (*logprobs)["token_logprobs"].push_back(logprob_value(t.logprob));
    if (std::isnan(t.logprob)) {
      (*logprobs)["top_logprobs"].push_back(nullptr);
    } else {
      OJson top = OJson::object();
      for (const TokenLogprob& alt : t.top) {
        top.emplace(sanitize_utf8(tokenizer.token_to_piece(alt.id)), logprob_value(alt.logprob));
      }
      top.emplace(sanitize_utf8(t.text), logprob_value(t.logprob));  // no-op when already listed
      (*logprobs)["top_logprobs"].push_back(std::move(top));
    }
    (*logprobs)["text_offset"].push_back(*text_offset);
    *text_offset += t.text.size();
  }
}

void append_chat_logprobs(const std::vector<TokenLogprobs>& tokens, const Tokenizer& tokenizer, OJson* content) {
  if (content->is_null()) *content = OJson::array();
  for (const TokenLogprobs& t : tokens) {
    OJson top = OJson::array();
    for (const TokenLogprob& alt : t.top) {
      const std::string piece = tokenizer.token_to_piece(alt.id);
      top.push_back(OJson{{"token", sanitize_utf8(piece)}, {"logprob", logprob_value(alt.logprob)},
                          {"bytes", byte_array(piece)}});
    }
    content->push_back(OJson{{"token", sanitize_utf8(t.text)},
                             {"logprob", logprob_value(t.logprob)},
                             {"bytes", byte_array(t.text)},
                             {"top_logprobs", std::move(top)}});
  }
}

OJson usage_json(const Usage& usage) {
  return OJson{{"prompt_tokens", usage.prompt_tokens},
               {"completion_tokens", usage.completion_tokens},
               {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

}  // namespace maas::api
