// chat_render.cc — template rendering with content isolated from special-token parsing.
#include "chat/chat_render.h"

#include <algorithm>

#include "base/utf8.h"
#include "gguf/gguf_names.h"

namespace maas {
namespace {

// At most `max_bytes` of `in` as valid UTF-8, cut on a character boundary with "..." when cut.
std::string quoted(std::string_view in, size_t max_bytes) {
  std::string s = utf8_repaired(in);
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes >= 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

// U+E000 <digits> U+E001: private-use code points around the message index.
constexpr std::string_view kOpen = "\xEE\x80\x80";
constexpr std::string_view kClose = "\xEE\x80\x81";

std::string sentinel(size_t i) { return std::string(kOpen) + std::to_string(i) + std::string(kClose); }

bool is_trim_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string trimmed(std::string_view s, bool left, bool right) {
  size_t b = 0, e = s.size();
  while (left && b < e && is_trim_space(s[b])) ++b;
  while (right && e > b && is_trim_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

bool starts_at(const std::string& r, size_t pos, std::string_view piece) {
  return r.size() - pos >= piece.size() && r.compare(pos, piece.size(), piece) == 0;
}

}  // namespace

SpecialTokenIndex::SpecialTokenIndex(const Tokenizer& tokenizer) {
  for (int32_t id = 0; id < tokenizer.n_vocab(); ++id) {
    const int32_t t = tokenizer.token_type(id);
    if (t != gguf_tensor::kTokenControl && t != gguf_tensor::kTokenUserDefined && t != gguf_tensor::kTokenUnknown) {
      continue;
    }
    std::string_view text = tokenizer.token_text(id);
    if (text.empty()) continue;
    if (by_text_.emplace(std::string(text), id).second) {
      first_byte_[static_cast<unsigned char>(text[0])] = true;
      if (std::find(lengths_.begin(), lengths_.end(), text.size()) == lengths_.end()) lengths_.push_back(text.size());
    }
  }
  std::sort(lengths_.rbegin(), lengths_.rend());
}

size_t SpecialTokenIndex::match_at(std::string_view text, size_t pos, int32_t* id) const {
  if (pos >= text.size() || !first_byte_[static_cast<unsigned char>(text[pos])]) return 0;
  for (size_t len : lengths_) {
    if (text.size() - pos < len) continue;
    auto it = by_text_.find(std::string(text.substr(pos, len)));
    if (it != by_text_.end()) {
      *id = it->second;
      return len;
    }
  }
  return 0;
}

std::string_view SpecialTokenIndex::find_first(std::string_view text) const {
  int32_t id = 0;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const size_t len = match_at(text, pos, &id);
    if (len > 0) return text.substr(pos, len);
  }
  return {};
}

ChatRenderer::ChatRenderer(const Tokenizer& tokenizer, const ChatTemplate& chat_template)
    : tokenizer_(tokenizer), template_(chat_template), specials_(tokenizer) {
  if (tokenizer.bos_id() >= 0) bos_ = std::string(tokenizer.token_text(tokenizer.bos_id()));
  if (tokenizer.eos_id() >= 0) eos_ = std::string(tokenizer.token_text(tokenizer.eos_id()));
}

bool ChatRenderer::split_sentinels(const std::string& s, size_t n_messages, std::vector<Segment>* out) const {
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t open = s.find(kOpen, pos);
    const size_t text_end = open == std::string::npos ? s.size() : open;
    if (text_end > pos) out->push_back({s.substr(pos, text_end - pos), -1});
    if (open == std::string::npos) return true;
    const size_t close = s.find(kClose, open + kOpen.size());
    if (close == std::string::npos) return false;
    const std::string digits = s.substr(open + kOpen.size(), close - open - kOpen.size());
    if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
    const size_t slot = std::stoul(digits);
    if (slot >= n_messages) return false;
    out->push_back({"", static_cast<int>(slot)});
    pos = close + kClose.size();
  }
  return true;
}

bool ChatRenderer::align(const std::string& r, const std::vector<Segment>& segs,
                         const std::vector<ChatMessage>& messages, std::vector<std::string>* slot_text) const {
  size_t pos = 0;
  for (size_t k = 0; k < segs.size(); ++k) {
    const Segment& seg = segs[k];
    if (seg.slot < 0) {
      if (!starts_at(r, pos, seg.text)) return false;
      pos += seg.text.size();
      slot_text->push_back("");
      continue;
    }
    const std::string& c = messages[static_cast<size_t>(seg.slot)].content;
    const std::string candidates[] = {c, trimmed(c, true, true), trimmed(c, true, false), trimmed(c, false, true)};
    bool found = false;
    for (const std::string& cand : candidates) {
      if (!starts_at(r, pos, cand)) continue;
      const size_t next = pos + cand.size();
      const bool last = k + 1 == segs.size();
      const bool fits = last ? next == r.size() : segs[k + 1].slot >= 0 || starts_at(r, next, segs[k + 1].text);
      if (!fits) continue;
      slot_text->push_back(cand);
      pos = next;
      found = true;
      break;
    }
    if (!found) return false;
  }
  return pos == r.size();
}

std::vector<int32_t> ChatRenderer::encode_segments(const std::vector<Segment>& segs,
                                                   const std::vector<std::string>& slot_text) const {
  std::vector<int32_t> out;
  std::string run;
  auto flush = [&] {
    if (run.empty()) return;
    std::vector<int32_t> ids = tokenizer_.encode(run, /*add_special=*/false, /*parse_special=*/false);
    out.insert(out.end(), ids.begin(), ids.end());
    run.clear();
  };
  for (size_t k = 0; k < segs.size(); ++k) {
    if (segs[k].slot >= 0) {
      run += slot_text[k];
      continue;
    }
    const std::string& t = segs[k].text;
    for (size_t pos = 0; pos < t.size();) {
      int32_t id = -1;
      const size_t len = specials_.match_at(t, pos, &id);
      if (len == 0) {
        run.push_back(t[pos++]);
        continue;
      }
      flush();
      out.push_back(id);
      pos += len;
    }
  }
  flush();
  return out;
}

// Tool definitions and calls reach the prompt as template text: special-token text in them
// would become control tokens, so it is refused.
std::optional<ChatRefusal> ChatRenderer::check_tool_text(const std::vector<ChatMessage>& messages,
                                                         const std::string& tools_json) const {
  const auto refusal = [](std::string_view hit, std::string param) {
    return ChatRefusal{"Tool definitions and calls must not contain the special-token text '" + quoted(hit, 64) + "'.",
                       std::move(param)};
  };
  if (std::string_view hit = specials_.find_first(tools_json); !hit.empty()) return refusal(hit, "tools");
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string at = "messages[" + std::to_string(i) + "]";
    for (const ChatToolCall& c : messages[i].tool_calls) {
      for (const std::string* text : {&c.id, &c.name, &c.arguments}) {
        if (std::string_view hit = specials_.find_first(*text); !hit.empty()) return refusal(hit, at + ".tool_calls");
      }
    }
    if (std::string_view hit = specials_.find_first(messages[i].tool_call_id); !hit.empty()) {
      return refusal(hit, at + ".tool_call_id");
    }
  }
  return std::nullopt;
}

ChatRenderResult ChatRenderer::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                      const std::vector<std::pair<std::string, std::string>>& extra_vars,
                                      const std::string& tools_json) const {
  if (std::optional<ChatRefusal> r = check_tool_text(messages, tools_json)) return *r;
  auto real = template_.render(messages, add_generation_prompt, bos_, eos_, extra_vars, tools_json);
  if (!real.ok()) return ChatRefusal{"The chat template rejected the messages: " + real.status().message(), "messages"};
  RenderedChat out;
  out.text = std::move(real).value();
  std::vector<ChatMessage> masked = messages;
  for (size_t i = 0; i < masked.size(); ++i) masked[i].content = sentinel(i);
  auto shape = template_.render(masked, add_generation_prompt, bos_, eos_, extra_vars, tools_json);
  std::vector<Segment> segs;
  std::vector<std::string> slot_text;
  if (shape.ok() && split_sentinels(*shape, messages.size(), &segs) && align(out.text, segs, messages, &slot_text)) {
    out.tokens = encode_segments(segs, slot_text);
    return out;
  }
  // Fallback: the template reshapes content; safe only when no content holds special text.
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string_view hit = specials_.find_first(messages[i].content);
    if (!hit.empty()) {
      return ChatRefusal{"Message content contains the special-token text '" + quoted(hit, 64) +
                             "', which this model's chat template cannot keep literal.",
                         "messages[" + std::to_string(i) + "].content"};
    }
  }
  out.tokens = tokenizer_.encode(out.text, /*add_special=*/false, /*parse_special=*/true);
  return out;
}

int32_t max_piece_bytes(const Tokenizer& tokenizer) {
  size_t longest = 1;
  for (int32_t id = 0; id < tokenizer.n_vocab(); ++id) longest = std::max(longest, tokenizer.token_to_piece(id).size());
  return static_cast<int32_t>(longest);
}

}  // namespace maas
