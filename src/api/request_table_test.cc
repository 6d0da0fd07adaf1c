// request_table_test.cc — every bad input of TESTPLAN A1–A3, A8, A10, C1–C17, D1, D2, D4,
// D7, D8, D10 (and a few more) against the parser, with the exact status, param and code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/api_test_util.h"
#include "api/request_parser.h"

namespace maas::api {
namespace {

enum Route { kComp, kChat };

struct Case {
  const char* name;
  Route route;
  std::string body;
  int status;         // 200: parses
  std::string param;  // "" = null
  std::string code;   // "" = null
};

std::string comp(const std::string& extra) { return R"({"prompt":"hello")" + extra + "}"; }
std::string chat(const std::string& extra) {
  return R"({"messages":[{"role":"user","content":"hi"}])" + extra + "}";
}

std::vector<Case> cases() {
  const std::string deep = R"({"messages":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const std::string big_stop = R"(,"stop":[")" + std::string(100 * 1024, 'x') + R"("])";
  return {
      {"A1 malformed", kComp, R"({"model":)", 400, "", "invalid_json"},
      {"A2 array", kComp, "[]", 400, "", ""},
      {"A2 null", kComp, "null", 400, "", ""},
      {"A2 number", kChat, "42", 400, "", ""},
      {"A2 string", kChat, R"("s")", 400, "", ""},
      {"A2 bool", kComp, "true", 400, "", ""},
      {"A3 gbk", kComp, "{\"prompt\":\"\xC4\xE3\xBA\xC3\"}", 400, "", "invalid_json"},
      {"A3 overlong", kChat, "{\"messages\":\"\xC0\xAF\"}", 400, "", "invalid_json"},
      {"A8 deep", kChat, deep, 400, "", "invalid_json"},
      {"A10 duplicate", kComp, R"({"prompt":"x","max_tokens":1,"max_tokens":1000000000})", 400, "", "invalid_json"},
      {"A10 nested dup", kChat, R"({"messages":[{"role":"user","role":"system","content":"x"}]})", 400, "",
       "invalid_json"},
      {"C1 temp -1", kComp, comp(R"(,"temperature":-1)"), 400, "temperature", ""},
      {"C1 temp 2.5", kChat, chat(R"(,"temperature":2.5)"), 400, "temperature", ""},
      {"C2 NaN", kComp, comp(R"(,"temperature":NaN)"), 400, "", "invalid_json"},
      {"C2 Infinity", kComp, comp(R"(,"temperature":Infinity)"), 400, "", "invalid_json"},
      {"C2 -Infinity", kChat, chat(R"(,"temperature":-Infinity)"), 400, "", "invalid_json"},
      {"C3 1e308", kComp, comp(R"(,"temperature":1e308)"), 400, "temperature", ""},
      {"C3 1e400", kComp, comp(R"(,"temperature":1e400)"), 400, "", "invalid_json"},
      {"C3 string", kComp, comp(R"(,"temperature":"0.7")"), 400, "temperature", ""},
      {"C3 -0.0", kComp, comp(R"(,"temperature":-0.0)"), 200, "", ""},
      {"C4 top_p 0", kComp, comp(R"(,"top_p":0)"), 400, "top_p", ""},
      {"C4 top_p >1", kChat, chat(R"(,"top_p":1.0000001)"), 400, "top_p", ""},
      {"C4 top_p NaN", kChat, chat(R"(,"top_p":NaN)"), 400, "", "invalid_json"},
      {"C5 presence", kComp, comp(R"(,"presence_penalty":2.5)"), 400, "presence_penalty", ""},
      {"C5 frequency", kChat, chat(R"(,"frequency_penalty":-3)"), 400, "frequency_penalty", ""},
      {"C5 repetition", kComp, comp(R"(,"repetition_penalty":0)"), 400, "repetition_penalty", ""},
      {"C6 -1", kComp, comp(R"(,"max_tokens":-1)"), 400, "max_tokens", ""},
      {"C6 0 chat", kChat, chat(R"(,"max_tokens":0)"), 400, "max_tokens", ""},
      {"C6 0 completions", kComp, comp(R"(,"max_tokens":0)"), 400, "max_tokens", ""},
      {"C6 10.5", kComp, comp(R"(,"max_tokens":10.5)"), 400, "max_tokens", ""},
      {"C6 10.0", kComp, comp(R"(,"max_tokens":10.0)"), 400, "max_tokens", ""},
      {"C6 string", kChat, chat(R"(,"max_tokens":"10")"), 400, "max_tokens", ""},
      {"C6 2^63", kComp, comp(R"(,"max_tokens":9223372036854775808)"), 400, "max_tokens", ""},
      {"C6 2^64", kComp, comp(R"(,"max_tokens":18446744073709551616)"), 400, "max_tokens", ""},
      {"C6 mct string", kChat, chat(R"(,"max_completion_tokens":"5")"), 400, "max_completion_tokens", ""},
      {"C7 over ctx", kComp, comp(R"(,"max_tokens":5000)"), 400, "prompt", "context_length_exceeded"},
      {"C7 over ctx chat", kChat, chat(R"(,"max_tokens":4090)"), 400, "messages", "context_length_exceeded"},
      {"C8 n 0", kComp, comp(R"(,"n":0)"), 400, "n", ""},
      {"C8 n 129", kChat, chat(R"(,"n":129)"), 400, "n", ""},
      {"C8 n 1e6", kComp, comp(R"(,"n":1000000)"), 400, "n", ""},
      {"C9 best_of 500", kComp, comp(R"(,"best_of":500)"), 400, "best_of", ""},
      {"C9 best_of < n", kComp, comp(R"(,"n":3,"best_of":2)"), 400, "best_of", ""},
      {"C9 best_of stream", kComp, comp(R"(,"best_of":3,"stream":true)"), 400, "best_of", ""},
      {"C9 best_of == n stream", kComp, comp(R"(,"n":2,"best_of":2,"stream":true)"), 200, "", ""},
      {"C10 logprobs 6 (SPEC 0..20)", kComp, comp(R"(,"logprobs":6)"), 200, "", ""},
      {"C10 logprobs 21", kComp, comp(R"(,"logprobs":21)"), 400, "logprobs", ""},
      {"C10 logprobs bool comp", kComp, comp(R"(,"logprobs":true)"), 400, "logprobs", ""},
      {"C10 top_logprobs 21", kChat, chat(R"(,"logprobs":true,"top_logprobs":21)"), 400, "top_logprobs", ""},
      {"C10 top_logprobs alone", kChat, chat(R"(,"top_logprobs":2)"), 400, "top_logprobs", ""},
      {"C10 top_logprobs false", kChat, chat(R"(,"logprobs":false,"top_logprobs":2)"), 400, "top_logprobs", ""},
      {"C10 chat int form + top", kChat, chat(R"(,"logprobs":3,"top_logprobs":2)"), 400, "top_logprobs", ""},
      {"C10 chat string", kChat, chat(R"(,"logprobs":"true")"), 400, "logprobs", ""},
      {"C11 echo max0", kComp, comp(R"(,"echo":true,"max_tokens":0,"logprobs":1)"), 400, "max_tokens", ""},
      {"C11 echo logprobs stream", kComp, comp(R"(,"echo":true,"logprobs":1,"stream":true)"), 400, "echo", ""},
      {"C12 bias = vocab", kComp, comp(R"(,"logit_bias":{"128256":1})"), 400, "logit_bias", ""},
      {"C12 bias -1", kComp, comp(R"(,"logit_bias":{"-1":1})"), 400, "logit_bias", ""},
      {"C12 bias abc", kChat, chat(R"(,"logit_bias":{"abc":1})"), 400, "logit_bias", ""},
      {"C12 bias 01", kChat, chat(R"(,"logit_bias":{"01":1})"), 400, "logit_bias", ""},
      {"C12 bias 101", kComp, comp(R"(,"logit_bias":{"5":101})"), 400, "logit_bias", ""},
      {"C12 bias string", kComp, comp(R"(,"logit_bias":{"5":"1"})"), 400, "logit_bias", ""},
      {"C12 bias list", kComp, comp(R"(,"logit_bias":[1])"), 400, "logit_bias", ""},
      {"C13 five stops", kComp, comp(R"(,"stop":["a","b","c","d","e"])"), 400, "stop", ""},
      {"C13 empty stop", kChat, chat(R"(,"stop":[""])"), 400, "stop[0]", ""},
      {"C13 empty stop str", kChat, chat(R"(,"stop":"")"), 400, "stop", ""},
      {"C13 non-string stop", kComp, comp(R"(,"stop":[1])"), 400, "stop[0]", ""},
      {"C13 number stop", kComp, comp(R"(,"stop":1)"), 400, "stop", ""},
      {"C13 100KB stop", kComp, comp(big_stop), 400, "stop[0]", ""},
      {"C14 stop id = vocab", kComp, comp(R"(,"stop_token_ids":[128256])"), 400, "stop_token_ids[0]", ""},
      {"C14 stop id -1", kChat, chat(R"(,"stop_token_ids":[1,-1])"), 400, "stop_token_ids[1]", ""},
      {"C14 allowed_token_ids", kComp, comp(R"(,"allowed_token_ids":[1])"), 400, "allowed_token_ids", ""},
      {"C15 seed > int64", kComp, comp(R"(,"seed":9223372036854775808)"), 400, "seed", ""},
      {"C15 seed -1.5", kComp, comp(R"(,"seed":-1.5)"), 400, "seed", ""},
      {"C15 seed -1", kComp, comp(R"(,"seed":-1)"), 200, "", ""},
      {"C16 stream string", kComp, comp(R"(,"stream":"true")"), 400, "stream", ""},
      {"C16 stream 1", kChat, chat(R"(,"stream":1)"), 400, "stream", ""},
      {"C16 echo string", kComp, comp(R"(,"echo":"true")"), 400, "echo", ""},
      {"C16 ignore_eos 1", kComp, comp(R"(,"ignore_eos":1)"), 400, "ignore_eos", ""},
      {"priority 1.5", kComp, comp(R"(,"priority":1.5)"), 400, "priority", ""},
      {"priority string", kChat, chat(R"(,"priority":"high")"), 400, "priority", ""},
      {"priority > int32", kComp, comp(R"(,"priority":2147483648)"), 400, "priority", ""},
      {"priority -5", kChat, chat(R"(,"priority":-5)"), 200, "", ""},
      {"C16 include_usage str", kChat, chat(R"(,"stream":true,"stream_options":{"include_usage":"yes"})"), 400,
       "stream_options.include_usage", ""},
      {"continuous_usage_stats str", kChat, chat(R"(,"stream":true,"stream_options":{"continuous_usage_stats":1})"), 400,
       "stream_options.continuous_usage_stats", ""},
      {"C16 stream_options w/o stream", kChat, chat(R"(,"stream_options":{"include_usage":true})"), 400,
       "stream_options", ""},
      {"C17 internal knobs", kComp, comp(R"(,"n_discard":-1,"n_keep":-5,"n_ctx":1,"n_probs":1000000)"), 200, "", ""},
      {"C18 response_format schema", kChat, chat(R"(,"response_format":{"type":"json_schema"})"), 400,
       "response_format.json_schema", ""},
      {"C18 response_format no schema", kChat, chat(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x"}})"),
       400, "response_format.json_schema.schema", ""},
      {"C18 response_format bad type", kChat, chat(R"(,"response_format":{"type":"xml"})"), 400, "response_format.type", ""},
      {"C18 schema bad type", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"strnig"}}})"), 400,
       "response_format.json_schema.schema", ""},
      {"C18 schema regex pattern", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string","pattern":"(a+)+$"}}})"),
       400, "response_format.json_schema.schema", ""},
      {"C18 schema 40 deep", kComp, comp(R"(,"guided_json":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}})"), 400, "guided_json", ""},
      {"C18 schema 5000 deep", kComp, comp(R"(,"guided_json":)" + std::string(5000, '[') + std::string(5000, ']')), 400, "", "invalid_json"},
      {"C18 schema ambiguous anyOf", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"anyOf":[{"type":"integer"},{"type":"number"}]}}})"),
       400, "response_format.json_schema.schema", ""},
      {"C18 schema its own alternative", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"#/$defs/A","$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"null"}]}}}}})"),
       400, "response_format.json_schema.schema", ""},
      {"C18 schema union chain", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"#/$defs/A","$defs":{"A":{"anyOf":[{"$ref":"#/$defs/B"},{"type":"null"}]},"B":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"string"}]}}}}})"),
       400, "response_format.json_schema.schema", ""},
      {"json_object", kChat, chat(R"(,"response_format":{"type":"json_object"})"), 200, "", ""},
      {"json_schema", kChat,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"$ref":"#/$defs/B"}},"required":["a"],"$defs":{"B":{"type":"array","items":{"$ref":"#/$defs/B"}}}}}})"),
       200, "", ""},
      {"guided_json string", kComp, comp(R"(,"guided_json":"{\"type\":\"integer\"}")"), 200, "", ""},
      {"both response_format and guided_json", kComp,
       comp(R"(,"guided_json":{},"response_format":{"type":"json_object"})"), 400, "guided_json", ""},
      {"C18 tools", kChat, chat(R"(,"tools":[{"type":"function"}])"), 400, "tools[0].function", ""},
      {"C18 tools not a list", kChat, chat(R"(,"tools":{"type":"function"})"), 400, "tools", ""},
      {"C18 tool bad name", kChat, chat(R"(,"tools":[{"type":"function","function":{"name":"a b"}}])"), 400,
       "tools[0].function.name", ""},
      {"C18 tool duplicate", kChat,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}])"), 400,
       "tools[1].function.name", ""},
      {"C18 tool bad schema", kChat,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string","pattern":"x"}}}}}],"tool_choice":"required")"),
       400, "tools[0].function.parameters", ""},
      {"tool_choice unknown function", kChat,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}})"),
       400, "tool_choice.function.name", ""},
      {"tool_choice without tools", kChat, chat(R"(,"tool_choice":"required")"), 400, "tool_choice", ""},
      {"tool_choice bad", kChat, chat(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always")"),
       400, "tool_choice", ""},
      {"tools ok", kChat,
       chat(R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"required","parallel_tool_calls":false)"),
       200, "", ""},
      {"tools on completions", kComp, comp(R"(,"tools":[{"type":"function","function":{"name":"f"}}])"), 400, "tools", ""},
      {"forced call and response_format", kChat,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","response_format":{"type":"json_object"})"),
       400, "response_format", ""},
      {"C18 empty tools ok", kChat, chat(R"(,"tools":[],"tool_choice":"none")"), 200, "", ""},
      {"D1 empty prompt", kComp, R"({"prompt":""})", 400, "prompt", ""},
      {"D1 missing prompt", kComp, R"({"max_tokens":3})", 400, "prompt", ""},
      {"D2 empty array", kComp, R"({"prompt":[]})", 400, "prompt", ""},
      {"D2 empty messages", kChat, R"({"messages":[]})", 400, "messages", ""},
      {"D2 missing messages", kChat, R"({"stream":false})", 400, "messages", ""},
      {"D3 empty content", kChat, R"({"messages":[{"role":"user","content":""}]})", 200, "", ""},
      {"D4 id = vocab", kComp, R"({"prompt":[1,128256]})", 400, "prompt", ""},
      {"D4 id -1", kComp, R"({"prompt":[-1]})", 400, "prompt", ""},
      {"D4 id huge", kComp, R"({"prompt":[5279552648203111001]})", 400, "prompt", ""},
      {"D4 id in batch", kComp, R"({"prompt":[[1],[2,128256]]})", 400, "prompt[1]", ""},
      {"D7 role root", kChat, R"({"messages":[{"role":"root","content":"x"}]})", 400, "messages[0].role", ""},
      {"tool message without id", kChat, R"({"messages":[{"role":"tool","content":"x"}]})", 400, "messages[0].tool_call_id", ""},
      {"tool conversation", kChat,
       R"({"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"sunny"}]})",
       200, "", ""},
      {"tool call arguments not an object", kChat,
       R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})",
       400, "messages[0].tool_calls[0].function.arguments", ""},
      {"tool calls on a user message", kChat,
       R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})", 400, "messages[0].tool_calls", ""},
      {"D7 role missing", kChat, R"({"messages":[{"content":"x"}]})", 400, "messages[0].role", ""},
      {"D7 content missing", kChat, R"({"messages":[{"role":"user"}]})", 400, "messages[0].content", ""},
      {"D7 content number", kChat, R"({"messages":[{"role":"user","content":5}]})", 400, "messages[0].content", ""},
      {"D7 part type", kChat, R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
       400, "messages[0].content[0].type", ""},
      {"D7 part text missing", kChat, R"({"messages":[{"role":"user","content":[{"type":"text"}]}]})", 400,
       "messages[0].content[0].text", ""},
      {"D7 message not object", kChat, R"({"messages":[{"role":"user","content":"a"},"x"]})", 400, "messages[1]",
       ""},
      {"D8 lone surrogate", kChat, R"({"messages":[{"role":"user","content":"\ud800"}]})", 400, "", "invalid_json"},
      {"D8 NUL", kChat, R"({"messages":[{"role":"user","content":"a\u0000b"}]})", 200, "", ""},
      {"D10 str then int", kComp, R"({"prompt":["a",1]})", 400, "prompt[1]", ""},
      {"D10 arr then str", kComp, R"({"prompt":[[1],"a"]})", 400, "prompt[1]", ""},
      {"D10 int then str", kComp, R"({"prompt":[1,"a"]})", 400, "prompt", ""},
      {"D10 empty inner", kComp, R"({"prompt":[[]]})", 400, "prompt[0]", ""},
      {"D10 empty string in batch", kComp, R"({"prompt":["a",""]})", 400, "prompt[1]", ""},
      {"D10 object prompt", kComp, R"({"prompt":{"a":1}})", 400, "prompt", ""},
      {"D10 float id", kComp, R"({"prompt":[1.5]})", 400, "prompt", ""},
      {"model unknown", kComp, R"({"prompt":"x","model":"gpt-4"})", 404, "model", "model_not_found"},
      {"model wrong type", kChat, chat(R"(,"model":5)"), 400, "model", ""},
      {"beam needs temp 0", kComp, comp(R"(,"use_beam_search":true,"best_of":2)"), 400, "temperature", ""},
      {"beam needs width", kComp, comp(R"(,"use_beam_search":true,"temperature":0)"), 400, "use_beam_search", ""},
      {"min_tokens > max", kComp, comp(R"(,"max_tokens":2,"min_tokens":3)"), 400, "min_tokens", ""},
      {"min_tokens > default", kComp, comp(R"(,"min_tokens":17)"), 400, "min_tokens", ""},
      {"suffix refused", kComp, comp(R"(,"suffix":"x")"), 400, "suffix", ""},
      {"suffix on chat ignored", kChat, chat(R"(,"suffix":"x")"), 200, "", ""},
      {"functions refused", kChat, chat(R"(,"functions":[{"name":"f"}])"), 400, "functions", ""},
      {"tool_choice required", kChat, chat(R"(,"tool_choice":"required")"), 400, "tool_choice", ""},
      {"top_k -2", kComp, comp(R"(,"top_k":-2)"), 400, "top_k", ""},
      {"min_p 1.5", kChat, chat(R"(,"min_p":1.5)"), 400, "min_p", ""},
  };
}

TEST(RequestTable, EveryCase) {
  const Tokenizer* tok = testing::llama3_tokenizer();
  const ChatRenderer* renderer = testing::llama3_renderer();
  ASSERT_NE(tok, nullptr);
  ASSERT_NE(renderer, nullptr);
  const ParseOptions options = testing::default_options(*tok);
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto r = c.route == kComp ? parse_completion_request(c.body, options)
                              : parse_chat_request(c.body, options, *renderer);
    if (c.status == 200) {
      EXPECT_TRUE(r.ok()) << r.error().message << " param=" << r.error().param;
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().http_status, c.status) << r.error().message;
    EXPECT_EQ(r.error().param, c.param) << r.error().message;
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    if (c.status == 400 || c.status == 404) {
      EXPECT_EQ(r.error().type, "invalid_request_error");
    }
  }
}

TEST(RequestTable, Messages) {
  const Tokenizer* tok = testing::llama3_tokenizer();
  ASSERT_NE(tok, nullptr);
  const ParseOptions options = testing::default_options(*tok);
  auto deep = parse_completion_request(R"({"prompt":)" + std::string(100000, '[') + "}", options);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("nesting too deep"), std::string::npos);
  auto oov = parse_completion_request(R"({"prompt":[5279552648203111001]})", options);
  ASSERT_FALSE(oov.ok());
  EXPECT_NE(oov.error().message.find("out of vocabulary"), std::string::npos);
  auto empty = parse_completion_request(R"({"prompt":""})", options);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("non-empty"), std::string::npos);
  auto ctx = parse_completion_request(R"({"prompt":"hello world","max_tokens":5000})", options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().message,
            "This model's maximum context length is 4096 tokens. However, you requested 5003 tokens (3 in the "
            "prompt, 5000 in the completion). Please reduce the length of the prompt or completion.");
}

}  // namespace
}  // namespace maas::api
