// metering_test.cc — the usage ledger on a real SQLite file: durable callbacks after commit,
// group commits, idempotent writes (K4), a final row never overwritten, reconciliation of rows
// left in progress (K1), WAL and synchronous=FULL verified at open (K8), and a failing commit
// that keeps its records queued and reports unhealthy (K7).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "control/metering.h"
#include "control/migrations.h"
#include "control/store.h"

namespace maas {
namespace {

class MeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("maas-meter-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "maas.db").string();
    auto db = open_sqlite({path_});
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto store = Store::open(std::move(*db), clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Meter> meter() {
    auto db = open_sqlite({path_, /*busy_timeout_ms=*/300});
    EXPECT_TRUE(db.ok());
    auto m = Meter::open(std::move(*db), clock_);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(*m);
  }

  // noinline: GCC 12 at -O3 reports a false -Wrestrict (bug 105329) when this is inlined into a loop.
  __attribute__((noinline)) UsageRecord record(const std::string& id, int64_t prompt, int64_t completion,
                                               const std::string& outcome) {
    UsageRecord r;
    r.id = id;
    r.request_id = id;
    r.workspace_id = "ws-1";
    r.endpoint_id = "ep-1";
    r.endpoint_name = "ep";
    r.deployment = "serverless/m";
    r.model_name = "m";
    r.offering_id = "m-offer";
    r.key_slot = "primary";
    r.route = "/v1/chat/completions";
    r.prompt_tokens = prompt;
    r.completion_tokens = completion;
    r.status = outcome == "in_progress" ? 0 : 200;
    r.outcome = outcome;
    r.price_input_micro = 300;
    r.price_output_micro = 600;
    r.started_at = clock_.now_unix_ms();
    r.ended_at = outcome == "in_progress" ? 0 : r.started_at + 5;
    return r;
  }

  int64_t rows(const std::string& where = "1=1") {
    auto r = store_->database().query("SELECT COUNT(*) FROM usage_records WHERE " + where);
    return r.ok() ? r->at(0).integer(0) : -1;
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(MeterTest, WalAndFullSyncAreVerified) {
  auto rows = store_->database().query("PRAGMA journal_mode");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->at(0).text(0), "wal");
  rows = store_->database().query("PRAGMA synchronous");
  EXPECT_EQ(rows->at(0).integer(0), 2);
}

TEST_F(MeterTest, DurableAfterCommitAndIdempotent) {
  auto m = meter();
  m->begin(record("a", 0, 0, "in_progress"));
  std::promise<Status> done;
  m->finish(record("a", 10, 4, "stop"), [&](Status s) { done.set_value(s); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(rows("id = 'a' AND outcome = 'stop' AND prompt_tokens = 10 AND completion_tokens = 4"), 1);
  // A retried write of the same record, and a late in-progress write: still one row, unchanged.
  m->finish(record("a", 99, 99, "length"));
  m->begin(record("a", 0, 0, "in_progress"));
  ASSERT_TRUE(m->flush(5000));
  EXPECT_EQ(rows(), 1);
  EXPECT_EQ(rows("id = 'a' AND outcome = 'stop' AND prompt_tokens = 10"), 1);
}

TEST_F(MeterTest, ManyRecordsShareCommits) {
  auto m = meter();
  std::atomic<int> durable{0};
  for (int i = 0; i < 2000; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "r%d", i);
    m->finish(record(id, 1, 1, "stop"), [&](Status) { ++durable; });
  }
  ASSERT_TRUE(m->flush(20000));
  EXPECT_EQ(durable.load(), 2000);
  EXPECT_EQ(rows(), 2000);
  MeterStats st = m->stats();
  EXPECT_EQ(st.records, 2000u);
  EXPECT_LT(st.commits, 2000u) << "group commit: fewer commits than records";
}

TEST_F(MeterTest, InProgressRowsBecomeIncompleteAtTheNextStart) {
  {
    auto m = meter();
    m->begin(record("cut", 0, 0, "in_progress"));
    m->finish(record("whole", 5, 5, "stop"));
    ASSERT_TRUE(m->flush(5000));
  }
  auto m = meter();
  EXPECT_EQ(m->reconciled(), 1);
  EXPECT_EQ(rows("id = 'cut' AND outcome = 'incomplete' AND ended_at IS NOT NULL"), 1);
  EXPECT_EQ(rows("id = 'whole' AND outcome = 'stop'"), 1);
}

TEST_F(MeterTest, FailedCommitsKeepRecordsAndReportUnhealthy) {
  auto m = meter();
  // Lock the database from another connection: the meter's BEGIN IMMEDIATE times out (busy).
  auto blocker = open_sqlite({path_, 50});
  ASSERT_TRUE(blocker.ok());
  ASSERT_TRUE((*blocker)->begin().ok());
  std::atomic<bool> durable{false};
  m->finish(record("late", 1, 1, "stop"), [&](Status) { durable = true; });
  for (int i = 0; i < 200 && m->healthy(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(m->healthy());
  EXPECT_FALSE(durable.load());
  EXPECT_EQ(m->stats().queued, 1u);
  (*blocker)->rollback();
  ASSERT_TRUE(m->flush(15000));
  EXPECT_TRUE(durable.load());
  EXPECT_TRUE(m->healthy());
  EXPECT_EQ(rows("id = 'late'"), 1);
}

TEST_F(MeterTest, UsageReportTotalsEqualTheRecords) {
  auto m = meter();
  UsageRecord a = record("a", 100, 20, "stop");
  UsageRecord b = record("b", 50, 0, "rejected");
  b.status = 429;
  UsageRecord c = record("c", 10, 7, "cancelled");
  c.endpoint_name = "other";
  c.started_at += 86400000;  // the next day
  for (const auto& r : {a, b, c}) m->finish(r);
  ASSERT_TRUE(m->flush(5000));
  UsageQuery q;
  q.workspace_id = "ws-1";
  auto by_day = store_->usage_report(q, "day");
  ASSERT_TRUE(by_day.ok());
  ASSERT_EQ(by_day->size(), 2u);
  EXPECT_EQ((*by_day)[0].prompt_tokens + (*by_day)[1].prompt_tokens, 160);
  auto by_meter = store_->usage_report(q, "meter");
  ASSERT_TRUE(by_meter.ok());
  ASSERT_EQ(by_meter->size(), 3u);
  EXPECT_EQ((*by_meter)[0].meter, "input_tokens");
  EXPECT_EQ((*by_meter)[0].quantity, 160);
  EXPECT_EQ((*by_meter)[0].cost_nano_usd, 160 * 300);
  EXPECT_EQ((*by_meter)[1].meter, "output_tokens");
  EXPECT_EQ((*by_meter)[1].cost_nano_usd, 27 * 600);
  EXPECT_EQ((*by_meter)[2].meter, "fine_tuning");
  EXPECT_EQ((*by_meter)[2].cost_nano_usd, 0);
  auto by_endpoint = store_->usage_report(q, "endpoint");
  ASSERT_TRUE(by_endpoint.ok());
  ASSERT_EQ(by_endpoint->size(), 2u);
  EXPECT_EQ((*by_endpoint)[0].key, "ep");
  EXPECT_EQ((*by_endpoint)[0].requests, 2);
  auto records = store_->usage_records(q, 100);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 3u);
}

}  // namespace
}  // namespace maas
