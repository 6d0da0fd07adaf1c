// rate_limiter.h — requests-per-minute and tokens-per-minute limits of one deployment
// (SPEC §1 and §3; TESTPLAN G).
//
// Policy (docs/operations.md):
//   - Fixed windows: a window opens at the first request after the previous one ended and lasts
//     window_ms (60 s). Inside a window the remaining counts only fall, except by the refunds of
//     reconcile(); at its end both counts reset to the full limits. Monotonic time, so setting
//     the wall clock changes nothing (G9). A burst of `limit` requests in one second is admitted.
//   - A request is admitted against its estimate: prompt tokens + max_tokens * max(n, best_of)
//     (G11). When it ends, reconcile() replaces the estimate by the real count in the same window
//     (a refund or an extra charge, never below zero: G5). One that ends in a later window
//     changes nothing there.
//   - Over a limit: kRequests or kTokens with retry_after_ms = the time left in the window (429,
//     Retry-After). A single request whose estimate exceeds the whole tokens-per-minute limit is
//     kTooLarge: 429 "Request too large" without Retry-After, as waiting cannot help (G3).
//   - Rejected requests are not counted (they consume nothing); admitted requests count even if
//     the worker then refuses them (G8). Limits live in memory: a restart starts a fresh window
//     (G10).
// Every decision carries the x-ratelimit-* headers of the state after it (G4).
// Thread safety: all methods may be called from any thread; admission is atomic (G6).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace maas {

struct RateLimits {
  int64_t requests_per_minute = 1000;
  int64_t tokens_per_minute = 200000;
};

struct RateDecision {
  enum Kind { kAdmitted, kRequests, kTokens, kTooLarge } kind = kAdmitted;
  int64_t retry_after_ms = 0;  // > 0 for kRequests / kTokens
  int64_t reserved_tokens = 0;
  uint64_t window = 0;         // the window admitted in (for reconcile)
  std::string message;         // for a rejection, OpenAI-style
  std::vector<std::pair<std::string, std::string>> headers;  // x-ratelimit-*
  bool admitted() const { return kind == kAdmitted; }
  const char* type() const;  // "requests" | "tokens"
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimits limits, int64_t window_ms = 60000);
  void set_limits(RateLimits limits);
  RateLimits limits() const;
  RateDecision admit(int64_t estimated_tokens);
  void reconcile(const RateDecision& admitted, int64_t actual_tokens);
  // The headers of the current state (for responses that were not admission decisions).
  std::vector<std::pair<std::string, std::string>> headers() const;

 private:
  void roll(int64_t now) const;  // mu_ held: opens a new window when the current one ended
  std::vector<std::pair<std::string, std::string>> headers_locked(int64_t now) const;

  const Clock& clock_;
  const int64_t window_ms_;
  mutable std::mutex mu_;
  RateLimits limits_;                  // guarded by mu_
  mutable bool open_ = false;          // guarded by mu_: a window is running
  mutable int64_t window_start_ = 0;   // guarded by mu_
  mutable uint64_t window_id_ = 0;     // guarded by mu_
  mutable int64_t used_requests_ = 0;  // guarded by mu_
  mutable int64_t used_tokens_ = 0;    // guarded by mu_
};

// OpenAI's duration format for the reset headers: "250ms", "1s", "59.5s", "6m0s".
std::string rate_reset_duration(int64_t ms);

}  // namespace maas
