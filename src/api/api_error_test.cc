// api_error_test.cc — Status -> HTTP mapping, error bodies (shape, Azure header, Retry-After,
// sanitising user bytes), the JSON body parser's guards and UTF-8 helpers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "api/json_body.h"
#include "api/utf8_text.h"

namespace maas::api {
namespace {

using nlohmann::json;

std::string header(const HttpErrorResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(ApiError, StatusMapping) {
  struct Row {
    Status status;
    int http;
    const char* type;
    const char* code;
  };
  const Row rows[] = {
      {invalid_argument("bad"), 400, "invalid_request_error", ""},
      {out_of_range("too long"), 400, "invalid_request_error", ""},
      {unimplemented("no"), 400, "invalid_request_error", ""},
      {not_found("model x"), 404, "invalid_request_error", "not_found"},
      {Status(StatusCode::kUnauthenticated, "k"), 401, "authentication_error", "invalid_api_key"},
      {Status(StatusCode::kPermissionDenied, "p"), 403, "permission_error", "permission_denied"},
      {Status(StatusCode::kDeadlineExceeded, "t"), 408, "invalid_request_error", "request_timeout"},
      {resource_exhausted("queue full"), 503, "server_error", "server_is_overloaded"},
      {unavailable("loading"), 503, "server_error", "service_unavailable"},
      {internal_error("/src/secret.cc:12 key=abc"), 500, "server_error", "server_error"},
      {data_loss("x"), 500, "server_error", "server_error"},
      {cancelled("gone"), 499, "invalid_request_error", "cancelled"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.status.to_string());
    const ApiError e = api_error_from_status(row.status);
    EXPECT_EQ(e.http_status, row.http);
    EXPECT_EQ(e.type, row.type);
    EXPECT_EQ(e.code, row.code);
  }
  EXPECT_TRUE(api_error_from_status(Status::Ok()).ok());
  EXPECT_EQ(api_error_from_status(internal_error("/src/secret.cc")).message.find("secret"), std::string::npos);
}

TEST(ApiError, Factories) {
  EXPECT_EQ(unauthenticated().http_status, 401);
  EXPECT_EQ(model_not_found("m").code, "model_not_found");
  EXPECT_EQ(model_not_found("m").http_status, 404);
  EXPECT_EQ(route_not_found("/x").http_status, 404);
  EXPECT_EQ(method_not_allowed("GET").http_status, 405);
  EXPECT_EQ(request_timeout().http_status, 408);
  EXPECT_EQ(payload_too_large(16).http_status, 413);
  EXPECT_EQ(unsupported_media_type().http_status, 415);
  EXPECT_EQ(unsupported_parameter("m", "foo").http_status, 422);
  EXPECT_EQ(rate_limited("slow down", 1500).http_status, 429);
  EXPECT_EQ(server_error().http_status, 500);
  EXPECT_EQ(overloaded(1000).http_status, 503);
}

TEST(ApiError, RenderOpenAiShapeAndAzureHeader) {
  const HttpErrorResponse r = render_api_error(invalid_request("'n' must be in [1, 128], got 0.", "n"), false);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(header(r, "content-type"), "application/json");
  EXPECT_EQ(header(r, "x-ms-error-code"), "<absent>");
  const json b = json::parse(r.body);
  EXPECT_EQ(b, (json{{"error",
                      {{"message", "'n' must be in [1, 128], got 0."},
                       {"type", "invalid_request_error"},
                       {"param", "n"},
                       {"code", nullptr}}}}));
  const HttpErrorResponse az = render_api_error(unsupported_parameter("x", "foo"), true);
  EXPECT_EQ(az.status, 422);
  EXPECT_EQ(header(az, "x-ms-error-code"), "parameter_not_supported");
  const HttpErrorResponse az2 = render_api_error(invalid_request("x"), true);
  EXPECT_EQ(header(az2, "x-ms-error-code"), "invalid_request_error");
  const HttpErrorResponse limited = render_api_error(rate_limited("Limit 1000", 1500), false);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(header(limited, "retry-after"), "2");
  EXPECT_EQ(header(limited, "retry-after-ms"), "1500");
}

TEST(ApiError, UserBytesAreSafe) {
  // Invalid UTF-8, control characters and a huge message: valid JSON, bounded size (L1, H7).
  std::string evil = "bad \xFF\xC3 \x1b[31m\nline2 ";
  evil += std::string(100000, 'x');
  const HttpErrorResponse r = render_api_error(invalid_request(evil, "stop\xFF"), false);
  json b;
  ASSERT_NO_THROW(b = json::parse(r.body));
  EXPECT_LE(r.body.size(), 2048u);
  EXPECT_EQ(r.body.find('\n'), std::string::npos);
  EXPECT_EQ(r.body.find('\x1b'), std::string::npos);
  EXPECT_EQ(b["error"]["message"].get<std::string>().rfind("bad \xEF\xBF\xBD\xEF\xBF\xBD", 0), 0u);
  // A hand-built 500 never shows its message.
  ApiError internal;
  internal.http_status = 500;
  internal.type = "server_error";
  internal.message = "/home/build/src/engine.cc:42 assertion";
  EXPECT_EQ(render_api_error(internal, false).body.find("engine.cc"), std::string::npos);
}

TEST(Utf8Text, TruncateOnCharacterBoundary) {
  const std::string s = "ab\xE2\x82\xAC\xE2\x82\xAC";  // ab€€
  EXPECT_EQ(truncate_utf8(s, 100), s);
  EXPECT_EQ(truncate_utf8(s, 7), "ab...");  // never half a euro sign
  EXPECT_EQ(truncate_utf8(s, 8), s);
  EXPECT_EQ(sanitize_utf8("a\xFF"), "a\xEF\xBF\xBD");
  EXPECT_EQ(utf8_length("ab\xE2\x82\xAC"), 3u);
}

TEST(JsonBody, Guards) {
  json out;
  EXPECT_TRUE(parse_json_body(R"({"a":1,"b":{"a":2}})", &out).ok());  // same key, other objects
  EXPECT_TRUE(parse_json_body("\xEF\xBB\xBF{\"a\":1}", &out).ok());   // BOM
  EXPECT_EQ(parse_json_body(R"({"a":1,"\u0061":2})", &out).code, "invalid_json");  // escaped duplicate
  EXPECT_EQ(parse_json_body(R"({"a":[{"k":1,"k":2}]})", &out).code, "invalid_json");
  EXPECT_EQ(parse_json_body("{\"a\":\"\xED\xA0\x80\"}", &out).code, "invalid_json");  // encoded surrogate
  EXPECT_EQ(parse_json_body(R"({"a":"x"} trailing)", &out).code, "invalid_json");
  EXPECT_EQ(parse_json_body("", &out).code, "invalid_json");
  // Depth: 64 levels pass, 65 do not; brackets inside strings do not count.
  const std::string ok64 = std::string(63, '[') + std::string(63, ']');
  EXPECT_TRUE(parse_json_body("{\"a\":" + ok64 + "}", &out).ok());
  const ApiError deep = parse_json_body("{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}", &out);
  EXPECT_EQ(deep.code, "invalid_json");
  EXPECT_NE(deep.message.find("nesting too deep"), std::string::npos);
  EXPECT_TRUE(parse_json_body("{\"a\":\"" + std::string(1000, '[') + "\\\"[\"}", &out).ok());
  EXPECT_EQ(json_nesting_depth(std::string(1000000, '['), 64), 65);
  const ApiError not_object = parse_json_body("[1]", &out);
  EXPECT_EQ(not_object.http_status, 400);
  EXPECT_EQ(not_object.type, "invalid_request_error");
}

}  // namespace
}  // namespace maas::api
