// rate_limiter.cc — fixed-window request and token buckets with reserve / reconcile.
#include "control/rate_limiter.h"

#include <algorithm>
#include <cstdio>

namespace maas {

const char* RateDecision::type() const { return kind == kRequests ? "requests" : "tokens"; }

std::string rate_reset_duration(int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof(buf), "%lldms", static_cast<long long>(ms));
  } else if (ms < 60000) {
    if (ms % 1000 == 0) std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(ms / 1000));
    else std::snprintf(buf, sizeof(buf), "%.3gs", ms / 1000.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldm%llds", static_cast<long long>(ms / 60000),
                  static_cast<long long>((ms % 60000) / 1000));
  }
  return buf;
}

RateLimiter::RateLimiter(const Clock& clock, RateLimits limits, int64_t window_ms)
    : clock_(clock), window_ms_(window_ms), limits_(limits) {}

void RateLimiter::set_limits(RateLimits limits) {
  std::lock_guard<std::mutex> lock(mu_);
  limits_ = limits;
}

RateLimits RateLimiter::limits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limits_;
}

void RateLimiter::roll(int64_t now) const {
  if (open_ && now - window_start_ < window_ms_) return;
  open_ = false;
  used_requests_ = 0;
  used_tokens_ = 0;
}

std::vector<std::pair<std::string, std::string>> RateLimiter::headers_locked(int64_t now) const {
  const int64_t reset = open_ ? window_start_ + window_ms_ - now : 0;
  const std::string r = rate_reset_duration(reset);
  return {{"x-ratelimit-limit-requests", std::to_string(limits_.requests_per_minute)},
          {"x-ratelimit-limit-tokens", std::to_string(limits_.tokens_per_minute)},
          {"x-ratelimit-remaining-requests", std::to_string(std::max<int64_t>(0, limits_.requests_per_minute - used_requests_))},
          {"x-ratelimit-remaining-tokens", std::to_string(std::max<int64_t>(0, limits_.tokens_per_minute - used_tokens_))},
          {"x-ratelimit-reset-requests", r},
          {"x-ratelimit-reset-tokens", r}};
}

std::vector<std::pair<std::string, std::string>> RateLimiter::headers() const {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.monotonic_ms();
  roll(now);
  return headers_locked(now);
}

RateDecision RateLimiter::admit(int64_t estimated_tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.monotonic_ms();
  roll(now);
  RateDecision d;
  d.reserved_tokens = estimated_tokens;
  const int64_t left_ms = open_ ? window_start_ + window_ms_ - now : window_ms_;
  if (estimated_tokens > limits_.tokens_per_minute) {
    d.kind = RateDecision::kTooLarge;
    d.message = "Request too large: Limit " + std::to_string(limits_.tokens_per_minute) + " tokens per minute, Requested " +
                std::to_string(estimated_tokens) + ". Reduce max_tokens, n or the prompt.";
  } else if (used_requests_ + 1 > limits_.requests_per_minute) {
    d.kind = RateDecision::kRequests;
    d.retry_after_ms = std::max<int64_t>(left_ms, 1);
    d.message = "Rate limit reached for requests per minute: Limit " + std::to_string(limits_.requests_per_minute) +
                ", Used " + std::to_string(used_requests_) + ", Requested 1. Please try again in " +
                rate_reset_duration(d.retry_after_ms) + ".";
  } else if (used_tokens_ + estimated_tokens > limits_.tokens_per_minute) {
    d.kind = RateDecision::kTokens;
    d.retry_after_ms = std::max<int64_t>(left_ms, 1);
    d.message = "Rate limit reached for tokens per minute: Limit " + std::to_string(limits_.tokens_per_minute) +
                ", Used " + std::to_string(used_tokens_) + ", Requested " + std::to_string(estimated_tokens) +
                ". Please try again in " + rate_reset_duration(d.retry_after_ms) + ".";
  } else {
    if (!open_) {
      open_ = true;
      window_start_ = now;
      ++window_id_;
    }
    ++used_requests_;
    used_tokens_ += estimated_tokens;
    d.window = window_id_;
  }
  d.headers = headers_locked(now);
  return d;
}

void RateLimiter::reconcile(const RateDecision& admitted, int64_t actual_tokens) {
  if (!admitted.admitted()) return;
  std::lock_guard<std::mutex> lock(mu_);
  roll(clock_.monotonic_ms());
  if (!open_ || admitted.window != window_id_) return;
  used_tokens_ = std::max<int64_t>(0, used_tokens_ + actual_tokens - admitted.reserved_tokens);
}

}  // namespace maas
