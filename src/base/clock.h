// clock.h — time behind a seam (ARCHITECTURE rule 8), so tests can move it: rate-limit windows,
// token expiries, backoff, retention periods.
//
// Two readings: wall time (unix milliseconds, for records and expiries users see) and a
// monotonic reading (milliseconds from an arbitrary origin, for windows and timeouts; never
// goes back when the wall clock is set). SystemClock reads the OS; FakeClock holds both at
// values the test sets and advances.
// Thread safety: both implementations may be read and (FakeClock) moved from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace maas {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_unix_ms() const = 0;
  virtual int64_t monotonic_ms() const = 0;
  int64_t now_unix_s() const { return now_unix_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t now_unix_ms() const override;
  int64_t monotonic_ms() const override;
  static SystemClock& instance();  // process-wide, never destroyed
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_ms = 1767225600000 /* 2026-01-01T00:00:00Z */, int64_t monotonic_ms = 1000000)
      : unix_ms_(unix_ms), monotonic_ms_(monotonic_ms) {}
  int64_t now_unix_ms() const override { return unix_ms_.load(); }
  int64_t monotonic_ms() const override { return monotonic_ms_.load(); }
  // Moves both readings forward by ms.
  void advance_ms(int64_t ms) {
    unix_ms_ += ms;
    monotonic_ms_ += ms;
  }
  // Sets the wall clock only (as an operator setting the date would); monotonic stays.
  void set_unix_ms(int64_t ms) { unix_ms_ = ms; }

 private:
  std::atomic<int64_t> unix_ms_;
  std::atomic<int64_t> monotonic_ms_;
};

// The system's clock moved forward by an offset a test sets (`maas serve --test-clock`): both
// readings run at the real rate, so windows and timeouts keep working, and can jump ahead.
class OffsetClock final : public Clock {
 public:
  int64_t now_unix_ms() const override { return SystemClock::instance().now_unix_ms() + offset_ms_.load(); }
  int64_t monotonic_ms() const override { return SystemClock::instance().monotonic_ms() + offset_ms_.load(); }
  void advance_ms(int64_t ms) { offset_ms_ += ms; }

 private:
  std::atomic<int64_t> offset_ms_{0};
};

}  // namespace maas
