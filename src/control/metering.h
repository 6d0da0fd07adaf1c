// metering.h — the usage ledger: one record per inference request that passed key
// authentication, written durably and idempotently (SPEC §3; TESTPLAN K).
//
// Life of a record: begin() queues an "in_progress" row when the request is admitted (not
// waited for); finish() queues the final row and calls `durable` once it is committed. Both go
// through one FIFO to one writer thread on its own database connection, which commits whatever
// is queued in one transaction (group commit: many requests share one fsync, with
// synchronous=FULL). Writes are upserts keyed by the record id: a final row is never
// overwritten, so a retried write or a late begin() changes nothing (K4).
// The gateway completes a response only after its record is durable, so SIGKILL loses no
// record of a completed request and duplicates none (K1). At start, rows still "in_progress"
// from a previous run become "incomplete" (reconciliation).
// When a commit fails (disk full, I/O error: H8, K7) the batch stays queued and is retried with
// backoff; healthy() is false until a commit succeeds, and the gateway refuses new requests
// with 503 meanwhile (fail closed). Nothing queued is dropped while the process lives.
// Thread safety: all methods may be called from any thread; callbacks run on the writer thread
// and must not block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/histogram.h"
#include "control/database.h"
#include "control/resources.h"

namespace maas {

struct MeterOptions {
  size_t max_batch = 1024;
  int retry_backoff_ms = 200;   // first retry after a failed commit; doubles up to 5 s
};

struct MeterStats {
  uint64_t commits = 0, records = 0, failed_commits = 0;
  size_t queued = 0;
};

class Meter {
 public:
  // Reconciles rows left in progress by a previous run, then starts the writer.
  static StatusOr<std::unique_ptr<Meter>> open(std::unique_ptr<Database> db, const Clock& clock,
                                               MeterOptions options = {});
  ~Meter();  // commits what is queued (bounded by a few retries), then stops

  void begin(const UsageRecord& record);
  void finish(const UsageRecord& record, std::function<void(Status)> durable = nullptr);
  bool healthy() const { return healthy_.load(); }
  // Waits until everything queued before the call is committed and its callbacks have run;
  // false on timeout.
  bool flush(int timeout_ms);
  MeterStats stats() const;
  Histogram commit_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1}};
  int64_t reconciled() const { return reconciled_; }  // rows marked incomplete at open

 private:
  struct Item {
    UsageRecord record;
    std::function<void(Status)> durable;
    uint64_t seq = 0;
  };
  Meter(std::unique_ptr<Database> db, const Clock& clock, MeterOptions options);
  void run();
  Status write_batch(const std::deque<Item>& batch);

  std::unique_ptr<Database> db_;  // writer thread only
  const Clock& clock_;
  const MeterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<Item> queue_;        // guarded by mu_
  uint64_t next_seq_ = 1;         // guarded by mu_
  uint64_t committed_seq_ = 0;    // guarded by mu_: every item with seq <= this is committed
  bool stopping_ = false;         // guarded by mu_
  MeterStats stats_;              // guarded by mu_
  std::atomic<bool> healthy_{true};
  int64_t reconciled_ = 0;
  std::thread writer_;
};

}  // namespace maas
