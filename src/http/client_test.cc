// client_test.cc — the asynchronous HTTP client against our real Server (and, where a server
// must misbehave, a scripted raw socket server): bodies and framing, streaming piece by piece,
// keep-alive reuse and the one retry, error mapping, cancel, pause/resume, fetch(), teardown.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "http/http.h"
#include "http/test_client.h"

namespace maas::http {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Captured;
using testing::test_options;

long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Polls `done` every millisecond until it holds or timeout_ms passes.
bool eventually(const std::function<bool()>& done, int timeout_ms = 5000) {
  auto t0 = Clock::now();
  while (!done()) {
    if (ms_since(t0) > timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

ClientRequest request_to(uint16_t port, std::string method = "GET", std::string target = "/", std::string body = "") {
  ClientRequest r;
  r.port = port;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

// Records what a call's handlers see; the test thread waits on conditions.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ClientResponseHead> head;  // guarded by mu
  std::vector<std::string> pieces;         // guarded by mu
  std::optional<Status> status;            // guarded by mu
  int n_complete = 0;                      // guarded by mu
  bool data_before_head = false;           // guarded by mu
  std::function<void(const std::string&)> on_piece;  // runs in on_data (tests pause there)

  ClientHandlers handlers() {
    ClientHandlers h;
    h.on_head = [this](ClientResponseHead&& hd) {
      std::lock_guard lock(mu);
      head = std::move(hd);
      cv.notify_all();
    };
    h.on_data = [this](std::string&& data) {
      if (on_piece) on_piece(data);
      std::lock_guard lock(mu);
      data_before_head = data_before_head || !head;
      pieces.push_back(std::move(data));
      cv.notify_all();
    };
    h.on_complete = [this](Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      ++n_complete;
      cv.notify_all();
    };
    return h;
  }
  bool wait(const std::function<bool()>& pred, int timeout_ms = 5000) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), pred);
  }
  bool wait_done(int timeout_ms = 5000) { return wait([this] { return status.has_value(); }, timeout_ms); }
  bool wait_pieces(size_t n) { return wait([this, n] { return pieces.size() >= n; }); }
  StatusCode code() {
    std::lock_guard lock(mu);
    return status ? status->code() : StatusCode::kOk;
  }
  std::string body() {
    std::lock_guard lock(mu);
    std::string out;
    for (const std::string& p : pieces) out += p;
    return out;
  }
  size_t n_pieces() {
    std::lock_guard lock(mu);
    return pieces.size();
  }
};

// A listening socket whose connections run a script (one at a time, in accept order), for
// servers that must misbehave in exact ways.
class RawServer {
 public:
  using Script = std::function<void(int fd, int index)>;
  explicit RawServer(Script script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int i = 0; !stop_.load(); ++i) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
          --i;
          continue;
        }
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) break;
        n_accepted_++;
        script_(c, i);
        ::close(c);
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int n_accepted() const { return n_accepted_.load(); }

  // Reads one request head (and a Content-Length body); false on EOF or 5 s timeout.
  static bool read_request(int fd) {
    std::string buf;
    char tmp[4096];
    while (buf.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return false;
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
    return true;
  }
  static void send_all(int fd, std::string_view s) { (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

 private:
  Script script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> n_accepted_{0};
  std::thread thread_;
};

size_t count_open_fds() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

// Answers "<method> <target> <host> <body>" with Content-Length.
Handler echo_handler() {
  return [](Request&& r, std::shared_ptr<Responder> responder) {
    const std::string* host = r.header("host");
    const std::string* close = r.header("x-close");
    std::vector<Header> headers = {{"x-echo", "yes"}};
    if (close != nullptr) headers.push_back({"connection", "close"});
    if (r.path == "/empty") return responder->send(204, {}, "");
    responder->send(200, std::move(headers), r.method + " " + r.target + " " + (host ? *host : "-") + " " + r.body);
  };
}

TEST(HttpClient, GetAndPostWithContentLength) {
  Server server(test_options(), echo_handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;  // outlives the client: its handlers may run until ~HttpClient
  HttpClient client;
  auto r = client.fetch(request_to(server.port(), "GET", "/a/b?x=1"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->header("X-ECHO"), "yes");
  EXPECT_NE(r->header("content-length"), nullptr);
  EXPECT_EQ(r->body, "GET /a/b?x=1 127.0.0.1:" + std::to_string(server.port()) + " ");
  ClientRequest post = request_to(server.port(), "POST", "/v1/chat/completions", std::string(100000, 'p'));
  post.headers = {{"content-length", "3"}, {"transfer-encoding", "chunked"}, {"connection", "close"}};
  client.start(std::move(post), rec.handlers());
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.code(), StatusCode::kOk);
  EXPECT_EQ(rec.head->status, 200);
  EXPECT_FALSE(rec.data_before_head);
  EXPECT_EQ(rec.body().size(), std::string("POST /v1/chat/completions 127.0.0.1:").size() + 5 + 1 + 100000);
  EXPECT_EQ(rec.n_complete, 1);
  // Resolvable names work too.
  ClientRequest named = request_to(server.port(), "GET", "/n");
  named.host = "localhost";
  named.headers = {{"Host", "example"}};
  auto n = client.fetch(std::move(named));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n->body, "GET /n example ");
}

TEST(HttpClient, ChunkedHeadAndNoContentResponses) {
  Server server(test_options(), [](Request&& r, std::shared_ptr<Responder> responder) {
    if (r.path == "/empty") return responder->send(204, {}, "");
    if (r.method == "HEAD") return responder->send(200, {}, "hello");
    responder->start_stream(200, {{"content-type", "text/event-stream"}});
    for (int i = 0; i < 3; ++i) responder->write("data: " + std::to_string(i) + "\n\n");
    responder->end_stream();
  });
  ASSERT_TRUE(server.start().ok());
  HttpClient client;
  for (int round = 0; round < 2; ++round) {
    auto r = client.fetch(request_to(server.port(), "POST", "/s", "{}"));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(*r->header("transfer-encoding"), "chunked");
    EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    auto head = client.fetch(request_to(server.port(), "HEAD", "/h"));
    ASSERT_TRUE(head.ok()) << head.status().to_string();
    EXPECT_EQ(*head->header("content-length"), "5");
    EXPECT_EQ(head->body, "");
    auto empty = client.fetch(request_to(server.port(), "GET", "/empty"));
    ASSERT_TRUE(empty.ok()) << empty.status().to_string();
    EXPECT_EQ(empty->status, 204);
  }
  EXPECT_EQ(server.n_connections(), 1u);  // all six on one keep-alive connection
}

TEST(HttpClient, StreamedChunksArriveOneByOne) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;
  HttpClient client;
  client.start(request_to(server.port(), "POST", "/v1/completions", "{}"), rec.handlers());
  ASSERT_TRUE(captured.wait(1));
  auto responder = captured.responder(0);
  responder->start_stream(200, {{"content-type", "text/event-stream"}});
  ASSERT_TRUE(rec.wait([&] { return rec.head.has_value(); }));
  for (int i = 0; i < 5; ++i) {
    std::string event = "data: " + std::to_string(i) + "\n\n";
    ASSERT_TRUE(responder->write(event));
    ASSERT_TRUE(rec.wait_pieces(i + 1)) << i;  // before the stream ends
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.pieces[i], event);
    EXPECT_FALSE(rec.status.has_value());
  }
  responder->end_stream();
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.code(), StatusCode::kOk);
  EXPECT_EQ(rec.n_pieces(), 5u);
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  Server server(test_options(), [](Request&& r, std::shared_ptr<Responder> responder) {
    responder->send(200, {}, r.remote_address);
  });
  ASSERT_TRUE(server.start().ok());
  HttpClient client;
  std::string first;
  for (int i = 0; i < 10; ++i) {
    auto r = client.fetch(request_to(server.port()));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    if (i == 0) first = r->body;
    EXPECT_EQ(r->body, first) << i;  // the same client port every time
    EXPECT_EQ(client.n_idle_connections(), 1u);
    EXPECT_EQ(server.n_connections(), 1u);
  }
  EXPECT_EQ(client.n_calls_in_flight(), 0u);
}

TEST(HttpClient, IdleConnectionsAreBoundedAndExpire) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  ClientOptions o;
  o.max_idle_per_endpoint = 2;
  o.idle_keepalive_ms = 150;
  std::vector<std::unique_ptr<Recorder>> recs;
  HttpClient client(o);
  for (int i = 0; i < 5; ++i) {
    recs.push_back(std::make_unique<Recorder>());
    client.start(request_to(server.port()), recs.back()->handlers());
  }
  ASSERT_TRUE(captured.wait(5));  // five concurrent calls: five connections
  for (int i = 0; i < 5; ++i) captured.responder(i)->send(200, {}, "ok");
  for (auto& rec : recs) ASSERT_TRUE(rec->wait_done());
  EXPECT_EQ(client.n_idle_connections(), 2u);
  EXPECT_TRUE(eventually([&] { return server.n_connections() == 2; }));
  EXPECT_TRUE(eventually([&] { return client.n_idle_connections() == 0; }));  // keep-alive expiry
  EXPECT_TRUE(eventually([&] { return server.n_connections() == 0; }));
}

TEST(HttpClient, ConnectRefusedAndDnsFailureAreUnavailable) {
  uint16_t port;
  {
    Server server(test_options(), echo_handler());
    ASSERT_TRUE(server.start().ok());
    port = server.port();
  }  // nothing listens there now
  HttpClient client;
  auto t0 = Clock::now();
  auto r = client.fetch(request_to(port));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_LT(ms_since(t0), 1000);
  ClientRequest bad = request_to(80);
  bad.host = "no-such-host.invalid";
  EXPECT_EQ(client.fetch(std::move(bad)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client.fetch(request_to(port, "GET", "no-slash")).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClient, ResponseAndReadTimeouts) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;
  HttpClient client;
  ClientRequest slow = request_to(server.port());
  slow.response_timeout_ms = 200;
  auto t0 = Clock::now();
  auto r = client.fetch(slow);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().to_string();
  EXPECT_GE(ms_since(t0), 180);
  EXPECT_LT(ms_since(t0), 2000);
  ASSERT_TRUE(captured.wait(1));
  EXPECT_TRUE(eventually([&] { return captured.responder(0)->closed(); }));  // the client left
  ClientRequest stall = request_to(server.port());
  stall.read_timeout_ms = 200;
  client.start(stall, rec.handlers());
  ASSERT_TRUE(captured.wait(2));
  captured.responder(1)->start_stream(200, {});
  captured.responder(1)->write("first");
  ASSERT_TRUE(rec.wait_pieces(1));
  t0 = Clock::now();
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(ms_since(t0), 100);
}

TEST(HttpClient, ServerAbortMidStreamIsDataLoss) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;
  HttpClient client;
  client.start(request_to(server.port()), rec.handlers());
  ASSERT_TRUE(captured.wait(1));
  captured.responder(0)->start_stream(200, {});
  captured.responder(0)->write("partial");
  ASSERT_TRUE(rec.wait_pieces(1));
  {
    std::lock_guard lock(captured.mu);
    captured.responders.clear();  // an abandoned stream is aborted
  }
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.code(), StatusCode::kDataLoss);
  EXPECT_EQ(rec.body(), "partial");
  EXPECT_EQ(client.n_idle_connections(), 0u);
}

TEST(HttpClient, MalformedResponsesAndClosesAreDataLossWithoutRetry) {
  RawServer raw([](int fd, int index) {
    if (!RawServer::read_request(fd)) return;
    if (index == 0) RawServer::send_all(fd, "garbage\r\n\r\n");
    if (index == 1) RawServer::send_all(fd, "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort");
    // index 2: closes without a byte (a fresh connection is not retried)
  });
  HttpClient client;
  for (int i = 0; i < 3; ++i) {
    auto r = client.fetch(request_to(raw.port()));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << i << " " << r.status().to_string();
  }
  EXPECT_EQ(raw.n_accepted(), 3);
}

TEST(HttpClient, ReadUntilCloseAndInterimResponses) {
  RawServer raw([](int fd, int index) {
    if (!RawServer::read_request(fd)) return;
    if (index == 0) RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nx: 1\r\n\r\nuntil the end");
    if (index == 1) {
      RawServer::send_all(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nhi");
      RawServer::read_request(fd);  // keeps the connection open until the client closes it
    }
  });
  HttpClient client;
  auto r = client.fetch(request_to(raw.port()));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->body, "until the end");
  EXPECT_EQ(client.n_idle_connections(), 0u);  // delimited by close: not reusable
  auto interim = client.fetch(request_to(raw.port(), "POST", "/", "x"));
  ASSERT_TRUE(interim.ok()) << interim.status().to_string();
  EXPECT_EQ(interim->status, 201);
  EXPECT_EQ(interim->body, "hi");
  EXPECT_EQ(client.n_idle_connections(), 1u);
}

TEST(HttpClient, PooledConnectionClosedByServerIsRetriedOnce) {
  RawServer raw([](int fd, int index) {
    if (!RawServer::read_request(fd)) return;
    RawServer::send_all(fd, "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n" + std::string(index == 0 ? "one" : "two"));
    if (index == 0) RawServer::read_request(fd);  // then closes, unanswered: as if idle-closed
  });
  HttpClient client;
  auto one = client.fetch(request_to(raw.port()));
  ASSERT_TRUE(one.ok()) << one.status().to_string();
  EXPECT_EQ(client.n_idle_connections(), 1u);
  auto two = client.fetch(request_to(raw.port(), "POST", "/", "x"));
  ASSERT_TRUE(two.ok()) << two.status().to_string();
  EXPECT_EQ(two->body, "two");
  EXPECT_EQ(raw.n_accepted(), 2);
  // And against our server's idle timeout: the next request still succeeds.
  ServerOptions o = test_options();
  o.idle_timeout_ms = 100;
  Server server(o, echo_handler());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(client.fetch(request_to(server.port())).ok());
  ASSERT_TRUE(eventually([&] { return server.n_connections() == 0; }));
  auto again = client.fetch(request_to(server.port()));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
}

TEST(HttpClient, CancelMidStreamClosesTheServersExchange) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;
  HttpClient client;
  auto call = client.start(request_to(server.port()), rec.handlers());
  ASSERT_TRUE(captured.wait(1));
  auto responder = captured.responder(0);
  std::promise<void> closed;
  responder->on_close([&closed] { closed.set_value(); });
  responder->start_stream(200, {});
  responder->write("one");
  ASSERT_TRUE(rec.wait_pieces(1));
  call->cancel();
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.code(), StatusCode::kCancelled);
  EXPECT_EQ(closed.get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_TRUE(responder->closed());
  call->cancel();  // after completion: nothing
  EXPECT_TRUE(eventually([&] { return client.n_calls_in_flight() == 0; }));
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.n_complete, 1);
}

TEST(HttpClient, PauseStopsDeliveryAndResumeContinues) {
  constexpr size_t kBlock = 64 << 10, kBlocks = 512;  // 32 MiB, far above the socket buffers
  ServerOptions o = test_options();
  o.max_write_buffer_bytes = 64 << 20;
  Captured captured;
  Server server(o, captured.handler());
  ASSERT_TRUE(server.start().ok());
  Recorder rec;
  std::shared_ptr<ClientCall> call;
  std::mutex call_mu;
  HttpClient client;
  rec.on_piece = [&](const std::string&) {  // pause from inside the first on_data
    std::lock_guard lock(call_mu);
    if (call && rec.n_pieces() == 0) call->pause();
  };
  ClientRequest req = request_to(server.port());
  req.read_timeout_ms = 100;  // suspended while paused
  {
    std::lock_guard lock(call_mu);
    call = client.start(req, rec.handlers());
  }
  ASSERT_TRUE(captured.wait(1));
  auto responder = captured.responder(0);
  responder->start_stream(200, {});
  for (size_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(responder->write(std::string(kBlock, 'a' + i % 26)));
  ASSERT_TRUE(rec.wait_pieces(1));
  EXPECT_TRUE(eventually([&] { return responder->unsent_bytes() > kBlock * kBlocks / 8; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // longer than read_timeout_ms
  EXPECT_EQ(rec.n_pieces(), 1u);
  EXPECT_FALSE(rec.wait_done(0));
  size_t unsent = responder->unsent_bytes();
  EXPECT_GT(unsent, kBlock * kBlocks / 8);
  call->resume();
  responder->end_stream();
  ASSERT_TRUE(rec.wait_done(10000));
  EXPECT_EQ(rec.code(), StatusCode::kOk);
  std::string body = rec.body();
  ASSERT_EQ(body.size(), kBlock * kBlocks);
  for (size_t i = 0; i < kBlocks; i += 37) EXPECT_EQ(body[i * kBlock], static_cast<char>('a' + i % 26)) << i;
  EXPECT_EQ(responder->unsent_bytes(), 0u);
  std::lock_guard lock(call_mu);
  call.reset();
}

TEST(HttpClient, FetchLimitsAndThreadCheck) {
  Server server(test_options(), [](Request&&, std::shared_ptr<Responder> responder) {
    responder->send(200, {}, std::string(1000, 'b'));
  });
  ASSERT_TRUE(server.start().ok());
  ClientOptions o;
  o.max_response_body_bytes = 999;
  std::promise<StatusCode> inner;
  HttpClient client(o);
  auto r = client.fetch(request_to(server.port()));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().to_string();
  ClientHandlers h;
  h.on_complete = [&](Status) { inner.set_value(client.fetch(request_to(server.port())).status().code()); };
  client.start(request_to(server.port()), std::move(h));
  auto f = inner.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get(), StatusCode::kFailedPrecondition);
}

TEST(HttpClient, DestructorCancelsCallsInFlight) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  std::vector<std::unique_ptr<Recorder>> recs;
  std::vector<std::shared_ptr<ClientCall>> calls;
  auto client = std::make_unique<HttpClient>(ClientOptions{2});
  for (int i = 0; i < 4; ++i) {
    recs.push_back(std::make_unique<Recorder>());
    calls.push_back(client->start(request_to(server.port(), "GET", "/" + std::to_string(i)), recs.back()->handlers()));
  }
  ASSERT_TRUE(captured.wait(4));
  std::shared_ptr<Responder> streaming;  // the responder of call 0 (requests arrive in any order)
  {
    std::lock_guard lock(captured.mu);
    for (size_t i = 0; i < 4; ++i) {
      if (captured.requests[i].path == "/0") streaming = captured.responders[i];
    }
  }
  ASSERT_NE(streaming, nullptr);
  streaming->start_stream(200, {});
  streaming->write("x");
  ASSERT_TRUE(recs[0]->wait_pieces(1));
  calls[1]->pause();
  client.reset();
  for (auto& rec : recs) {
    std::lock_guard lock(rec->mu);  // completed before the destructor returned
    ASSERT_TRUE(rec->status.has_value());
    EXPECT_EQ(rec->status->code(), StatusCode::kCancelled);
    EXPECT_EQ(rec->n_complete, 1);
  }
  for (auto& call : calls) call->cancel();  // handles outlive the client: no-ops
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(eventually([&] { return captured.responder(i)->closed(); }));
}

TEST(HttpClient, NoDescriptorGrowthAfterManyCalls) {
  Server server(test_options(), echo_handler());
  ASSERT_TRUE(server.start().ok());
  HttpClient client;
  ASSERT_TRUE(client.fetch(request_to(server.port())).ok());  // warm: one pooled connection
  size_t before = count_open_fds();
  for (int i = 0; i < 200; ++i) {
    ClientRequest r = request_to(server.port(), "POST", "/", "b");
    if (i % 2 == 0) r.headers = {{"x-close", "1"}};  // the server closes: a fresh connection next
    auto res = client.fetch(std::move(r));
    ASSERT_TRUE(res.ok()) << i << " " << res.status().to_string();
  }
  EXPECT_LE(client.n_idle_connections(), 1u);
  EXPECT_TRUE(eventually([&] { return server.n_connections() <= 1; }));
  EXPECT_LE(count_open_fds(), before + 1);
  EXPECT_EQ(client.n_calls_in_flight(), 0u);
}

}  // namespace
}  // namespace maas::http
