// request_parser_test.cc — defaults, the prompt forms, batch ids and seeds, context fitting,
// the Azure extra-parameters policy and chat rendering through the Llama 3 template.
#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "api/request_parser.h"

namespace maas::api {
namespace {

class RequestParser : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = testing::llama3_tokenizer();
    renderer_ = testing::llama3_renderer();
    ASSERT_NE(tok_, nullptr);
    ASSERT_NE(renderer_, nullptr);
    options_ = testing::default_options(*tok_);
  }
  ParsedRequest comp(const std::string& body) {
    auto r = parse_completion_request(body, options_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r).value() : ParsedRequest{};
  }
  ParsedRequest chat(const std::string& body) {
    auto r = parse_chat_request(body, options_, *renderer_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r).value() : ParsedRequest{};
  }
  const Tokenizer* tok_ = nullptr;
  const ChatRenderer* renderer_ = nullptr;
  ParseOptions options_;
};

TEST_F(RequestParser, Defaults) {
  ParsedRequest p = comp(R"({"prompt":"hello"})");
  ASSERT_EQ(p.prompts.size(), 1u);
  const EngineRequest& r = p.prompts[0];
  EXPECT_EQ(r.id, "req-1");
  EXPECT_EQ(r.prompt, tok_->encode("hello", true, false));
  EXPECT_EQ(r.prompt.front(), tok_->bos_id());
  EXPECT_EQ(r.max_tokens, 16);
  EXPECT_EQ(r.min_tokens, 0);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_FALSE(r.sampling.seed.has_value());
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.best_of, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.ignore_eos);
  EXPECT_TRUE(r.skip_special_tokens);
  EXPECT_FALSE(r.include_stop_str_in_output);
  EXPECT_FALSE(r.use_beam_search);
  EXPECT_EQ(r.logprobs, -1);
  EXPECT_EQ(r.sampling.n_logprobs, -1);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_EQ(p.response.kind, ApiKind::kCompletion);
  EXPECT_EQ(p.response.model, "llama-test");
  EXPECT_EQ(p.response.id, "cmpl-test");
  EXPECT_EQ(p.response.created, 1700000000);
  EXPECT_FALSE(p.response.stream);
  EXPECT_EQ(p.reserved_tokens, static_cast<int64_t>(r.prompt.size()) + 16);
}

TEST_F(RequestParser, EveryFieldCarried) {
  ParsedRequest p = comp(R"({"prompt":"hi","max_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.1,
    "presence_penalty":0.5,"frequency_penalty":-0.5,"repetition_penalty":1.1,"seed":-1,"n":2,"best_of":3,
    "stop":"\n","stop_token_ids":[128009],"ignore_eos":true,"skip_special_tokens":false,"min_tokens":2,
    "include_stop_str_in_output":true,"logit_bias":{"15":-100,"16":2.5},"logprobs":3,"echo":true,"user":"u",
    "model":"llama-test","priority":-7})");
  ASSERT_EQ(p.prompts.size(), 1u);
  const EngineRequest& r = p.prompts[0];
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(r.sampling.repetition_penalty, 1.1f);
  EXPECT_EQ(r.sampling.seed, std::optional<uint64_t>(~uint64_t{0}));  // -1 as two's complement
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.best_of, 3);
  EXPECT_EQ(r.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(r.stop_token_ids, std::vector<int32_t>{128009});
  EXPECT_TRUE(r.ignore_eos);
  EXPECT_FALSE(r.skip_special_tokens);
  EXPECT_EQ(r.min_tokens, 2);
  EXPECT_EQ(r.priority, -7);
  EXPECT_TRUE(r.include_stop_str_in_output);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  EXPECT_EQ(r.sampling.logit_bias[0], (std::pair<int32_t, float>(15, -100.0f)));
  EXPECT_EQ(r.sampling.logit_bias[1], (std::pair<int32_t, float>(16, 2.5f)));
  EXPECT_EQ(r.logprobs, 3);
  EXPECT_EQ(r.sampling.n_logprobs, 3);
  EXPECT_TRUE(r.echo_logprobs);
  EXPECT_TRUE(p.response.echo);
  EXPECT_EQ(p.response.echo_text, std::vector<std::string>{"hi"});
  EXPECT_EQ(p.response.n, 2);
  EXPECT_EQ(p.response.logprobs, 3);
}

TEST_F(RequestParser, BatchPromptsIdsAndSeeds) {
  ParsedRequest p = comp(R"({"prompt":["a","b c"],"n":2,"seed":100,"stream":true,
    "stream_options":{"include_usage":true}})");
  ASSERT_EQ(p.prompts.size(), 2u);
  EXPECT_EQ(p.prompts[0].id, "req-1-0");
  EXPECT_EQ(p.prompts[1].id, "req-1-1");
  EXPECT_EQ(p.prompts[0].sampling.seed, std::optional<uint64_t>(100));
  EXPECT_EQ(p.prompts[1].sampling.seed, std::optional<uint64_t>(102));  // seed + i * best_of
  EXPECT_EQ(p.prompts[1].prompt, tok_->encode("b c", true, false));
  EXPECT_TRUE(p.response.stream);
  EXPECT_TRUE(p.response.include_usage);

  ParsedRequest ids = comp(R"({"prompt":[[1,2,3],[4]]})");
  ASSERT_EQ(ids.prompts.size(), 2u);
  EXPECT_EQ(ids.prompts[0].prompt, (std::vector<int32_t>{1, 2, 3}));  // as sent, no BOS
  EXPECT_EQ(ids.prompts[1].prompt, (std::vector<int32_t>{4}));
  ParsedRequest one = comp(R"({"prompt":[9906, 1917]})");
  ASSERT_EQ(one.prompts.size(), 1u);
  EXPECT_EQ(one.prompts[0].prompt, (std::vector<int32_t>{9906, 1917}));
}

TEST_F(RequestParser, SpecialTokenTextInPromptIsLiteral) {
  ParsedRequest p = comp(R"({"prompt":"<|eot_id|>"})");
  ASSERT_EQ(p.prompts.size(), 1u);
  for (size_t i = 1; i < p.prompts[0].prompt.size(); ++i) EXPECT_FALSE(tok_->is_special(p.prompts[0].prompt[i]));
  EXPECT_GT(p.prompts[0].prompt.size(), 2u);
  options_.parse_special_in_prompt = true;
  ParsedRequest q = comp(R"({"prompt":"<|eot_id|>"})");
  EXPECT_EQ(q.prompts[0].prompt, (std::vector<int32_t>{tok_->bos_id(), *tok_->find_token("<|eot_id|>")}));
}

TEST_F(RequestParser, ContextFitting) {
  options_.n_ctx = 10;
  // Default max_tokens (16) is lowered to what fits; an explicit one is not.
  ParsedRequest p = comp(R"({"prompt":"hello world"})");  // 3 tokens
  ASSERT_EQ(p.prompts.size(), 1u);
  EXPECT_EQ(p.prompts[0].max_tokens, 7);
  auto explicit_mt = parse_completion_request(R"({"prompt":"hello world","max_tokens":8})", options_);
  ASSERT_FALSE(explicit_mt.ok());
  EXPECT_EQ(explicit_mt.error().code, "context_length_exceeded");
  auto full = parse_completion_request(R"({"prompt":[1,2,3,4,5,6,7,8,9,10]})", options_);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "context_length_exceeded");
  // D6: text that cannot fit is refused before tokenizing.
  options_.max_piece_bytes = max_piece_bytes(*tok_);
  EXPECT_GT(options_.max_piece_bytes, 4);
  auto big = parse_completion_request(R"({"prompt":")" + std::string(10 << 20, 'a') + R"("})", options_);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "context_length_exceeded");
}

TEST_F(RequestParser, UnknownFieldsOpenAiIgnored) {
  ParsedRequest p = comp(R"({"prompt":"x","n_discard":-1,"n_keep":-5})");
  EXPECT_EQ(p.ignored_fields, (std::vector<std::string>{"n_discard", "n_keep"}));
}

TEST_F(RequestParser, AzureExtraParameters) {
  options_.azure = true;
  auto header = parse_extra_parameters_header(nullptr);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header.value(), ExtraParameters::kError);
  options_.extra_parameters = header.value();
  auto r = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"foo":1})", options_, *renderer_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 422);
  EXPECT_EQ(r.error().code, "parameter_not_supported");
  EXPECT_EQ(r.error().param, "foo");
  for (const char* v : {"drop", "ignore", "pass-through"}) {
    const std::string s = v;
    auto h = parse_extra_parameters_header(&s);
    ASSERT_TRUE(h.ok());
    options_.extra_parameters = h.value();
    ParsedRequest p = chat(R"({"messages":[{"role":"user","content":"x"}],"foo":1})");
    EXPECT_EQ(p.ignored_fields, std::vector<std::string>{"foo"});
  }
  const std::string bad = "yes";
  auto h = parse_extra_parameters_header(&bad);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().param, "extra-parameters");
}

TEST_F(RequestParser, ChatRendersLlama3Template) {
  ParsedRequest p = chat(R"({"messages":[{"role":"system","content":"Be brief."},
    {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]}],
    "logprobs":true,"top_logprobs":2,"max_completion_tokens":5})");
  ASSERT_EQ(p.prompts.size(), 1u);
  const std::string expected =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHi\nthere<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
  EXPECT_EQ(p.prompts[0].prompt, tok_->encode(expected, false, true));
  EXPECT_EQ(p.prompts[0].max_tokens, 5);
  EXPECT_EQ(p.prompts[0].logprobs, 2);
  EXPECT_EQ(p.response.kind, ApiKind::kChat);
  EXPECT_FALSE(p.response.echo);
  ParsedRequest int_form = chat(R"({"messages":[{"role":"user","content":"x"}],"logprobs":4})");
  EXPECT_EQ(int_form.prompts[0].logprobs, 4);
  ParsedRequest off = chat(R"({"messages":[{"role":"user","content":"x"}],"logprobs":false})");
  EXPECT_EQ(off.prompts[0].logprobs, -1);
}

}  // namespace
}  // namespace maas::api
