// studio_test.cc — the studio's files: served at their paths with a CSP and the other hardening
// headers, revalidated by ETag, and nothing else claimed (the API and 404s stay the caller's).
#include <gtest/gtest.h>

#include "control/studio.h"

namespace maas {
namespace {

// Records the one answer a handler gives.
class RecordingResponder final : public http::Responder {
 public:
  void send(int status, std::vector<http::Header> headers, std::string body) override {
    this->status = status;
    this->headers = std::move(headers);
    this->body = std::move(body);
  }
  void start_stream(int, std::vector<http::Header>) override {}
  bool write(std::string) override { return false; }
  void end_stream() override {}
  bool closed() const override { return false; }
  void on_close(std::function<void()>) override {}
  size_t unsent_bytes() const override { return 0; }
  void on_drain(size_t, std::function<void()>) override {}
  std::string header(const std::string& name) const {
    for (const http::Header& h : headers) {
      if (h.name == name) return h.value;
    }
    return "";
  }

  int status = 0;
  std::vector<http::Header> headers;
  std::string body;
};

http::Request get(std::string path, std::vector<http::Header> headers = {}, std::string method = "GET") {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

const std::vector<StudioAsset>& fake_assets() {
  static const std::vector<StudioAsset> kAssets = {
      {"/", "text/html; charset=utf-8", "<!doctype html><script type=module src=/assets/app.js></script>"},
      {"/assets/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
  };
  return kAssets;
}

TEST(Studio, ServesItsFilesWithSecurityHeaders) {
  const StudioServer studio(fake_assets());
  RecordingResponder r;
  ASSERT_TRUE(studio.handle(get("/"), r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, fake_assets()[0].data);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  const std::string csp = r.header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("x-frame-options"), "DENY");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
  EXPECT_FALSE(r.header("etag").empty());

  RecordingResponder js;
  ASSERT_TRUE(studio.handle(get("/assets/app.js", {}, "HEAD"), js));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.header("etag"), r.header("etag"));
}

TEST(Studio, RevalidatesByETag) {
  const StudioServer studio(fake_assets());
  RecordingResponder first;
  ASSERT_TRUE(studio.handle(get("/assets/app.js"), first));
  RecordingResponder again;
  ASSERT_TRUE(studio.handle(get("/assets/app.js", {{"If-None-Match", first.header("etag")}}), again));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_FALSE(again.header("content-security-policy").empty());
  RecordingResponder stale;
  ASSERT_TRUE(studio.handle(get("/assets/app.js", {{"If-None-Match", "\"old\""}}), stale));
  EXPECT_EQ(stale.status, 200);
}

TEST(Studio, ClaimsNothingElse) {
  const StudioServer studio(fake_assets());
  RecordingResponder r;
  EXPECT_FALSE(studio.handle(get("/api/models"), r));
  EXPECT_FALSE(studio.handle(get("/assets/missing.js"), r));
  EXPECT_FALSE(studio.handle(get("/", {}, "POST"), r));
  EXPECT_FALSE(studio.handle(get("/index.html"), r));
  EXPECT_EQ(r.status, 0);
}

TEST(Studio, TheBuiltTableHasThePageAndItsBundle) {
  bool page = false, bundle = false;
  for (const StudioAsset& a : studio_assets()) {
    page |= a.path == "/";
    bundle |= a.path == "/assets/app.js";
  }
  EXPECT_TRUE(page);
  EXPECT_TRUE(bundle) << "web/ was not built into the binary (node and npm ci are needed)";
}

}  // namespace
}  // namespace maas
