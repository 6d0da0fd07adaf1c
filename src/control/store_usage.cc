// store_usage.cc — reading usage records and the cost reports built from them (by day, by
// endpoint, by meter). Sums are done in SQL over integers, so report totals equal the sum of
// the records exactly.
#include <cstdio>
#include <ctime>

#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

constexpr const char* kRecordColumns =
    "SELECT id, request_id, workspace_id, endpoint_id, endpoint_name, deployment, model_name, offering_id, key_slot, "
    "route, prompt_tokens, completion_tokens, status, outcome, price_input_micro, price_output_micro, started_at, "
    "ended_at FROM usage_records";

UsageRecord record_from(const SqlRow& r) {
  UsageRecord u;
  u.id = r.text(0);
  u.request_id = r.text(1);
  u.workspace_id = r.text(2);
  u.endpoint_id = r.text(3);
  u.endpoint_name = r.text(4);
  u.deployment = r.text(5);
  u.model_name = r.text(6);
  u.offering_id = r.text(7);
  u.key_slot = r.text(8);
  u.route = r.text(9);
  u.prompt_tokens = r.integer(10);
  u.completion_tokens = r.integer(11);
  u.status = static_cast<int>(r.integer(12));
  u.outcome = r.text(13);
  u.price_input_micro = r.integer(14);
  u.price_output_micro = r.integer(15);
  u.started_at = r.integer(16);
  u.ended_at = r.integer(17);
  return u;
}

// " WHERE ..." for the query, with its parameters.
std::string where(const UsageQuery& q, std::vector<SqlValue>* params) {
  std::string w = " WHERE workspace_id = ? AND started_at >= ?";
  params->push_back(q.workspace_id);
  params->push_back(q.since_ms);
  if (q.until_ms > 0) {
    w += " AND started_at < ?";
    params->push_back(q.until_ms);
  }
  if (!q.endpoint_name.empty()) {
    w += " AND endpoint_name = ?";
    params->push_back(q.endpoint_name);
  }
  return w;
}

std::string day_string(int64_t day) {
  std::time_t t = static_cast<std::time_t>(day * 86400);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

StatusOr<std::vector<UsageRecord>> Store::usage_records(const UsageQuery& query, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SqlValue> params;
  std::string sql = std::string(kRecordColumns) + where(query, &params) + " ORDER BY started_at, id LIMIT ?";
  params.push_back(limit);
  ASSIGN_OR_RETURN(auto rows, db_->query(sql, params));
  std::vector<UsageRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(record_from(r));
  return out;
}

StatusOr<std::vector<UsageRow>> Store::usage_report(const UsageQuery& query, const std::string& group) {
  std::string key;
  if (group == "day") key = "started_at / 86400000";
  else if (group == "endpoint") key = "endpoint_name";
  else if (group == "meter") key = "offering_id";
  else return invalid_argument("group must be day, endpoint or meter");
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SqlValue> params;
  const std::string sql = "SELECT " + key + ", COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), "
                          "SUM(prompt_tokens * price_input_micro), SUM(completion_tokens * price_output_micro) "
                          "FROM usage_records" + where(query, &params) + " GROUP BY " + key + " ORDER BY " + key;
  ASSIGN_OR_RETURN(auto rows, db_->query(sql, params));
  std::vector<UsageRow> out;
  for (const SqlRow& r : rows) {
    UsageRow row;
    row.key = group == "day" ? day_string(r.integer(0)) : r.text(0);
    row.requests = r.integer(1);
    row.prompt_tokens = r.integer(2);
    row.completion_tokens = r.integer(3);
    if (group != "meter") {
      row.cost_nano_usd = r.integer(4) + r.integer(5);
      out.push_back(row);
      continue;
    }
    // One row per meter of the (workspace, offering) cost record.
    row.offering_id = row.key;
    UsageRow in = row, outp = row, tune = row;
    in.meter = "input_tokens";
    in.quantity = row.prompt_tokens;
    in.cost_nano_usd = r.integer(4);
    outp.meter = "output_tokens";
    outp.quantity = row.completion_tokens;
    outp.cost_nano_usd = r.integer(5);
    tune.meter = "fine_tuning";  // reserved: always 0
    tune.quantity = 0;
    tune.cost_nano_usd = 0;
    for (UsageRow* m : {&in, &outp, &tune}) {
      m->key = row.offering_id + "/" + m->meter;
      out.push_back(*m);
    }
  }
  return out;
}

}  // namespace maas
