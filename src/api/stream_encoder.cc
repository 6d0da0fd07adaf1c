// stream_encoder.cc — SSE chunks for completions and chat streams.
#include "api/stream_encoder.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "api/tool_calls.h"

namespace maas::api {

std::vector<std::pair<std::string, std::string>> sse_headers() {
  return {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}, {"x-accel-buffering", "no"}};
}

std::string sse_event(const std::string& json) { return "data: " + json + "\n\n"; }

StreamEncoder::StreamEncoder(ResponseOptions options, const Tokenizer& tokenizer, size_t n_prompts)
    : options_(std::move(options)),
      tokenizer_(tokenizer),
      choices_(n_prompts, std::vector<ChoiceState>(static_cast<size_t>(std::max(options_.n, 1)))),
      usage_(n_prompts),
      prompt_finished_(n_prompts, false) {}

OJson StreamEncoder::envelope() const {
  OJson e;
  e["id"] = options_.id;
  e["object"] = options_.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion";
  e["created"] = options_.created;
  e["model"] = options_.model;
  return e;
}

std::string StreamEncoder::chunk(OJson choice) const {
  OJson e = envelope();
  e["choices"] = OJson::array({std::move(choice)});
  if (options_.continuous_usage) e["usage"] = usage_json(usage());
  else if (options_.include_usage) e["usage"] = nullptr;
  return sse_event(dump_json(e));
}

OJson StreamEncoder::text_choice(int64_t index, std::string text, OJson logprobs, const std::string* finish) const {
  OJson c;
  c["index"] = index;
  if (options_.kind == ApiKind::kChat) {
    c["delta"] = finish != nullptr && text.empty() ? OJson::object() : OJson{{"content", std::move(text)}};
  } else {
    c["text"] = std::move(text);
  }
  c["logprobs"] = std::move(logprobs);
  c["finish_reason"] = finish != nullptr ? OJson(*finish) : OJson(nullptr);
  return c;
}

// Function calling (ResponseOptions::tool_mode): a chat choice that may be a tool call holds its
// text back — all of it when the call is forced, under "auto" while the text so far (after
// whitespace) is empty or begins like a call ('{' or <|python_tag|>). At its end a held text that
// is tool calls goes out as one delta {"tool_calls": [...]} with finish_reason "tool_calls";
// anything else goes out as content, with the choice's own finish_reason.
bool StreamEncoder::may_be_tool_call(const std::string& held) const {
  if (options_.tool_mode == ToolMode::kForced) return true;
  const size_t p = held.find_first_not_of(" \t\r\n");
  if (p == std::string::npos) return true;
  const std::string_view rest = std::string_view(held).substr(p);
  constexpr std::string_view kTag = "<|python_tag|>";
  return rest[0] == '{' || kTag.substr(0, std::min(kTag.size(), rest.size())) == rest.substr(0, kTag.size());
}

std::string StreamEncoder::encode_delta(size_t prompt, const SequenceDelta& d) {
  if (d.index < 0 || static_cast<size_t>(d.index) >= choices_[prompt].size()) return "";
  ChoiceState& s = choices_[prompt][static_cast<size_t>(d.index)];
  if (s.finished) return "";
  const int64_t index = choice_index(prompt, d.index, options_.n);
  const bool chat = options_.kind == ApiKind::kChat;
  std::string out;
  std::string text = d.text;
  std::vector<TokenLogprobs> lps = d.logprobs;
  if (!s.started) {
    s.started = true;
    if (chat) {
      OJson role{{"index", index}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                 {"logprobs", nullptr}, {"finish_reason", nullptr}};
      out += chunk(std::move(role));
    } else if (options_.echo && prompt < options_.echo_text.size()) {
      text = options_.echo_text[prompt] + text;
      s.text_offset = options_.echo_text[prompt].size();
    }
  }
  if (chat && options_.tool_mode != ToolMode::kNone && !s.plain) {
    s.held += text;
    s.held_logprobs.insert(s.held_logprobs.end(), lps.begin(), lps.end());
    const bool still = may_be_tool_call(s.held);
    if (still && !d.finish_reason) return out;
    std::optional<std::vector<ToolCall>> calls;
    if (still && *d.finish_reason == "stop") calls = parse_tool_calls(s.held, options_.tool_names);
    if (calls) {
      OJson c;
      c["index"] = index;
      c["delta"] = OJson{{"tool_calls", tool_calls_json(*calls, tool_call_id_prefix(options_.id, index), true)}};
      c["logprobs"] = nullptr;
      if (options_.logprobs >= 0) {
        OJson content = nullptr;
        append_chat_logprobs(s.held_logprobs, tokenizer_, &content);
        c["logprobs"] = OJson{{"content", std::move(content)}};
      }
      c["finish_reason"] = nullptr;
      out += chunk(std::move(c));
      s.finished = true;
      const std::string reason = "tool_calls";
      out += chunk(text_choice(index, "", nullptr, &reason));
      return out;
    }
    s.plain = true;  // ordinary text: what was held goes out now, the rest as it comes
    text = std::move(s.held);
    lps = std::move(s.held_logprobs);
  }
  if (!text.empty() || !lps.empty()) {
    OJson logprobs = nullptr;
    if (options_.logprobs >= 0 && chat) {
      OJson content = nullptr;
      append_chat_logprobs(lps, tokenizer_, &content);
      logprobs = OJson{{"content", std::move(content)}};
    } else if (options_.logprobs >= 0) {
      append_completion_logprobs(lps, tokenizer_, &s.text_offset, &logprobs);
    }
    out += chunk(text_choice(index, std::move(text), std::move(logprobs), nullptr));
  }
  if (d.finish_reason) {
    s.finished = true;
    out += chunk(text_choice(index, "", nullptr, &*d.finish_reason));
  }
  return out;
}

std::string StreamEncoder::finish_stream() {
  std::string out;
  if (options_.include_usage) {
    OJson e = envelope();
    e["choices"] = OJson::array();
    e["usage"] = usage_json(usage());
    out += sse_event(dump_json(e));
  }
  out += kSseDone;
  done_ = true;
  return out;
}

std::string StreamEncoder::encode(size_t prompt, const RequestOutput& output) {
  if (done_ || prompt >= choices_.size()) return "";
  if (!output.error.ok()) return error(api_error_from_status(output.error));
  usage_[prompt].prompt_tokens = std::max<int64_t>(usage_[prompt].prompt_tokens, output.prompt_tokens);
  usage_[prompt].completion_tokens = std::max<int64_t>(usage_[prompt].completion_tokens, output.completion_tokens);
  std::string out;
  for (const SequenceDelta& d : output.deltas) out += encode_delta(prompt, d);
  if (output.finished && !prompt_finished_[prompt]) {
    prompt_finished_[prompt] = true;
    if (++n_finished_ == choices_.size()) out += finish_stream();
  }
  return out;
}

std::string StreamEncoder::error(const ApiError& error) {
  if (done_) return "";
  done_ = true;
  return sse_event(error_body_json(error)) + kSseDone;
}

Usage StreamEncoder::usage() const {
  Usage u;
  for (const Usage& p : usage_) {
    u.prompt_tokens += p.prompt_tokens;
    u.completion_tokens += p.completion_tokens;
  }
  return u;
}

}  // namespace maas::api
