// data_collection.h — inference data collection for a managed-compute deployment (SPEC §1's
// option): each request and its response appended as one JSON line to
// <dir>/<YYYY-MM-DD>.jsonl (UTC), rotated by size (the full file becomes .1.jsonl, .2.jsonl, …).
// Written as the requests finish, by the thread that finishes them; a failed write is logged and
// counted, never fails the request.
// Thread safety: append() may be called from any thread (one mutex per collector).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "base/clock.h"

namespace maas {

class DataCollector {
 public:
  DataCollector(std::string dir, const Clock& clock, int64_t max_file_bytes = 64 << 20);
  // `line` is one JSON object without the newline.
  void append(const std::string& line);
  const std::string& dir() const { return dir_; }
  uint64_t failures() const;

 private:
  const std::string dir_;
  const Clock& clock_;
  const int64_t max_file_bytes_;
  mutable std::mutex mu_;
  uint64_t failures_ = 0;  // guarded by mu_
};

}  // namespace maas
