// http_test.cc — request/response basics against a real server on 127.0.0.1 (ephemeral port):
// round trips, keep-alive, pipelining, request ids, path normalisation, handler failures.
#include <gtest/gtest.h>

#include <thread>

#include "http/http.h"
#include "http/test_client.h"

namespace maas::http {
namespace {

using testing::Client;
using testing::make_request;
using testing::Response;
using testing::test_options;

// Answers with "METHOD path?query|body|remote" and echoes the request id.
void echo(Request&& r, std::shared_ptr<Responder> responder) {
  std::string body = r.method + " " + r.path + "?" + r.query + "|" + r.body + "|" + r.remote_address;
  responder->send(200, {{"content-type", "text/plain"}}, std::move(body));
}

class HttpTest : public ::testing::Test {
 protected:
  void start(Handler handler, ServerOptions options = test_options()) {
    server_ = std::make_unique<Server>(options, std::move(handler));
    ASSERT_TRUE(server_->start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  uint16_t port() const { return server_->port(); }
  std::unique_ptr<Server> server_;
};

TEST_F(HttpTest, GetAndPostRoundTrip) {
  start(echo);
  Client c(port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(make_request("GET", "/v1/models?x=1")));
  Response r;
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, r.body.find('|')), "GET /v1/models?x=1");
  ASSERT_NE(r.header("content-type"), nullptr);
  EXPECT_EQ(*r.header("content-type"), "text/plain");

  ASSERT_TRUE(c.send(make_request("POST", "/v1/completions", "{\"prompt\":\"hi\"}")));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, r.body.rfind('|')), "POST /v1/completions?|{\"prompt\":\"hi\"}");
}

TEST_F(HttpTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start(echo);
  Client c(port());
  Response a, b;
  ASSERT_TRUE(c.send(make_request("GET", "/a")));
  ASSERT_TRUE(c.read_response(&a));
  ASSERT_TRUE(c.send(make_request("GET", "/b")));
  ASSERT_TRUE(c.read_response(&b));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  // Same remote address (ip:port) means the same TCP connection.
  EXPECT_EQ(a.body.substr(a.body.rfind('|')), b.body.substr(b.body.rfind('|')));
  EXPECT_EQ(server_->n_connections(), 1u);
}

TEST_F(HttpTest, PipelinedRequestsAnsweredInOrder) {
  start(echo);
  Client c(port());
  ASSERT_TRUE(c.send(make_request("GET", "/one") + make_request("POST", "/two", "xy") +
                     make_request("GET", "/three")));
  for (const char* want : {"GET /one", "POST /two", "GET /three"}) {
    Response r;
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.body.substr(0, r.body.find('?')), want);
  }
}

TEST_F(HttpTest, RequestIdEchoedOrGenerated) {
  start(echo);
  Client c(port());
  Response r;
  ASSERT_TRUE(c.send(make_request("GET", "/", "", "x-request-id: abc-123\r\n")));
  ASSERT_TRUE(c.read_response(&r));
  ASSERT_NE(r.header("x-request-id"), nullptr);
  EXPECT_EQ(*r.header("x-request-id"), "abc-123");

  for (std::string extra : {std::string(), "X-Request-Id: " + std::string(300, 'a') + "\r\n",
                            std::string("x-request-id: has space\r\n")}) {
    ASSERT_TRUE(c.send(make_request("GET", "/", "", extra)));
    ASSERT_TRUE(c.read_response(&r));
    ASSERT_NE(r.header("x-request-id"), nullptr);
    EXPECT_EQ(r.header("x-request-id")->size(), 32u);
  }
}

TEST_F(HttpTest, PathIsNormalised) {
  start(echo);
  Client c(port());
  Response r;
  ASSERT_TRUE(c.send(make_request("GET", "//v1//chat/completions/?a=b")));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.body.substr(0, r.body.find('|')), "GET /v1/chat/completions?a=b");
  ASSERT_TRUE(c.send(make_request("GET", "/v1/%zz", "", "x-request-id: bad-path\r\n")));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"type\":\"invalid_request_error\""), std::string::npos) << r.body;
  ASSERT_NE(r.header("x-request-id"), nullptr);
  EXPECT_EQ(*r.header("x-request-id"), "bad-path");
  EXPECT_TRUE(c.wait_closed(2000));
}

TEST_F(HttpTest, ConnectionCloseAndHttp10Close) {
  start(echo);
  {
    Client c(port());
    Response r;
    ASSERT_TRUE(c.send(make_request("GET", "/", "", "connection: close\r\n")));
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(c.wait_closed(2000));
  }
  {
    Client c(port());
    Response r;
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(c.wait_closed(2000));
  }
}

TEST_F(HttpTest, ExpectContinueAndHead) {
  start(echo);
  Client c(port());
  Response r;
  ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 3\r\n\r\n"));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 100);
  ASSERT_TRUE(c.send("abc"));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("|abc|"), std::string::npos);

  ASSERT_TRUE(c.send(make_request("HEAD", "/h")));
  ASSERT_TRUE(c.read_response(&r, 5000, /*head_only=*/true));
  EXPECT_EQ(r.status, 200);
  ASSERT_NE(r.header("content-length"), nullptr);
  EXPECT_NE(*r.header("content-length"), "0");
  ASSERT_TRUE(c.send(make_request("GET", "/after-head")));  // no stray body bytes in between
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.body.substr(0, r.body.find('?')), "GET /after-head");
}

TEST_F(HttpTest, HandlerThrowsOrDropsResponderGives500) {
  start([](Request&& r, std::shared_ptr<Responder> responder) {
    if (r.path == "/throw") throw std::runtime_error("boom");
    if (r.path == "/drop") return;  // the last reference goes away unanswered
    responder->send(204, {}, "");
  });
  Client c(port());
  Response r;
  for (const char* path : {"/throw", "/drop"}) {
    ASSERT_TRUE(c.send(make_request("GET", path)));
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_NE(r.header("x-request-id"), nullptr);
  }
  ASSERT_TRUE(c.send(make_request("GET", "/ok")));
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("content-length"), nullptr);
  ASSERT_TRUE(c.send(make_request("GET", "/ok")));  // keep-alive survives a 204
  ASSERT_TRUE(c.read_response(&r));
  EXPECT_EQ(r.status, 204);
}

TEST_F(HttpTest, LargeBodiesBothWays) {
  start([](Request&& r, std::shared_ptr<Responder> responder) {
    std::string body(8 << 20, 'z');  // written in many partial writes
    for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
    responder->send(200, {}, r.body.size() == (4u << 20) ? std::move(body) : "wrong size");
  });
  Client c(port());
  ASSERT_TRUE(c.send(make_request("POST", "/big", std::string(4 << 20, 'q'))));
  Response r;
  ASSERT_TRUE(c.read_response(&r, 10000));
  ASSERT_EQ(r.body.size(), 8u << 20);
  EXPECT_EQ(r.body[4096 * 27], 'b');
  EXPECT_EQ(r.body[4096 * 27 + 1], 'z');
}

TEST_F(HttpTest, PortBusyIsAnError) {
  start(echo);
  ServerOptions o = test_options();
  o.port = port();
  Server second(o, echo);
  Status s = second.start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.to_string();
}

TEST_F(HttpTest, ConnectionCapRefusesWith503OrClose) {
  ServerOptions o = test_options();
  o.max_connections = 2;
  start(echo, o);
  Client a(port()), b(port());
  ASSERT_TRUE(a.send(make_request("GET", "/")));
  ASSERT_TRUE(b.send(make_request("GET", "/")));
  Response r;
  ASSERT_TRUE(a.read_response(&r));
  ASSERT_TRUE(b.read_response(&r));
  Client c(port());
  Response refused;
  ASSERT_TRUE(c.read_response(&refused, 2000));  // nothing sent yet, so no reset
  {
    EXPECT_EQ(refused.status, 503);
    EXPECT_NE(refused.body.find("server_is_overloaded"), std::string::npos);
    EXPECT_NE(refused.header("x-request-id"), nullptr);
  }
  EXPECT_TRUE(c.wait_closed(2000));
  EXPECT_EQ(server_->n_connections(), 2u);
}

TEST_F(HttpTest, PerAddressCapRefusesThenAdmitsAfterAClose) {
  ServerOptions o = test_options();
  o.max_connections_per_ip = 2;  // all test clients come from 127.0.0.1
  start(echo, o);
  auto a = std::make_unique<Client>(port());
  Client b(port());
  Response r;
  ASSERT_TRUE(a->send(make_request("GET", "/")));
  ASSERT_TRUE(b.send(make_request("GET", "/")));
  ASSERT_TRUE(a->read_response(&r));
  ASSERT_TRUE(b.read_response(&r));
  {
    Client c(port());
    Response refused;
    ASSERT_TRUE(c.read_response(&refused, 2000));
    EXPECT_EQ(refused.status, 503);
    EXPECT_NE(refused.body.find("server_is_overloaded"), std::string::npos);
    EXPECT_TRUE(c.wait_closed(2000));
  }
  EXPECT_EQ(server_->n_connections(), 2u);
  a.reset();  // one of the two closes: the address has room again
  for (int i = 0; i < 200 && server_->n_connections() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Client d(port());
  ASSERT_TRUE(d.send(make_request("GET", "/")));
  ASSERT_TRUE(d.read_response(&r, 2000));
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpTest, TwoIoThreadsManyClients) {
  ServerOptions o = test_options();
  o.n_io_threads = 2;
  start(echo, o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Client c(port());
      for (int i = 0; i < 25; ++i) {
        Response r;
        std::string body = std::to_string(t * 100 + i);
        if (c.send(make_request("POST", "/p", body)) && c.read_response(&r) && r.status == 200 &&
            r.body.find("|" + body + "|") != std::string::npos) {
          ok++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16 * 25);
}

}  // namespace
}  // namespace maas::http
