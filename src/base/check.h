// check.h — invariants. A failed CHECK is a bug in maas, never the user's input: it prints the
// condition and location and aborts. User input is validated and answered with a Status.
#pragma once

namespace maas {
[[noreturn]] void check_failed(const char* condition, const char* file, int line, const char* message);
}  // namespace maas

#define CHECK(cond) \
  do { if (!(cond)) ::maas::check_failed(#cond, __FILE__, __LINE__, nullptr); } while (0)
#define CHECK_MSG(cond, msg) \
  do { if (!(cond)) ::maas::check_failed(#cond, __FILE__, __LINE__, (msg)); } while (0)
