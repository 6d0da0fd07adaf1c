// http_limits_test.cc — transport faults (TESTPLAN A5–A7, H5, H6, garbage): body and header
// limits, slowloris and idle deadlines, malformed input. Short timeouts keep the suite fast.
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "http/http.h"
#include "http/test_client.h"

namespace maas::http {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Client;
using testing::make_request;
using testing::Response;
using testing::test_options;

long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

void ok_handler(Request&& r, std::shared_ptr<Responder> responder) {
  responder->send(200, {}, "ok:" + std::to_string(r.body.size()));
}

bool is_error(const Response& r, int status, std::string_view code) {
  return r.status == status && r.body.find("\"code\":\"" + std::string(code) + "\"") != std::string::npos &&
         r.body.find("\"param\":null") != std::string::npos && r.header("x-request-id") != nullptr;
}

// A normal request on a fresh connection still works (every case asserts this).
void expect_healthy(uint16_t port) {
  Client c(port);
  Response r;
  ASSERT_TRUE(c.send(make_request("GET", "/health")));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 200);
}

TEST(HttpLimits, BigContentLengthIs413BeforeTheBody) {
  Server server(test_options(), ok_handler);
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  ASSERT_TRUE(c.send("POST /v1/completions HTTP/1.1\r\nhost: t\r\nx-request-id: big-1\r\n"
                     "content-length: 104857600\r\n\r\n"));  // 100 MiB announced, none sent
  Response r;
  ASSERT_TRUE(c.read_response(&r, 2000));
  EXPECT_TRUE(is_error(r, 413, "request_too_large")) << r.status << " " << r.body;
  EXPECT_EQ(*r.header("x-request-id"), "big-1");
  EXPECT_TRUE(c.wait_closed(3000));
  expect_healthy(server.port());
}

TEST(HttpLimits, ChunkedBodyCrossingTheCapIs413) {
  ServerOptions o = test_options();
  o.max_body_bytes = 4096;
  Server server(o, ok_handler);
  ASSERT_TRUE(server.start().ok());
  {  // under the cap: accepted
    Client c(server.port());
    ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n0\r\n\r\n"));
    Response r;
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.body, "ok:5");
  }
  Client c(server.port());
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"));
  std::string chunk = "400\r\n" + std::string(1024, 'a') + "\r\n";
  bool sent_all = true;
  for (int i = 0; i < 64 && sent_all; ++i) sent_all = c.send(chunk);  // 64 KiB >> 4 KiB
  EXPECT_TRUE(sent_all);  // the server drains (lingering close) rather than resetting
  Response r;
  ASSERT_TRUE(c.read_response(&r, 3000));
  EXPECT_TRUE(is_error(r, 413, "request_too_large")) << r.status << " " << r.body;
  EXPECT_TRUE(c.wait_closed(3000));
  expect_healthy(server.port());
}

TEST(HttpLimits, HugeHeaderAndManyHeadersAre431) {
  Server server(test_options(), ok_handler);
  ASSERT_TRUE(server.start().ok());
  std::vector<std::string> cases;
  cases.push_back("x-big: " + std::string(1 << 20, 'a') + "\r\n");  // 1 MiB header
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "x-h" + std::to_string(i) + ": v\r\n";
  cases.push_back(many);  // 10k headers (~110 KB)
  std::string counted;
  for (int i = 0; i < 1500; ++i) counted += "a: b\r\n";
  cases.push_back(counted);  // under the byte cap, over max_header_count
  for (const std::string& extra : cases) {
    Client c(server.port());
    c.send(make_request("GET", "/", "", extra));  // may fail midway once the server closes
    Response r;
    ASSERT_TRUE(c.read_response(&r, 3000));
    EXPECT_TRUE(is_error(r, 431, "request_header_fields_too_large")) << r.status << " " << r.body;
    EXPECT_TRUE(c.wait_closed(3000));
  }
  expect_healthy(server.port());
}

TEST(HttpLimits, BothContentLengthAndChunkedIs400) {
  Server server(test_options(), ok_handler);
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n"
                     "transfer-encoding: chunked\r\n\r\n0\r\n\r\n"));
  Response r;
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_TRUE(is_error(r, 400, "invalid_http_request")) << r.status << " " << r.body;
}

TEST(HttpLimits, HalfClosedClientStillGetsTheErrorReply) {
  Server server(test_options(), ok_handler);
  ASSERT_TRUE(server.start().ok());
  for (int i = 0; i < 20; ++i) {
    Client c(server.port());
    ASSERT_TRUE(c.send("BAD REQUEST LINE\r\n\r\n"));
    ::shutdown(c.fd(), SHUT_WR);
    Response r;
    ASSERT_TRUE(c.read_response(&r, 2000));
    EXPECT_TRUE(is_error(r, 400, "invalid_http_request")) << r.status << " " << r.body;
  }
}

TEST(HttpLimits, SlowlorisGets408AtTheAbsoluteDeadline) {
  ServerOptions o = test_options();
  o.header_timeout_ms = 300;
  Server server(o, ok_handler);
  ASSERT_TRUE(server.start().ok());
  Client slow(server.port());
  auto t0 = Clock::now();
  std::string request = make_request("GET", "/slow");
  size_t i = 0;
  Response r;
  // One byte every 50 ms: it would take ~1.3 s to finish; the deadline is 300 ms.
  while (i < request.size() - 1 && ms_since(t0) < 2000 && slow.send(request.substr(i++, 1))) {
    pollfd p{slow.fd(), POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) break;  // the answer arrived
    expect_healthy(server.port());  // others are still served meanwhile
  }
  ASSERT_TRUE(slow.read_response(&r, 2000));
  long elapsed = ms_since(t0);
  EXPECT_TRUE(is_error(r, 408, "request_timeout")) << r.status << " " << r.body;
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 1500);
  EXPECT_TRUE(slow.wait_closed(2000));
}

TEST(HttpLimits, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o = test_options();
  o.idle_timeout_ms = 200;
  Server server(o, ok_handler);
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  Response r;
  ASSERT_TRUE(c.send(make_request("GET", "/")));
  ASSERT_TRUE(c.read_response(&r));
  auto t0 = Clock::now();
  EXPECT_TRUE(c.wait_closed(3000));
  EXPECT_LT(ms_since(t0), 1500);
  Client silent(server.port());  // a fresh connection that never sends is closed too
  EXPECT_TRUE(silent.wait_closed(3000));
  for (int i = 0; i < 100 && server.n_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.n_connections(), 0u);
}

TEST(HttpLimits, SurvivesRandomGarbage) {
  ServerOptions o = test_options();
  o.header_timeout_ms = 1000;  // garbage that looks like an unfinished request
  Server server(o, ok_handler);
  ASSERT_TRUE(server.start().ok());
  std::mt19937 rng(1234);
  const std::vector<std::string> prefixes = {"", "GET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\nhost: t\r\n",
                                             "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
                                             "GET /\x01\xff HTTP/9.9\r\n"};
  int answered = 0;
  for (int i = 0; i < 200; ++i) {
    std::string bytes = prefixes[i % prefixes.size()];
    size_t n = 1 + rng() % 2048;
    for (size_t k = 0; k < n; ++k) bytes.push_back(static_cast<char>(rng() & 0xff));
    bytes += "\r\n\r\n";
    Client c(server.port());
    c.send(bytes);
    Response r;
    if (c.read_response(&r, 300)) {
      answered++;
      EXPECT_TRUE(r.status == 400 || r.status == 431 || r.status == 413 || r.status == 200) << r.status;
    }
    c.close();
  }
  EXPECT_GT(answered, 0);
  expect_healthy(server.port());
  for (int i = 0; i < 200 && server.n_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.n_connections(), 0u);
}

}  // namespace
}  // namespace maas::http
