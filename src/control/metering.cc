// metering.cc — the group-committing usage writer.
#include "control/metering.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"

namespace maas {
namespace {

constexpr const char* kUpsert =
    "INSERT INTO usage_records (id, request_id, workspace_id, endpoint_id, endpoint_name, deployment, model_name, "
    "offering_id, key_slot, route, prompt_tokens, completion_tokens, status, outcome, price_input_micro, "
    "price_output_micro, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET prompt_tokens = excluded.prompt_tokens, completion_tokens = "
    "excluded.completion_tokens, status = excluded.status, outcome = excluded.outcome, ended_at = excluded.ended_at "
    "WHERE usage_records.outcome = 'in_progress'";

std::vector<SqlValue> values(const UsageRecord& r) {
  return {r.id, r.request_id, r.workspace_id, r.endpoint_id, r.endpoint_name, r.deployment, r.model_name,
          r.offering_id, r.key_slot, r.route, r.prompt_tokens, r.completion_tokens, int64_t{r.status}, r.outcome,
          r.price_input_micro, r.price_output_micro, r.started_at,
          r.ended_at == 0 ? SqlValue{} : SqlValue{r.ended_at}};
}

}  // namespace

StatusOr<std::unique_ptr<Meter>> Meter::open(std::unique_ptr<Database> db, const Clock& clock, MeterOptions options) {
  ASSIGN_OR_RETURN(int64_t n, db->exec("UPDATE usage_records SET outcome = 'incomplete', ended_at = ? WHERE outcome = "
                                       "'in_progress'",
                                       {clock.now_unix_ms()}));
  if (n > 0) LOG_WARN("metering: %lld usage records left in progress by the previous run marked incomplete",
                      static_cast<long long>(n));
  std::unique_ptr<Meter> meter(new Meter(std::move(db), clock, options));
  meter->reconciled_ = n;
  return meter;
}

Meter::Meter(std::unique_ptr<Database> db, const Clock& clock, MeterOptions options)
    : db_(std::move(db)), clock_(clock), options_(options) {
  writer_ = std::thread([this] { run(); });
}

Meter::~Meter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void Meter::begin(const UsageRecord& record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{record, nullptr, next_seq_++});
  }
  cv_.notify_one();
}

void Meter::finish(const UsageRecord& record, std::function<void(Status)> durable) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{record, std::move(durable), next_seq_++});
  }
  cv_.notify_one();
}

bool Meter::flush(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = next_seq_ - 1;
  return done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return committed_seq_ >= target; });
}

MeterStats Meter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  MeterStats s = stats_;
  s.queued = queue_.size();
  return s;
}

Status Meter::write_batch(const std::deque<Item>& batch) {
  Transaction tx(*db_);
  RETURN_IF_ERROR(tx.begin());
  for (const Item& item : batch) RETURN_IF_ERROR(db_->exec(kUpsert, values(item.record)).status());
  return tx.commit();
}

void Meter::run() {
  int backoff_ms = options_.retry_backoff_ms;
  int retries_while_stopping = 0;
  for (;;) {
    std::deque<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    }
    const auto t0 = std::chrono::steady_clock::now();
    Status s = write_batch(batch);
    if (!s.ok()) {
      healthy_.store(false);
      LOG_ERROR("metering: commit of %zu usage records failed (%s); retrying in %d ms", batch.size(),
                s.message().c_str(), backoff_ms);
      bool give_up = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.failed_commits;
        // Back to the front, in order: nothing is dropped.
        queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        give_up = stopping_ && ++retries_while_stopping > 5;
      }
      if (give_up) {
        LOG_ERROR("metering: stopping with %zu usage records not committed", batch.size());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 5000);
      continue;
    }
    commit_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    backoff_ms = options_.retry_backoff_ms;
    if (!healthy_.exchange(true)) LOG_INFO("metering: commits succeed again");
    for (Item& item : batch) {
      if (item.durable) item.durable(Status::Ok());
    }
    {  // after the callbacks: flush() returning means they have all run
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.commits;
      stats_.records += batch.size();
      committed_seq_ = std::max(committed_seq_, batch.back().seq);
    }
    done_cv_.notify_all();
  }
}

}  // namespace maas
