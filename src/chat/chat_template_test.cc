// chat_template_test.cc — the chat-template API: parsing errors with positions, rendering of
// the built-in Llama templates against known prompts, strftime_now, extra variables, and
// choosing a template from GGUF metadata.
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace maas {
namespace {

std::string render_ok(std::string_view source, const std::vector<ChatMessage>& messages, bool gen = false,
                      const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  StatusOr<ChatTemplate> t = ChatTemplate::parse(source);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  if (!t.ok()) return "<parse error>";
  StatusOr<std::string> out = t->render(messages, gen, "<s>", "</s>", extra);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? *out : "<render error>";
}

Status render_status(std::string_view source, const std::vector<ChatMessage>& messages = {{"user", "hi"}}) {
  StatusOr<ChatTemplate> t = ChatTemplate::parse(source);
  if (!t.ok()) return t.status();
  StatusOr<std::string> out = t->render(messages, false, "<s>", "</s>");
  return out.ok() ? Status::Ok() : out.status();
}

TEST(ChatTemplate, Llama3BuiltinRendersTheKnownPrompt) {
  std::string out = render_ok(builtin_chat_template("llama3"), {{"system", "Be brief."}, {"user", " Hi! "}}, true);
  EXPECT_EQ(out,
            "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Llama2BuiltinRendersTheKnownPrompt) {
  std::string out = render_ok(builtin_chat_template("llama2"),
                              {{"system", "SYS"}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}});
  EXPECT_EQ(out, "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nQ1 [/INST] A1 </s><s>[INST] Q2 [/INST]");
}

TEST(ChatTemplate, Llama2RaiseExceptionIsAnError) {
  Status st = render_status(builtin_chat_template("llama2"), {{"user", "a"}, {"user", "b"}});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Conversation roles must alternate"), std::string::npos) << st.message();
}

TEST(ChatTemplate, Llama31UsesDateStringAndDefaults) {
  std::string out = render_ok(builtin_chat_template("llama3.1"), {{"user", "Hi"}}, true, {{"date_string", "01 Jan 2025"}});
  EXPECT_EQ(out,
            "<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
            "Today Date: 01 Jan 2025\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  std::string dflt = render_ok(builtin_chat_template("llama3.1"), {{"user", "Hi"}});
  EXPECT_NE(dflt.find("Today Date: 26 Jul 2024\n"), std::string::npos) << dflt;
}

TEST(ChatTemplate, Llama32UsesStrftimeNow) {
  StatusOr<ChatTemplate> t = ChatTemplate::parse(builtin_chat_template("llama3.2"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  // 2024-03-05 12:00:00 UTC: the same calendar day in every time zone within +-11h.
  StatusOr<std::string> out = t->render_at(1709640000, {{"user", "Hi"}}, false, "<s>", "</s>");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_NE(out->find("Today Date: 05 Mar 2024\n"), std::string::npos) << *out;
}

TEST(ChatTemplate, BuiltinNames) {
  EXPECT_FALSE(builtin_chat_template("llama2").empty());
  EXPECT_FALSE(builtin_chat_template("llama3").empty());
  EXPECT_FALSE(builtin_chat_template("llama3.1").empty());
  EXPECT_FALSE(builtin_chat_template("llama3.2").empty());
  EXPECT_TRUE(builtin_chat_template("gpt-j").empty());
}

TEST(ChatTemplate, ExtraVariablesAreStrings) {
  EXPECT_EQ(render_ok("{{ date_string }}|{{ bos_token }}", {}, false, {{"date_string", "today"}, {"bos_token", "B"}}),
            "today|B");
}

TEST(ChatTemplate, SyntaxErrorsNameLineAndColumn) {
  StatusOr<ChatTemplate> t = ChatTemplate::parse("hello\n{% if x %}\n  {{ x + }}\n{% endif %}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("line 3, column"), std::string::npos) << t.status().message();

  for (const char* bad : {"{% if x %}", "{% for %}", "{{ x", "{{ 'abc }}", "{% include 'x' %}", "{% call m() %}{% endcall %}",
                          "{{ f(*args) }}", "{# open", "{% endif %}", "{{ x | }}", "{{ [1, 2 }}", "{{ a[] }}",
                          "{% set 1 = 2 %}", "{% macro m(a=1, b) %}{% endmacro %}", "{{ 99999999999999999999 }}",
                          "{{ 'a' ! 'b' }}", "{{ '\\q' }}"}) {
    StatusOr<ChatTemplate> r = ChatTemplate::parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(r.status().message().find("line "), std::string::npos) << r.status().message();
    }
  }
}

TEST(ChatTemplate, RuntimeErrorsNamePosition) {
  Status st = render_status("{{ messages[0].content + 1 + none }}");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 1, column"), std::string::npos) << st.message();
  EXPECT_EQ(render_status("{{ undefined_function() }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{{ 1 // 0 }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{{ 9223372036854775807 + 1 }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{{ 'x' | no_such_filter }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{{ 'x' is no_such_test }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{% break %}").code(), StatusCode::kInvalidArgument);
}

TEST(ChatTemplate, PythonSemanticsWhereReferenceIsLoose) {
  // An empty Llama 2 system prompt is still a system prompt (transformers behaviour).
  EXPECT_EQ(render_ok(builtin_chat_template("llama2"), {{"system", ""}, {"user", "Q"}}),
            "<s>[INST] <<SYS>>\n\n<</SYS>>\n\nQ [/INST]");
  EXPECT_EQ(render_ok("{{ '1' == 1 }} {{ 'Hello WORLD' | title }} {{ 'hELLO' | capitalize }}", {}),
            "false Hello World Hello");
  EXPECT_EQ(render_ok("{{ ', '.join(['a', 'b']) }} {{ 'ab' * 2 }} {{ 'x' is in(['x', 'y']) }} {{ -7 % 3 }}", {}), "a, b abab true 2");
}

TEST(ChatTemplate, MacrosSeeDefaultsAndKeywords) {
  EXPECT_EQ(render_ok("{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}{{ m(b=4) }}", {}),
            "1B234");
  EXPECT_EQ(render_status("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(render_status("{% macro m(a) %}{% endmacro %}{{ m(c=2) }}").code(), StatusCode::kInvalidArgument);
}

TEST(ChatTemplate, GenerationMarkersAreRemoved) {
  EXPECT_EQ(render_ok("a {%- generation %} b {% endgeneration -%} c", {}), "a b c");
}

std::unique_ptr<GgufFile> gguf_with(const std::vector<std::pair<std::string, std::string>>& kvs,
                                    std::vector<uint8_t>* bytes) {
  GgufWriter w;
  for (const auto& [k, v] : kvs) w.add_string(k, v);
  *bytes = w.serialize();
  StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::parse(bytes->data(), bytes->size());
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(ChatTemplate, FromGgufPrefersTheFilesTemplate) {
  std::vector<uint8_t> bytes;
  auto f = gguf_with({{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.chat_template", "custom {{ messages | length }}"}}, &bytes);
  ASSERT_TRUE(f);
  StatusOr<ChatTemplate> t = chat_template_from_gguf(*f);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(*t->render({{"user", "x"}}, false, "", ""), "custom 1");
}

TEST(ChatTemplate, FromGgufFallsBackOnTheTokenizerModel) {
  std::vector<uint8_t> bytes;
  auto f = gguf_with({{"tokenizer.ggml.model", "gpt2"}}, &bytes);
  ASSERT_TRUE(f);
  StatusOr<ChatTemplate> t = chat_template_from_gguf(*f);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source(), builtin_chat_template("llama3"));
  auto g = gguf_with({{"tokenizer.ggml.model", "llama"}}, &bytes);
  ASSERT_TRUE(g);
  t = chat_template_from_gguf(*g);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source(), builtin_chat_template("llama2"));
  auto h = gguf_with({{"tokenizer.ggml.model", "bert"}}, &bytes);
  ASSERT_TRUE(h);
  EXPECT_EQ(chat_template_from_gguf(*h).status().code(), StatusCode::kNotFound);
}

TEST(ChatTemplate, FromGgufRejectsABrokenTemplate) {
  std::vector<uint8_t> bytes;
  auto f = gguf_with({{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.chat_template", "{% for x in %}"}}, &bytes);
  ASSERT_TRUE(f);
  StatusOr<ChatTemplate> t = chat_template_from_gguf(*f);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("tokenizer.chat_template"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace maas
