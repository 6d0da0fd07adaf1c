// client_backpressure_test.cc — flow control end to end: the server Responder's
// unsent_bytes()/on_drain() against slow raw-socket readers, and the gateway's proxy pattern
// (HttpClient pause/resume driven by on_drain) keeping a proxy's buffer bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "http/http.h"
#include "http/test_client.h"

namespace maas::http {
namespace {

using testing::Captured;
using testing::test_options;

TEST(HttpResponder, OnDrainFiresWhenASlowReaderCatchesUp) {
  // 16 MiB written to a client that reads nothing: the kernel holds at most a few MiB (server
  // send buffer <= wmem_max, the client's fixed 4 KiB receive buffer), so whatever the timing,
  // more than kLow stays unsent until the client reads.
  constexpr size_t kTotal = 16 << 20, kLow = 1 << 20;
  ServerOptions o = test_options();
  o.max_write_buffer_bytes = 64 << 20;
  std::promise<size_t> high;     // unsent bytes when on_drain was registered
  std::promise<bool> drained;    // closed() when on_drain ran
  std::atomic<bool> replaced_ran{false};
  std::thread producer;
  Server server(o, [&](Request&&, std::shared_ptr<Responder> responder) {
    producer = std::thread([&, responder] {
      responder->start_stream(200, {});
      bool at_once = false;
      responder->on_drain(kLow, [&] { at_once = true; });  // nothing unsent yet: runs now
      EXPECT_TRUE(at_once);
      std::string block(64 << 10, 'd');
      for (size_t n = 0; n < kTotal; n += block.size()) ASSERT_TRUE(responder->write(block));
      responder->on_drain(kLow, [&] { replaced_ran = true; });  // replaced by the next one
      responder->on_drain(kLow, [&, responder] {
        drained.set_value(responder->closed());
        responder->end_stream();
      });
      high.set_value(responder->unsent_bytes());
    });
  });
  ASSERT_TRUE(server.start().ok());
  testing::Client c(server.port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.send(testing::make_request("GET", "/stream")));
  auto high_f = high.get_future();
  ASSERT_EQ(high_f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_GT(high_f.get(), kLow);
  auto drained_f = drained.get_future();
  EXPECT_NE(drained_f.wait_for(std::chrono::milliseconds(0)), std::future_status::ready);
  testing::Response r;
  ASSERT_TRUE(c.read_response(&r));  // reading drains; the callback ends the stream
  ASSERT_EQ(drained_f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_FALSE(drained_f.get());
  EXPECT_FALSE(replaced_ran.load());
  EXPECT_EQ(r.body.size(), kTotal);
  producer.join();
}

TEST(HttpResponder, OnDrainFiresWhenTheClientGoes) {
  ServerOptions o = test_options();
  o.max_write_buffer_bytes = 64 << 20;
  Captured captured;
  Server server(o, captured.handler());
  ASSERT_TRUE(server.start().ok());
  auto c = std::make_unique<testing::Client>(server.port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c->send(testing::make_request("GET", "/stream")));
  ASSERT_TRUE(captured.wait(1));
  auto responder = captured.responder(0);
  responder->start_stream(200, {});
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(responder->write(std::string(64 << 10, 'g')));  // 16 MiB
  std::promise<bool> fired;
  responder->on_drain(1 << 20, [&] { fired.set_value(responder->closed()); });  // only by closing
  c.reset();
  auto f = fired.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get());
  bool late = false;
  responder->on_drain(0, [&] { late = true; });  // already closed: at once
  EXPECT_TRUE(late);
}

// A proxy (our Server + HttpClient) between a fast upstream and a client that reads nothing
// until the proxy paused: without backpressure the proxy would queue all 16 MiB and trip its
// 4 MiB write-buffer cap (abort); with it, its unsent bytes stay near the high mark and the
// whole body arrives.
TEST(HttpProxy, SlowClientPausesTheUpstreamCall) {
  constexpr size_t kTotal = 16 << 20, kHigh = 1 << 20, kLow = 256 << 10;
  ServerOptions upstream_options = test_options();
  upstream_options.max_write_buffer_bytes = 64 << 20;
  Captured upstream_captured;
  Server upstream(upstream_options, upstream_captured.handler());
  ASSERT_TRUE(upstream.start().ok());

  std::atomic<size_t> max_unsent{0};
  std::atomic<int> n_pauses{0};
  HttpClient client;  // after what its handlers use; before the proxy server that uses it
  struct CallSlot {
    std::mutex mu;
    std::shared_ptr<ClientCall> call;  // guarded by mu
  };
  Server proxy(test_options(), [&](Request&&, std::shared_ptr<Responder> down) {
    auto slot = std::make_shared<CallSlot>();
    ClientHandlers h;
    h.on_head = [down](ClientResponseHead&& head) { down->start_stream(head.status, {}); };
    h.on_data = [&, down, slot](std::string&& data) {
      if (!down->write(std::move(data))) return;
      size_t unsent = down->unsent_bytes();
      size_t seen = max_unsent.load();
      while (unsent > seen && !max_unsent.compare_exchange_weak(seen, unsent)) {
      }
      if (unsent <= kHigh) return;
      std::shared_ptr<ClientCall> call;
      {
        std::lock_guard lock(slot->mu);
        call = slot->call;
      }
      n_pauses++;
      call->pause();
      down->on_drain(kLow, [call] { call->resume(); });
    };
    h.on_complete = [down](Status status) {
      if (status.ok()) down->end_stream();
    };
    ClientRequest up;
    up.port = upstream.port();
    up.target = "/up";
    std::lock_guard lock(slot->mu);  // on_data waits until the handle is stored
    slot->call = client.start(std::move(up), std::move(h));
  });
  ASSERT_TRUE(proxy.start().ok());

  testing::Client c(proxy.port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.send(testing::make_request("GET", "/down")));
  ASSERT_TRUE(upstream_captured.wait(1));
  auto up = upstream_captured.responder(0);
  up->start_stream(200, {});
  for (size_t n = 0; n < kTotal; n += 64 << 10) ASSERT_TRUE(up->write(std::string(64 << 10, 'u')));
  up->end_stream();
  auto t0 = std::chrono::steady_clock::now();
  while (n_pauses.load() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(n_pauses.load(), 1);  // the client read nothing: the proxy had to pause
  testing::Response r;
  ASSERT_TRUE(c.read_response(&r, 10000));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), kTotal);
  EXPECT_LE(max_unsent.load(), kHigh + (64 << 10));  // at most one piece past the high mark
  std::printf("proxy paused %d times, max unsent %zu KiB\n", n_pauses.load(), max_unsent.load() >> 10);
}

}  // namespace
}  // namespace maas::http
