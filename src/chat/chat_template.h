// chat_template.h — renders a conversation into a prompt with the model's chat template.
//
// A chat template is Jinja text stored in the GGUF file (`tokenizer.chat_template`), written by
// whoever published the model: untrusted input. It is parsed by our own interpreter for the
// subset of Jinja that chat templates use (jinja_parser.h lists it) and rendered in a sandbox
// (jinja_eval.h): no access to anything but the variables below, and limits on output size
// (1 MiB), loop iterations (100k), evaluation steps, recursion depth and memory. A hostile
// template (CVE-2024-34359: SSTI through `__class__`/`__globals__`) gets an error, never code
// execution, a hang or a crash.
//
// Rendering matches Hugging Face's renderer (@huggingface/jinja, which like transformers uses
// trim_blocks and lstrip_blocks) byte for byte on the official Llama 2/3/3.1/3.2 templates and
// the tested subset; known differences: upper/lower/title/capitalize change ASCII letters only,
// string lengths and indexes count code points (not UTF-16 units), `==` never equates strings
// with numbers or bools (Python semantics, so an empty Llama 2 system prompt is kept, as in
// transformers), capitalize/title lowercase the rest of each word (Python semantics).
//
// Variables a render sees: messages (list of {role, content}), add_generation_prompt,
// bos_token, eos_token, the caller's extra string variables (e.g. date_string), and the
// functions raise_exception, range, namespace and strftime_now (local time).
//
// Thread safety: a ChatTemplate is immutable after parse(); render() may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace maas {

class GgufFile;

namespace jinja {
struct Program;
}

// A function call an assistant message made (OpenAI `tool_calls`): the template sees
// {"id", "type": "function", "function": {"name", "arguments": <the arguments as an object>}}.
struct ChatToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON object, as text
};

struct ChatMessage {
  ChatMessage() = default;
  ChatMessage(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}

  std::string role;
  std::string content;
  std::vector<ChatToolCall> tool_calls;  // assistant; the template sees `tool_calls` only when non-empty
  std::string tool_call_id;              // role "tool": the call this answers (seen when non-empty)
};

class ChatTemplate {
 public:
  // InvalidArgument "chat template syntax error at line L, column C: ..." for anything outside
  // the subset or malformed; InvalidArgument for sources over 1 MiB.
  static StatusOr<ChatTemplate> parse(std::string_view source);

  // The prompt text. InvalidArgument for raise_exception() in the template ("chat template
  // raised an exception: <message>") and type errors (with line and column); ResourceExhausted
  // when a limit is exceeded. Extra variables with the name of a standard one replace it.
  // tools_json: a JSON array (OpenAI `tools`) the template sees as `tools`; empty: `tools` is
  // undefined (a template's default applies).
  StatusOr<std::string> render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                               const std::string& bos_token, const std::string& eos_token,
                               const std::vector<std::pair<std::string, std::string>>& extra_vars = {},
                               const std::string& tools_json = "") const;

  // As render(), with strftime_now() formatting `now_unix` instead of the current time (tests).
  StatusOr<std::string> render_at(int64_t now_unix, const std::vector<ChatMessage>& messages,
                                  bool add_generation_prompt, const std::string& bos_token,
                                  const std::string& eos_token,
                                  const std::vector<std::pair<std::string, std::string>>& extra_vars = {},
                                  const std::string& tools_json = "") const;

  const std::string& source() const;

 private:
  explicit ChatTemplate(std::shared_ptr<const jinja::Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const jinja::Program> program_;
};

// The official templates by name: "llama2" (Llama 2 chat), "llama3" (Llama 3 Instruct),
// "llama3.1" (Llama 3.1 Instruct, tools/ipython/date_string), "llama3.2" (Llama 3.2 Instruct,
// strftime_now). Empty for an unknown name.
std::string_view builtin_chat_template(std::string_view name);

// The template for a model: the file's tokenizer.chat_template if present (its parse error if
// it does not parse — never silently another template), else the built-in matching
// tokenizer.ggml.model ("gpt2" -> llama3, "llama" -> llama2). NotFound when neither applies.
StatusOr<ChatTemplate> chat_template_from_gguf(const GgufFile& file);

}  // namespace maas
