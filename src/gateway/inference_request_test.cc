// inference_request_test.cc — what the gateway reads from a body: the strict parser's refusals,
// the rate-limit estimate (prompt + max_tokens * max(n, best_of), TESTPLAN G11), and the
// forwarded body asking for usage on every chunk.
#include <gtest/gtest.h>

#include "gateway/inference_request.h"

namespace maas::gateway {
namespace {

using Json = nlohmann::json;

TEST(InferenceRequest, RefusesWhatTheWorkerRefuses) {
  for (const char* bad : {"{\"prompt\":", "[]", "{\"a\":1,\"a\":2}", "{\"t\":NaN}", "\xff\xfe"}) {
    auto r = read_inference_request(bad, false, "ep", "m");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().http_status, 400);
  }
}

TEST(InferenceRequest, Estimate) {
  // 12 bytes of text -> 3 tokens; default max_tokens 16.
  EXPECT_EQ(read_inference_request(R"({"prompt":"Hello world!"})", false, "ep", "m")->estimated_tokens, 3 + 16);
  EXPECT_EQ(read_inference_request(R"({"prompt":[1,2,3],"max_tokens":10})", false, "ep", "m")->estimated_tokens, 13);
  EXPECT_EQ(read_inference_request(R"({"prompt":["abcd","abcdefgh"],"max_tokens":1})", false, "ep", "m")->estimated_tokens,
            3 + 1);
  // n and best_of multiply max_tokens by the larger (G11).
  EXPECT_EQ(read_inference_request(R"({"prompt":[1],"max_tokens":10,"n":4,"best_of":5})", false, "ep", "m")->estimated_tokens,
            1 + 50);
  // Chat: 4 per message plus the text.
  EXPECT_EQ(read_inference_request(R"({"messages":[{"role":"user","content":"abcdefgh"}],"max_completion_tokens":2})", true,
                                   "ep", "m")->estimated_tokens,
            4 + 2 + 2);
}

TEST(InferenceRequest, StreamsAskForUsageOnEveryChunk) {
  auto r = read_inference_request(R"({"prompt":"x","stream":true,"model":"ep"})", false, "ep", "served");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stream);
  EXPECT_FALSE(r->include_usage);
  Json fwd = Json::parse(r->forward_body);
  EXPECT_EQ(fwd["stream_options"]["include_usage"], true);
  EXPECT_EQ(fwd["stream_options"]["continuous_usage_stats"], true);
  EXPECT_EQ(fwd["model"], "served") << "the endpoint's name means its model";
  auto asked = read_inference_request(R"({"prompt":"x","stream":true,"stream_options":{"include_usage":true}})", false,
                                      "ep", "served");
  EXPECT_TRUE(asked->include_usage);
  EXPECT_FALSE(asked->continuous_usage);
  // A field of the wrong type is left for the worker to refuse.
  auto wrong = read_inference_request(R"({"prompt":"x","stream":true,"stream_options":{"include_usage":"yes"}})", false,
                                      "ep", "served");
  EXPECT_EQ(Json::parse(wrong->forward_body)["stream_options"]["include_usage"], "yes");
  // Not a stream: nothing added.
  auto plain = read_inference_request(R"({"prompt":"x","model":"other"})", false, "ep", "served");
  Json p = Json::parse(plain->forward_body);
  EXPECT_FALSE(p.contains("stream_options"));
  EXPECT_EQ(p["model"], "other");
}

}  // namespace
}  // namespace maas::gateway
