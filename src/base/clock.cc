// clock.cc — SystemClock over std::chrono.
#include "base/clock.h"

#include <chrono>

namespace maas {

int64_t SystemClock::now_unix_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t SystemClock::monotonic_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::instance() {
  static SystemClock* clock = new SystemClock();
  return *clock;
}

}  // namespace maas
