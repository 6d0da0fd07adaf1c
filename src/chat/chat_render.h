// chat_render.h — chat messages -> prompt token ids through the model's chat template, without
// letting message content inject special tokens (TESTPLAN D9).
//
// How: the template is rendered twice — once with the real contents (R) and once with a
// unique private-use sentinel in place of each content (S, which no user byte can influence).
// S splits into template pieces and content slots; R is aligned against them (a slot may hold
// the content as is or trimmed, since templates apply `trim`/`strip`). Then special-token
// strings are recognised only inside the template pieces; content is always plain text. Text
// between two special tokens (template text and content together) is encoded in one piece,
// so the ids equal tokenizer.encode(R, parse_special=true) whenever the content holds no
// special-token text — and "<|eot_id|>" typed by a user stays the literal characters.
// If the template transforms content in some other way (alignment fails), R is encoded with
// special tokens parsed only when no content contains special-token text; otherwise the
// request is refused (a ChatRefusal the API layer answers with 400 param messages[i].content).
// No BOS is added: the templates emit bos_token themselves (vLLM's add_special_tokens=false).
// Thread safety: immutable after create(); render() may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace maas {

// Special-token strings of a vocabulary (control, user-defined, unknown), longest match.
class SpecialTokenIndex {
 public:
  explicit SpecialTokenIndex(const Tokenizer& tokenizer);
  // Length of the longest special-token string at text[pos] (0 if none); its id in *id.
  size_t match_at(std::string_view text, size_t pos, int32_t* id) const;
  // The first special-token string inside `text`, or empty.
  std::string_view find_first(std::string_view text) const;

 private:
  std::unordered_map<std::string, int32_t> by_text_;
  std::vector<size_t> lengths_;  // distinct lengths, longest first
  bool first_byte_[256] = {};
};

struct RenderedChat {
  std::string text;             // the rendered prompt (R)
  std::vector<int32_t> tokens;  // its ids, content never parsed for special tokens
};

// Why a conversation cannot be rendered: the client's fault, on request field `param`
// ("messages" or "messages[i].content"); the message quotes at most 64 bytes of user text.
struct ChatRefusal {
  std::string message;
  std::string param;
};

// A RenderedChat or a ChatRefusal.
class ChatRenderResult {
 public:
  ChatRenderResult(RenderedChat value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  ChatRenderResult(ChatRefusal refusal) : v_(std::move(refusal)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const RenderedChat& operator*() const { return std::get<0>(v_); }
  const RenderedChat* operator->() const { return &std::get<0>(v_); }
  RenderedChat& value() { return std::get<0>(v_); }
  const ChatRefusal& error() const { return std::get<1>(v_); }

 private:
  std::variant<RenderedChat, ChatRefusal> v_;
};

class ChatRenderer {
 public:
  // Both must outlive the renderer.
  ChatRenderer(const Tokenizer& tokenizer, const ChatTemplate& chat_template);

  // Refused (param "messages") when the template rejects the conversation (raise_exception,
  // limits); refused (param messages[i].content) as described above. Tool definitions
  // (tools_json, ChatTemplate::render) and tool calls are rendered as template text, so any
  // special-token text in them is refused (param "tools", "messages[i].tool_calls" or
  // "messages[i].tool_call_id") rather than parsed.
  ChatRenderResult render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                          const std::vector<std::pair<std::string, std::string>>& extra_vars = {},
                          const std::string& tools_json = "") const;

  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  struct Segment {
    std::string text;   // template text (slot < 0)
    int slot = -1;      // message index of a content slot
  };
  std::optional<ChatRefusal> check_tool_text(const std::vector<ChatMessage>& messages, const std::string& tools_json) const;
  bool split_sentinels(const std::string& s, size_t n_messages, std::vector<Segment>* out) const;
  bool align(const std::string& r, const std::vector<Segment>& segs, const std::vector<ChatMessage>& messages,
             std::vector<std::string>* slot_text) const;
  std::vector<int32_t> encode_segments(const std::vector<Segment>& segs,
                                       const std::vector<std::string>& slot_text) const;

  const Tokenizer& tokenizer_;
  const ChatTemplate& template_;
  SpecialTokenIndex specials_;
  std::string bos_, eos_;
};

// The longest token piece of the vocabulary, in bytes (for ParseOptions::max_piece_bytes).
int32_t max_piece_bytes(const Tokenizer& tokenizer);

}  // namespace maas
