// sse_relay_test.cc — the stream relay: usage read from every chunk, removed or nulled as the
// client asked, the final usage chunk kept only for include_usage, [DONE] held back, events
// split across reads, error events passed through.
#include <gtest/gtest.h>

#include "gateway/sse_relay.h"

namespace maas::gateway {
namespace {

const char* kChunk1 =
    R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi \"usage\":"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})"
    "\n\n";
const char* kChunk2 =
    R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"
    "\n\n";
const char* kUsage =
    R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"
    "\n\n";
const char* kDone = "data: [DONE]\n\n";

std::string all() { return std::string(kChunk1) + kChunk2 + kUsage + kDone; }

TEST(SseRelay, ClientAskedForNoUsage) {
  SseRelay relay(false, false);
  const std::string out = relay.feed(all());
  EXPECT_EQ(out.find("usage\":{"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"choices\":[]"), std::string::npos);
  EXPECT_EQ(out.find("[DONE]"), std::string::npos) << "held back";
  EXPECT_NE(out.find(R"("delta":{"content":"Hi \"usage\":"},)"), std::string::npos) << "content untouched";
  EXPECT_TRUE(relay.saw_done());
  EXPECT_EQ(relay.usage().prompt_tokens, 5);
  EXPECT_EQ(relay.usage().completion_tokens, 2);
  EXPECT_EQ(relay.finish_reason(), "length");
}

TEST(SseRelay, IncludeUsageOnly) {
  SseRelay relay(true, false);
  const std::string out = relay.feed(all());
  EXPECT_NE(out.find(R"("finish_reason":null}],"usage":null})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"),
            std::string::npos);
}

TEST(SseRelay, ContinuousUsagePassesUnchanged) {
  SseRelay relay(true, true);
  EXPECT_EQ(relay.feed(all()), std::string(kChunk1) + kChunk2 + kUsage);
}

TEST(SseRelay, EventsSplitAcrossReads) {
  SseRelay whole(false, false), split(false, false);
  const std::string expected = whole.feed(all());
  const std::string s = all();
  std::string out;
  for (size_t i = 0; i < s.size(); i += 7) out += split.feed(s.substr(i, 7));
  EXPECT_EQ(out, expected);
  EXPECT_EQ(split.usage().completion_tokens, 2);
}

TEST(SseRelay, CutShortKeepsTheLastUsage) {
  SseRelay relay(false, false);
  (void)relay.feed(kChunk1);
  EXPECT_FALSE(relay.saw_done());
  EXPECT_EQ(relay.usage().completion_tokens, 1);
}

TEST(SseRelay, ErrorEventsPass) {
  SseRelay relay(false, false);
  const std::string err = R"(data: {"error":{"message":"x","type":"server_error","param":null,"code":null}})"
                          "\n\n";
  EXPECT_EQ(relay.feed(err + kDone), err);
  EXPECT_TRUE(relay.saw_error());
}

}  // namespace
}  // namespace maas::gateway
