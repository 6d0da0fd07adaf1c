// http_stream_test.cc — streaming from another thread, disconnect detection (TESTPLAN F1, F2),
// slow readers (E10), 1000 idle connections on one I/O thread (H6), stop() with open
// connections.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <future>
#include <thread>

#include "http/http.h"
#include "http/test_client.h"

namespace maas::http {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Captured;
using testing::Client;
using testing::make_request;
using testing::Response;
using testing::test_options;

long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Waits for a future; true if ready within timeout_ms.
template <typename T>
bool ready(std::future<T>& f, int timeout_ms) {
  return f.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

TEST(HttpStream, ChunksFromAnotherThread) {
  std::vector<std::thread> producers;
  std::mutex mu;
  Server server(test_options(), [&](Request&&, std::shared_ptr<Responder> responder) {
    std::lock_guard lock(mu);
    producers.emplace_back([responder] {
      responder->start_stream(200, {{"content-type", "text/event-stream"}});
      for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(responder->write("data: " + std::to_string(i) + "\n\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      responder->end_stream();
      EXPECT_FALSE(responder->write("late"));
    });
  });
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  for (int round = 0; round < 2; ++round) {  // keep-alive after a stream
    ASSERT_TRUE(c.send(make_request("POST", "/v1/completions", "{}")));
    Response r;
    ASSERT_TRUE(c.read_response(&r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(*r.header("content-type"), "text/event-stream");
    EXPECT_EQ(*r.header("transfer-encoding"), "chunked");
    EXPECT_NE(r.header("x-request-id"), nullptr);
    EXPECT_EQ(r.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
    EXPECT_GE(r.chunks.size(), 2u);  // sent apart in time, so not all in one chunk
  }
  std::lock_guard lock(mu);
  for (auto& t : producers) t.join();
}

TEST(HttpStream, DisconnectDuringNonStreamingHandlerFiresOnClose) {
  Captured captured;
  Server server(test_options(), captured.handler());
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  ASSERT_TRUE(c.send(make_request("POST", "/v1/chat/completions", "{}")));
  ASSERT_TRUE(captured.wait(1));
  auto responder = captured.responder(0);
  std::promise<Clock::time_point> fired;
  responder->on_close([&fired] { fired.set_value(Clock::now()); });
  EXPECT_FALSE(responder->closed());
  auto t0 = Clock::now();
  c.close();
  auto f = fired.get_future();
  ASSERT_TRUE(ready(f, 2000));
  long latency = std::chrono::duration_cast<std::chrono::milliseconds>(f.get() - t0).count();
  std::printf("on_close latency %ld ms\n", latency);
  EXPECT_LT(latency, 100);
  EXPECT_TRUE(responder->closed());
  responder->send(200, {}, "too late");  // ignored, no crash
  // A callback registered after the fact runs at once.
  bool late = false;
  responder->on_close([&late] { late = true; });
  EXPECT_TRUE(late);
}

TEST(HttpStream, DisconnectDuringStreamMakesWriteFail) {
  std::promise<long> write_failed_after;
  std::atomic<bool> on_close_fired{false};
  std::thread producer;
  Server server(test_options(), [&](Request&&, std::shared_ptr<Responder> responder) {
    responder->on_close([&] { on_close_fired = true; });
    producer = std::thread([responder, &write_failed_after] {
      responder->start_stream(200, {{"content-type", "text/event-stream"}});
      auto t0 = Clock::now();
      for (int i = 0; i < 2000; ++i) {
        if (!responder->write("data: token\n\n")) {
          write_failed_after.set_value(ms_since(t0));
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      write_failed_after.set_value(-1);
    });
  });
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  ASSERT_TRUE(c.send(make_request("POST", "/v1/completions", "{}")));
  Response head;
  std::string chunk;
  ASSERT_TRUE(c.read_head(&head));
  ASSERT_TRUE(c.read_chunk(&chunk));
  EXPECT_EQ(chunk, "data: token\n\n");
  c.close();  // the client goes away after the first token
  auto f = write_failed_after.get_future();
  ASSERT_TRUE(ready(f, 3000));
  EXPECT_GE(f.get(), 0);
  producer.join();
  EXPECT_TRUE(on_close_fired.load());
}

TEST(HttpStream, SlowReaderIsAbortedAfterWriteTimeout) {
  for (bool by_cap : {false, true}) {
    ServerOptions o = test_options();
    o.write_timeout_ms = by_cap ? 10000 : 300;
    o.max_write_buffer_bytes = by_cap ? (1 << 20) : (256 << 20);
    std::promise<long> failed_after;
    std::thread producer;
    Server server(o, [&](Request&& request, std::shared_ptr<Responder> responder) {
      if (request.path != "/stream") return responder->send(200, {}, "other");
      producer = std::thread([responder, &failed_after] {
        responder->start_stream(200, {});
        std::string block(64 << 10, 'x');
        auto t0 = Clock::now();
        while (ms_since(t0) < 8000) {
          if (!responder->write(block)) {
            failed_after.set_value(ms_since(t0));
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        failed_after.set_value(-1);
      });
    });
    ASSERT_TRUE(server.start().ok());
    Client c(server.port(), /*rcvbuf=*/4096);  // reads nothing
    ASSERT_TRUE(c.send(make_request("GET", "/stream")));
    auto f = failed_after.get_future();
    ASSERT_TRUE(ready(f, 9000));
    long after = f.get();
    producer.join();
    std::printf("slow reader aborted by %s after %ld ms\n", by_cap ? "buffer cap" : "write timeout", after);
    EXPECT_GE(after, 0) << (by_cap ? "cap" : "timeout");
    if (!by_cap) {
      EXPECT_GE(after, 250);  // not before the write timeout
    }
    EXPECT_LT(after, 5000) << (by_cap ? "cap" : "timeout");
    Client other(server.port());  // other requests unaffected
    Response r;
    ASSERT_TRUE(other.send(make_request("GET", "/x")));
    EXPECT_TRUE(other.read_head(&r));
    EXPECT_EQ(r.status, 200);
    server.stop();
    if (producer.joinable()) producer.join();
  }
}

// Raises the soft descriptor limit so the test can hold both ends of n connections.
bool raise_fd_limit(rlim_t want) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
  if (lim.rlim_cur >= want) return true;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  return setrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur >= want;
}

TEST(HttpStream, ThousandIdleConnectionsOnOneIoThread) {
  constexpr int kN = 1000;
  ASSERT_TRUE(raise_fd_limit(2 * kN + 100));
  ServerOptions o = test_options();
  o.n_io_threads = 1;
  Server server(o, [](Request&& r, std::shared_ptr<Responder> responder) {
    responder->send(200, {}, r.path);
  });
  ASSERT_TRUE(server.start().ok());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kN; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->ok()) << i;
  }
  auto t0 = Clock::now();
  while (server.n_connections() < kN && ms_since(t0) < 5000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server.n_connections(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; i += 97) {  // idle ones still answer, in any order
    Response r;
    ASSERT_TRUE(clients[i]->send(make_request("GET", "/c" + std::to_string(i))));
    ASSERT_TRUE(clients[i]->read_response(&r));
    EXPECT_EQ(r.body, "/c" + std::to_string(i));
  }
  clients.clear();
  t0 = Clock::now();
  while (server.n_connections() > 0 && ms_since(t0) < 5000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server.n_connections(), 0u);
}

TEST(HttpStream, StopWithOpenConnectionsIsPrompt) {
  Captured captured;
  auto server = std::make_unique<Server>(test_options(), captured.handler());
  ASSERT_TRUE(server->start().ok());
  std::vector<std::unique_ptr<Client>> idle, pending;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<Client>(server->port()));
  for (int i = 0; i < 5; ++i) {
    pending.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(pending.back()->send(make_request("POST", "/never", "{}")));
  }
  ASSERT_TRUE(captured.wait(5));
  std::atomic<int> closes{0};
  for (int i = 0; i < 5; ++i) captured.responder(i)->on_close([&closes] { closes++; });
  captured.responder(0)->start_stream(200, {});
  EXPECT_TRUE(captured.responder(0)->write("partial"));
  auto t0 = Clock::now();
  server->stop();
  EXPECT_LT(ms_since(t0), 1000);
  EXPECT_EQ(closes.load(), 5);
  EXPECT_EQ(server->n_connections(), 0u);
  for (auto& c : idle) EXPECT_TRUE(c->wait_closed(1000));
  for (auto& c : pending) EXPECT_TRUE(c->wait_closed(1000));
  EXPECT_FALSE(captured.responder(0)->write("after stop"));
  server.reset();  // responders outlive the server: calls are no-ops
  captured.responder(1)->send(200, {}, "late");
  EXPECT_TRUE(captured.responder(1)->closed());
}

}  // namespace
}  // namespace maas::http
