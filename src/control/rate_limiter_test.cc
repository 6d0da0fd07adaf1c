// rate_limiter_test.cc — TESTPLAN G on a fake clock: exactly the limit admitted per window (G1,
// G6 under threads), token exhaustion and "Request too large" (G2, G3), headers that only fall
// inside a window and never go negative (G4), refunds (G5), the window edge (G9), n/best_of
// estimates are the caller's (G11 is covered by the gateway's estimate test).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "control/rate_limiter.h"

namespace maas {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& h) {
  return {h.begin(), h.end()};
}

TEST(RateLimiter, ExactlyTheRequestLimitPerWindow) {
  FakeClock clock;
  RateLimiter rl(clock, {1000, 200000});
  int admitted = 0;
  RateDecision last;
  for (int i = 0; i < 1001; ++i) {
    last = rl.admit(1);
    admitted += last.admitted();
    clock.advance_ms(50);  // 1001 requests over ~50 s: one window
  }
  EXPECT_EQ(admitted, 1000);
  EXPECT_EQ(last.kind, RateDecision::kRequests);
  EXPECT_STREQ(last.type(), "requests");
  EXPECT_GT(last.retry_after_ms, 0);
  EXPECT_LE(last.retry_after_ms, 60000);
  EXPECT_EQ(as_map(last.headers)["x-ratelimit-remaining-requests"], "0");
  clock.advance_ms(last.retry_after_ms);
  EXPECT_TRUE(rl.admit(1).admitted()) << "a new window after Retry-After";
}

TEST(RateLimiter, TokenExhaustionAndTooLarge) {
  FakeClock clock;
  RateLimiter rl(clock, {1000, 200000});
  EXPECT_TRUE(rl.admit(150000).admitted());
  RateDecision d = rl.admit(60000);
  EXPECT_EQ(d.kind, RateDecision::kTokens);
  EXPECT_NE(d.message.find("Limit 200000, Used 150000, Requested 60000"), std::string::npos) << d.message;
  EXPECT_TRUE(rl.admit(50000).admitted());
  RateDecision big = rl.admit(250000);
  EXPECT_EQ(big.kind, RateDecision::kTooLarge);
  EXPECT_EQ(big.retry_after_ms, 0) << "waiting cannot help";
  EXPECT_NE(big.message.find("Request too large"), std::string::npos);
}

TEST(RateLimiter, HeadersFallInsideAWindowAndRefundsRaiseThem) {
  FakeClock clock;
  RateLimiter rl(clock, {10, 1000});
  auto h0 = as_map(rl.headers());
  EXPECT_EQ(h0["x-ratelimit-limit-requests"], "10");
  EXPECT_EQ(h0["x-ratelimit-limit-tokens"], "1000");
  EXPECT_EQ(h0["x-ratelimit-remaining-tokens"], "1000");
  RateDecision a = rl.admit(400);  // estimate: prompt + max_tokens
  auto h1 = as_map(a.headers);
  EXPECT_EQ(h1["x-ratelimit-remaining-requests"], "9");
  EXPECT_EQ(h1["x-ratelimit-remaining-tokens"], "600");
  EXPECT_EQ(h1["x-ratelimit-reset-requests"], "1m0s");
  clock.advance_ms(1500);
  rl.reconcile(a, 15);  // the real count: 385 tokens refunded
  auto h2 = as_map(rl.headers());
  EXPECT_EQ(h2["x-ratelimit-remaining-tokens"], "985");
  EXPECT_EQ(h2["x-ratelimit-reset-tokens"], "58.5s");
  RateDecision b = rl.admit(100);
  rl.reconcile(b, 5000);  // more than reserved: charged, remaining floors at 0
  EXPECT_EQ(as_map(rl.headers())["x-ratelimit-remaining-tokens"], "0");
  EXPECT_EQ(rl.admit(1).kind, RateDecision::kTokens);
}

TEST(RateLimiter, ReconcileInALaterWindowChangesNothing) {
  FakeClock clock;
  RateLimiter rl(clock, {10, 1000}, 60000);
  RateDecision a = rl.admit(900);
  clock.advance_ms(61000);
  EXPECT_TRUE(rl.admit(100).admitted());
  rl.reconcile(a, 0);
  EXPECT_EQ(as_map(rl.headers())["x-ratelimit-remaining-tokens"], "900");
}

TEST(RateLimiter, WallClockChangesDoNotMatter) {
  FakeClock clock;
  RateLimiter rl(clock, {1, 1000});
  EXPECT_TRUE(rl.admit(1).admitted());
  clock.set_unix_ms(clock.now_unix_ms() + 3600000);  // someone sets the date an hour ahead
  EXPECT_FALSE(rl.admit(1).admitted());
}

TEST(RateLimiter, ConcurrentAdmissionsNeverExceedTheLimit) {
  FakeClock clock;
  RateLimiter rl(clock, {1000, 10000000});
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) admitted += rl.admit(3).admitted();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1000);
}

TEST(RateLimiter, ResetDurationFormat) {
  EXPECT_EQ(rate_reset_duration(0), "0ms");
  EXPECT_EQ(rate_reset_duration(250), "250ms");
  EXPECT_EQ(rate_reset_duration(1000), "1s");
  EXPECT_EQ(rate_reset_duration(59500), "59.5s");
  EXPECT_EQ(rate_reset_duration(360000), "6m0s");
  EXPECT_EQ(rate_reset_duration(-5), "0ms");
}

}  // namespace
}  // namespace maas
