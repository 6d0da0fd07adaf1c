// response_test.cc — response bodies and SSE chunks field by field: completions and chat,
// non-streaming and streaming, both logprobs formats, usage, invalid UTF-8 -> U+FFFD.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "api/api_test_util.h"
#include "api/response_builder.h"
#include "api/stream_encoder.h"
#include "api/tool_calls.h"

namespace maas::api {
namespace {

using nlohmann::json;

ResponseOptions options(ApiKind kind, int32_t n = 1) {
  ResponseOptions o;
  o.kind = kind;
  o.id = kind == ApiKind::kChat ? "chatcmpl-1" : "cmpl-1";
  o.created = 1700000000;
  o.model = "llama-test";
  o.n = n;
  return o;
}

SequenceDelta delta(int32_t index, std::string text, const char* finish = nullptr) {
  SequenceDelta d;
  d.index = index;
  d.text = std::move(text);
  if (finish != nullptr) d.finish_reason = finish;
  return d;
}

RequestOutput output(std::vector<SequenceDelta> deltas, bool finished, int32_t prompt_tokens, int32_t completion) {
  RequestOutput o;
  o.deltas = std::move(deltas);
  o.finished = finished;
  o.prompt_tokens = prompt_tokens;
  o.completion_tokens = completion;
  return o;
}

// Splits an SSE byte stream into its data payloads; every event must be "data: ...\n\n".
std::vector<std::string> events(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    const size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos);
    if (end == std::string::npos) break;
    const std::string ev = sse.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

class Responses : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = testing::llama3_tokenizer();
    ASSERT_NE(tok_, nullptr);
  }
  TokenLogprobs lp(const char* piece, float logprob, std::vector<TokenLogprob> top = {}) {
    TokenLogprobs t;
    t.id = tok_->find_token(piece).value_or(0);
    t.text = tok_->token_to_piece(t.id);
    t.logprob = logprob;
    t.top = std::move(top);
    return t;
  }
  int32_t id(const char* piece) { return tok_->find_token(piece).value_or(0); }
  const Tokenizer* tok_ = nullptr;
};

TEST_F(Responses, CompletionBatchChoicesAndUsage) {
  ResponseAccumulator acc(options(ApiKind::kCompletion, 2), *tok_, 2);
  acc.add(1, output({delta(1, "b1", "length"), delta(0, "a1")}, false, 4, 3));
  acc.add(0, output({delta(0, "x", "stop"), delta(1, "y", "stop")}, true, 3, 2));
  acc.add(1, output({delta(0, "a2", "stop")}, true, 4, 5));
  ASSERT_TRUE(acc.finished());
  const json b = json::parse(acc.body());
  EXPECT_EQ(b["id"], "cmpl-1");
  EXPECT_EQ(b["object"], "text_completion");
  EXPECT_EQ(b["created"], 1700000000);
  EXPECT_EQ(b["model"], "llama-test");
  ASSERT_EQ(b["choices"].size(), 4u);
  const char* texts[] = {"x", "y", "a1a2", "b1"};
  const char* reasons[] = {"stop", "stop", "stop", "length"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(b["choices"][i]["index"], i);
    EXPECT_EQ(b["choices"][i]["text"], texts[i]);
    EXPECT_TRUE(b["choices"][i]["logprobs"].is_null());
    EXPECT_EQ(b["choices"][i]["finish_reason"], reasons[i]);
  }
  EXPECT_EQ(b["usage"], (json{{"prompt_tokens", 7}, {"completion_tokens", 7}, {"total_tokens", 14}}));
}

TEST_F(Responses, ChatWithLogprobs) {
  ResponseOptions o = options(ApiKind::kChat);
  o.logprobs = 1;
  ResponseAccumulator acc(o, *tok_, 1);
  SequenceDelta d = delta(0, "Hello", "stop");
  d.logprobs.push_back(lp("Hello", -0.25f, {{id("Hello"), -0.25f}}));
  acc.add(0, output({d}, true, 5, 1));
  const json b = json::parse(acc.body());
  EXPECT_EQ(b["object"], "chat.completion");
  const json& c = b["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["message"], (json{{"role", "assistant"}, {"content", "Hello"}}));
  EXPECT_EQ(c["finish_reason"], "stop");
  const json& t = c["logprobs"]["content"][0];
  EXPECT_EQ(t["token"], "Hello");
  EXPECT_DOUBLE_EQ(t["logprob"].get<double>(), -0.25);
  EXPECT_EQ(t["bytes"], (json{72, 101, 108, 108, 111}));
  ASSERT_EQ(t["top_logprobs"].size(), 1u);
  EXPECT_EQ(t["top_logprobs"][0]["token"], "Hello");
  EXPECT_EQ(t["top_logprobs"][0]["bytes"].size(), 5u);
  EXPECT_EQ(b["usage"]["total_tokens"], 6);
}

TEST_F(Responses, CompletionLogprobsWithEcho) {
  ResponseOptions o = options(ApiKind::kCompletion);
  o.logprobs = 1;
  o.echo = true;
  o.echo_text = {"Hi"};
  ResponseAccumulator acc(o, *tok_, 1);
  RequestOutput out = output({}, true, 1, 1);
  out.prompt_logprobs.push_back(lp("Hi", NAN));
  SequenceDelta d = delta(0, " there", "length");
  d.logprobs.push_back(lp("Ġthere", -1.5f, {{id("Ġworld"), -0.5f}}));
  out.deltas.push_back(d);
  acc.add(0, out);
  const json c = json::parse(acc.body())["choices"][0];
  EXPECT_EQ(c["text"], "Hi there");
  const json& l = c["logprobs"];
  EXPECT_EQ(l["tokens"], (json{"Hi", " there"}));
  EXPECT_TRUE(l["token_logprobs"][0].is_null());
  EXPECT_DOUBLE_EQ(l["token_logprobs"][1].get<double>(), -1.5);
  EXPECT_TRUE(l["top_logprobs"][0].is_null());
  // top k plus the sampled token: k + 1 entries.
  EXPECT_EQ(l["top_logprobs"][1].size(), 2u);
  EXPECT_DOUBLE_EQ(l["top_logprobs"][1][" world"].get<double>(), -0.5);
  EXPECT_DOUBLE_EQ(l["top_logprobs"][1][" there"].get<double>(), -1.5);
  EXPECT_EQ(l["text_offset"], (json{0, 2}));
}

TEST_F(Responses, ChatStreamChunks) {
  ResponseOptions o = options(ApiKind::kChat, 2);
  o.stream = true;
  o.include_usage = true;
  StreamEncoder enc(o, *tok_, 1);
  std::string sse = enc.encode(0, output({delta(0, "Hel"), delta(1, "A")}, false, 5, 2));
  sse += enc.encode(0, output({delta(0, "lo", "stop")}, false, 5, 3));
  EXPECT_FALSE(enc.done());
  sse += enc.encode(0, output({delta(1, "", "length")}, true, 5, 3));
  EXPECT_TRUE(enc.done());
  const std::vector<std::string> ev = events(sse);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.back(), "[DONE]");
  const json usage = json::parse(ev[ev.size() - 2]);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"], (json{{"prompt_tokens", 5}, {"completion_tokens", 3}, {"total_tokens", 8}}));
  std::map<int, std::string> text;
  std::map<int, int> finishes, roles, chunks;
  for (size_t i = 0; i + 2 < ev.size(); ++i) {
    const json c = json::parse(ev[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], "chatcmpl-1");
    EXPECT_TRUE(c.contains("usage") && c["usage"].is_null());
    ASSERT_EQ(c["choices"].size(), 1u);
    const json& ch = c["choices"][0];
    const int idx = ch["index"];
    if (chunks[idx]++ == 0) {
      EXPECT_EQ(ch["delta"]["role"], "assistant") << "first chunk carries the role";
    }
    if (ch["delta"].contains("role")) ++roles[idx];
    if (ch["delta"].contains("content")) text[idx] += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) {
      ++finishes[idx];
      EXPECT_EQ(ch["delta"], json::object());
    }
  }
  EXPECT_EQ(text[0], "Hello");
  EXPECT_EQ(text[1], "A");
  EXPECT_EQ(finishes, (std::map<int, int>{{0, 1}, {1, 1}}));
  EXPECT_EQ(roles, (std::map<int, int>{{0, 1}, {1, 1}}));
  // Last chunk of each choice carries its finish_reason: nothing for it afterwards.
  EXPECT_EQ(enc.encode(0, output({delta(0, "more")}, false, 5, 4)), "");
}

// stream_options.continuous_usage_stats: every chunk carries the usage so far (the gateway meters
// a stream cut short from the last chunk it saw), and the final usage chunk still closes it.
TEST_F(Responses, ContinuousUsageOnEveryChunk) {
  ResponseOptions o = options(ApiKind::kCompletion, 1);
  o.stream = true;
  o.include_usage = true;
  o.continuous_usage = true;
  StreamEncoder enc(o, *tok_, 1);
  std::string sse = enc.encode(0, output({delta(0, "a")}, false, 4, 1));
  sse += enc.encode(0, output({delta(0, "b")}, false, 4, 2));
  sse += enc.encode(0, output({delta(0, "", "length")}, true, 4, 2));
  const std::vector<std::string> ev = events(sse);
  ASSERT_GE(ev.size(), 4u);
  int64_t last = 0;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    const json c = json::parse(ev[i]);
    ASSERT_TRUE(c["usage"].is_object()) << ev[i];
    EXPECT_EQ(c["usage"]["prompt_tokens"], 4);
    const int64_t done = c["usage"]["completion_tokens"];
    EXPECT_GE(done, last);
    last = done;
  }
  EXPECT_EQ(json::parse(ev[ev.size() - 2])["choices"], json::array());
  EXPECT_EQ(last, 2);
}

TEST_F(Responses, CompletionStreamBatchEchoAndLogprobs) {
  ResponseOptions o = options(ApiKind::kCompletion, 1);
  o.stream = true;
  o.echo = true;
  o.echo_text = {"P0", "P1"};
  o.logprobs = 0;
  StreamEncoder enc(o, *tok_, 2);
  SequenceDelta d = delta(0, "Hello", "stop");
  d.logprobs.push_back(lp("Hello", -0.5f));
  std::string sse = enc.encode(1, output({d}, true, 2, 1));
  EXPECT_FALSE(enc.done());
  sse += enc.encode(0, output({delta(0, "x", "length")}, true, 2, 1));
  const std::vector<std::string> ev = events(sse);
  ASSERT_EQ(ev.size(), 5u);  // text + finish for each prompt, [DONE]; no usage chunk
  const json first = json::parse(ev[0]);
  EXPECT_EQ(first["object"], "text_completion");
  EXPECT_FALSE(first.contains("usage"));
  EXPECT_EQ(first["choices"][0]["index"], 1);
  EXPECT_EQ(first["choices"][0]["text"], "P1Hello");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(first["choices"][0]["logprobs"]["text_offset"], json{2});
  EXPECT_EQ(first["choices"][0]["logprobs"]["top_logprobs"][0].size(), 1u);  // k = 0: the sampled token
  const json fin = json::parse(ev[1]);
  EXPECT_EQ(fin["choices"][0]["text"], "");
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(ev[2])["choices"][0]["text"], "P0x");
  EXPECT_EQ(ev[4], "[DONE]");
}

TEST_F(Responses, InvalidUtf8BecomesReplacementCharacter) {
  ResponseOptions o = options(ApiKind::kChat);
  o.logprobs = 0;
  ResponseAccumulator acc(o, *tok_, 1);
  SequenceDelta d = delta(0, "ok \xE2\x82 \xFF end", "stop");
  TokenLogprobs t;
  t.id = 1;
  t.text = "\xE2\x82";
  t.logprob = -1.0f;
  d.logprobs.push_back(t);
  acc.add(0, output({d}, true, 1, 1));
  const std::string body = acc.body();
  json b;
  ASSERT_NO_THROW(b = json::parse(body));  // nlohmann rejects invalid UTF-8
  EXPECT_EQ(b["choices"][0]["message"]["content"], "ok \xEF\xBF\xBD \xEF\xBF\xBD end");
  const json& tok = b["choices"][0]["logprobs"]["content"][0];
  EXPECT_EQ(tok["token"], "\xEF\xBF\xBD");
  EXPECT_EQ(tok["bytes"], (json{0xE2, 0x82}));  // the raw bytes survive in `bytes`

  ResponseOptions so = options(ApiKind::kCompletion);
  so.stream = true;
  StreamEncoder enc(so, *tok_, 1);
  const std::vector<std::string> ev = events(enc.encode(0, output({delta(0, "\xC3", "stop")}, true, 1, 1)));
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(json::parse(ev[0])["choices"][0]["text"], "\xEF\xBF\xBD");
}

TEST_F(Responses, StreamErrorEvent) {
  StreamEncoder enc(options(ApiKind::kChat), *tok_, 1);
  RequestOutput failed;
  failed.finished = true;
  failed.error = internal_error("cuda: illegal address at /src/kernels/x.cu:12");
  const std::vector<std::string> ev = events(enc.encode(0, failed));
  ASSERT_EQ(ev.size(), 2u);
  const json e = json::parse(ev[0]);
  EXPECT_EQ(e["error"]["type"], "server_error");
  EXPECT_EQ(e["error"]["message"].get<std::string>().find("cuda"), std::string::npos);
  EXPECT_EQ(ev[1], "[DONE]");
  EXPECT_TRUE(enc.done());
  EXPECT_EQ(enc.error(server_error()), "");
  EXPECT_EQ(sse_headers()[0].second, "text/event-stream");
}

// ---- function calling -------------------------------------------------------------------------

TEST(ToolCalls, ParsesLlama31JsonCallsAndNothingElse) {
  const std::vector<std::string> names = {"get_weather", "add"};
  auto one = parse_tool_calls("  {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris {x}\"}}\n", names);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].name, "get_weather");
  EXPECT_EQ(json::parse((*one)[0].arguments), (json{{"city", "Paris {x}"}}));
  auto tagged = parse_tool_calls("<|python_tag|>{\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 1}\"}", names);
  ASSERT_TRUE(tagged);
  EXPECT_EQ((*tagged)[0].arguments, "{\"a\":1}");
  auto two = parse_tool_calls("{\"name\": \"add\", \"parameters\": {}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", names);
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].name, "get_weather");
  for (const char* not_a_call : {"Hello", "", "{\"name\": \"sub\", \"parameters\": {}}",
                                 "{\"name\": \"add\", \"parameters\": {}, \"x\": 1}",
                                 "{\"name\": \"add\", \"parameters\": [1]}", "{\"name\": \"add\", \"parameters\": {}} and more",
                                 "{\"name\": \"add\"", "Sure: {\"name\": \"add\", \"parameters\": {}}"}) {
    EXPECT_FALSE(parse_tool_calls(not_a_call, names)) << not_a_call;
  }
}

TEST_F(Responses, ChatToolCallAnswer) {
  ResponseOptions o = options(ApiKind::kChat);
  o.tool_mode = ToolMode::kAuto;
  o.tool_names = {"get_weather"};
  ResponseAccumulator acc(o, *tok_, 1);
  acc.add(0, output({delta(0, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", "stop")}, true, 5, 9));
  const json c = json::parse(acc.body())["choices"][0];
  EXPECT_EQ(c["finish_reason"], "tool_calls");
  EXPECT_TRUE(c["message"]["content"].is_null());
  ASSERT_EQ(c["message"]["tool_calls"].size(), 1u);
  const json& call = c["message"]["tool_calls"][0];
  EXPECT_EQ(call["id"], "call_1_0_0");
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["arguments"], "{\"city\":\"Rome\"}");
  // Cut short by max_tokens: the text as it is, no call.
  ResponseAccumulator cut(o, *tok_, 1);
  cut.add(0, output({delta(0, "{\"name\": \"get_wea", "length")}, true, 5, 4));
  const json c2 = json::parse(cut.body())["choices"][0];
  EXPECT_EQ(c2["finish_reason"], "length");
  EXPECT_EQ(c2["message"], (json{{"role", "assistant"}, {"content", "{\"name\": \"get_wea"}}));
}

TEST_F(Responses, ChatStreamHoldsWhatMayBeAToolCall) {
  ResponseOptions o = options(ApiKind::kChat);
  o.tool_mode = ToolMode::kAuto;
  o.tool_names = {"add"};
  // A call: nothing goes out until the end, then one tool_calls delta and "tool_calls".
  StreamEncoder call(o, *tok_, 1);
  std::string sse = call.encode(0, output({delta(0, " {\"name\": ")}, false, 3, 1));
  sse += call.encode(0, output({delta(0, "\"add\", \"parameters\": {\"a\": 2}}")}, false, 3, 2));
  EXPECT_EQ(events(sse).size(), 1u);  // the role chunk only
  sse += call.encode(0, output({delta(0, "", "stop")}, true, 3, 3));
  std::vector<std::string> ev = events(sse);
  ASSERT_EQ(ev.size(), 4u);  // role, tool_calls, finish, [DONE]
  const json d = json::parse(ev[1])["choices"][0]["delta"];
  EXPECT_FALSE(d.contains("content"));
  EXPECT_EQ(d["tool_calls"][0]["index"], 0);
  EXPECT_EQ(d["tool_calls"][0]["function"]["name"], "add");
  EXPECT_EQ(d["tool_calls"][0]["function"]["arguments"], "{\"a\":2}");
  EXPECT_EQ(json::parse(ev[2])["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(ev[3], "[DONE]");
  // Plain text: held only until it cannot be a call, then streamed as usual.
  StreamEncoder text(o, *tok_, 1);
  std::string t = text.encode(0, output({delta(0, "  ")}, false, 3, 1));
  EXPECT_EQ(events(t).size(), 1u);
  t += text.encode(0, output({delta(0, "Hi")}, false, 3, 2));
  ev = events(t);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(json::parse(ev[1])["choices"][0]["delta"]["content"], "  Hi");
  t += text.encode(0, output({delta(0, " there", "stop")}, true, 3, 3));
  ev = events(t);
  EXPECT_EQ(json::parse(ev[2])["choices"][0]["delta"]["content"], " there");
  EXPECT_EQ(json::parse(ev[3])["choices"][0]["finish_reason"], "stop");
  // Began like a call but was not one: the held text goes out at the end as content.
  StreamEncoder brace(o, *tok_, 1);
  ev = events(brace.encode(0, output({delta(0, "{not json}", "stop")}, true, 3, 3)));
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(json::parse(ev[1])["choices"][0]["delta"]["content"], "{not json}");
  EXPECT_EQ(json::parse(ev[2])["choices"][0]["finish_reason"], "stop");
}

}  // namespace
}  // namespace maas::api
