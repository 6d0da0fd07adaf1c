// wire_test.cc — unit tests for the pure helpers: target normalisation, serialisation, ids.
#include "http/wire.h"

#include <gtest/gtest.h>

namespace maas::http::wire {
namespace {

std::string path_of(std::string_view target) {
  auto t = parse_target(target);
  return t ? t->path : "<invalid>";
}

TEST(ParseTarget, NormalisesPaths) {
  EXPECT_EQ(path_of("/"), "/");
  EXPECT_EQ(path_of("/v1/models"), "/v1/models");
  EXPECT_EQ(path_of("/v1/models/"), "/v1/models");
  EXPECT_EQ(path_of("//v1//chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(path_of("/%2Fv1/models"), "/v1/models");
  EXPECT_EQ(path_of("/v1/./x/../models"), "/v1/models");
  EXPECT_EQ(path_of("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(path_of("/v1/%2e%2e/health"), "/health");
  EXPECT_EQ(path_of("/V1/Models"), "/V1/Models");  // case kept
  EXPECT_EQ(path_of("/a%20b"), "/a b");
  EXPECT_EQ(path_of("http://example.com/v1/models?x=1"), "/v1/models");
  EXPECT_EQ(path_of("http://example.com"), "/");
  EXPECT_EQ(path_of("*"), "*");
}

TEST(ParseTarget, SplitsQuery) {
  auto t = parse_target("/completions?api-version=2024-05-01&x=%20#frag");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/completions");
  EXPECT_EQ(t->query, "api-version=2024-05-01&x=%20");
}

TEST(ParseTarget, RejectsMalformed) {
  for (std::string_view bad : {"", "v1/models", "/a%", "/a%2", "/a%zz", "/a%00b", "ftp://x/y",
                               "http://host?x"}) {
    EXPECT_FALSE(parse_target(bad).has_value()) << bad;
  }
}

TEST(SerializeHead, FramingAndRequestId) {
  std::vector<Header> headers = {{"Content-Type", "application/json"},
                                 {"Content-Length", "999"},
                                 {"Connection", "keep-alive"},
                                 {"bad name", "x"},
                                 {"X-Evil", "a\r\nSet-Cookie: x"}};
  Head head;
  head.status = 404;
  head.headers = &headers;
  head.request_id = "rid";
  head.content_length = 5;
  std::string s = serialize_head(head);
  EXPECT_EQ(s,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            "X-Evil: aSet-Cookie: x\r\nx-request-id: rid\r\ncontent-length: 5\r\n\r\n");
  headers = {{"X-Request-Id", "mine"}};
  head.framing = Framing::kChunked;
  head.close = true;
  EXPECT_EQ(serialize_head(head),
            "HTTP/1.1 404 Not Found\r\nX-Request-Id: mine\r\ntransfer-encoding: chunked\r\n"
            "connection: close\r\n\r\n");
}

TEST(Wire, ChunksAndErrors) {
  EXPECT_EQ(frame_chunk(""), "");
  EXPECT_EQ(frame_chunk("hello world, 26 bytes long"), "1a\r\nhello world, 26 bytes long\r\n");
  EXPECT_EQ(error_json("bad \"x\"\n", "invalid_request_error", "c"),
            "{\"error\":{\"message\":\"bad \\\"x\\\"\\n\",\"type\":\"invalid_request_error\","
            "\"param\":null,\"code\":\"c\"}}");
}

TEST(Wire, RequestIds) {
  EXPECT_TRUE(is_acceptable_request_id("abc-123"));
  EXPECT_FALSE(is_acceptable_request_id(""));
  EXPECT_FALSE(is_acceptable_request_id("a b"));
  EXPECT_FALSE(is_acceptable_request_id(std::string(129, 'a')));
  EXPECT_FALSE(is_acceptable_request_id("caf\xc3\xa9"));
  std::string a = generate_request_id(), b = generate_request_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Wire, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "a"}, {"content-type", "b"}};
  ASSERT_NE(r.header("CONTENT-TYPE"), nullptr);
  EXPECT_EQ(*r.header("content-type"), "a");
  EXPECT_EQ(r.header("accept"), nullptr);
}

}  // namespace
}  // namespace maas::http::wire
