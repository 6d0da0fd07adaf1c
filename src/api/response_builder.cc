// response_builder.cc — non-streaming completions / chat bodies.
#include "api/response_builder.h"

#include <algorithm>

#include "api/tool_calls.h"

namespace maas::api {

ResponseAccumulator::ResponseAccumulator(ResponseOptions options, const Tokenizer& tokenizer, size_t n_prompts)
    : options_(std::move(options)), tokenizer_(tokenizer), prompts_(n_prompts) {
  for (PromptState& p : prompts_) p.choices.resize(static_cast<size_t>(std::max(options_.n, 1)));
}

void ResponseAccumulator::add(size_t prompt, const RequestOutput& output) {
  if (prompt >= prompts_.size()) return;
  PromptState& p = prompts_[prompt];
  if (!output.error.ok() && error_.ok()) error_ = output.error;
  for (const SequenceDelta& d : output.deltas) {
    if (d.index < 0 || static_cast<size_t>(d.index) >= p.choices.size()) continue;
    Choice& c = p.choices[static_cast<size_t>(d.index)];
    c.text += d.text;
    c.logprobs.insert(c.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
    if (d.finish_reason) c.finish_reason = *d.finish_reason;
  }
  p.usage.prompt_tokens = std::max<int64_t>(p.usage.prompt_tokens, output.prompt_tokens);
  p.usage.completion_tokens = std::max<int64_t>(p.usage.completion_tokens, output.completion_tokens);
  if (!output.prompt_logprobs.empty()) p.prompt_logprobs = output.prompt_logprobs;
  if (output.finished && !p.finished) {
    p.finished = true;
    ++n_finished_;
  }
}

Usage ResponseAccumulator::usage() const {
  Usage u;
  for (const PromptState& p : prompts_) {
    u.prompt_tokens += p.usage.prompt_tokens;
    u.completion_tokens += p.usage.completion_tokens;
  }
  return u;
}

OJson ResponseAccumulator::choice_json(size_t prompt, size_t j) const {
  const PromptState& p = prompts_[prompt];
  const Choice& c = p.choices[j];
  const bool chat = options_.kind == ApiKind::kChat;
  OJson logprobs = nullptr;
  OJson out;
  out["index"] = choice_index(prompt, static_cast<int32_t>(j), options_.n);
  std::string finish = c.finish_reason;
  if (chat) {
    out["message"] = OJson{{"role", "assistant"}, {"content", c.text}};
    if (options_.tool_mode != ToolMode::kNone && finish == "stop") {
      if (auto calls = parse_tool_calls(c.text, options_.tool_names)) {
        const int64_t index = choice_index(prompt, static_cast<int32_t>(j), options_.n);
        out["message"]["content"] = nullptr;
        out["message"]["tool_calls"] = tool_calls_json(*calls, tool_call_id_prefix(options_.id, index), false);
        finish = "tool_calls";
      }
    }
    if (options_.logprobs >= 0) {
      OJson content = OJson::array();
      append_chat_logprobs(c.logprobs, tokenizer_, &content);
      logprobs = OJson{{"content", std::move(content)}};
    }
  } else {
    const std::string& echo = options_.echo && prompt < options_.echo_text.size() ? options_.echo_text[prompt] : "";
    out["text"] = echo + c.text;
    if (options_.logprobs >= 0) {
      size_t offset = 0;
      append_completion_logprobs(p.prompt_logprobs, tokenizer_, &offset, &logprobs);
      offset = echo.size();
      append_completion_logprobs(c.logprobs, tokenizer_, &offset, &logprobs);
    }
  }
  out["logprobs"] = std::move(logprobs);
  out["finish_reason"] = finish.empty() ? OJson(nullptr) : OJson(finish);
  return out;
}

std::string ResponseAccumulator::body() const {
  OJson out;
  out["id"] = options_.id;
  out["object"] = options_.kind == ApiKind::kChat ? "chat.completion" : "text_completion";
  out["created"] = options_.created;
  out["model"] = options_.model;
  OJson choices = OJson::array();
  for (size_t i = 0; i < prompts_.size(); ++i) {
    for (size_t j = 0; j < prompts_[i].choices.size(); ++j) choices.push_back(choice_json(i, j));
  }
  out["choices"] = std::move(choices);
  out["usage"] = usage_json(usage());
  return dump_json(out);
}

}  // namespace maas::api
