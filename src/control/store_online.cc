// store_online.cc — managed compute: online endpoints, their deployments, workspace quotas and
// instance-hours.
#include <nlohmann/json.hpp>

#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

using store_internal::opt;

std::string traffic_json(const TrafficMap& t) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, pct] : t) j[name] = pct;
  return j.dump();
}

TrafficMap traffic_from(const std::string& s) {
  TrafficMap out;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(s, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number_integer()) out.emplace_back(it.key(), it.value().get<int>());
  }
  return out;
}

constexpr const char* kEndpointColumns =
    "SELECT id, workspace_id, name, region, auth_mode, traffic, mirror_traffic, state, failure_reason, primary_hash, "
    "primary_prefix, primary_nonce, secondary_hash, secondary_prefix, secondary_nonce, shared_quota, expires_at, "
    "created_at, updated_at FROM online_endpoints";

OnlineEndpoint endpoint_from(const SqlRow& r) {
  OnlineEndpoint e;
  e.id = r.text(0);
  e.workspace_id = r.text(1);
  e.name = r.text(2);
  e.region = r.text(3);
  e.auth_mode = r.text(4);
  e.traffic = traffic_from(r.text(5));
  e.mirror_traffic = traffic_from(r.text(6));
  e.state = r.text(7);
  e.failure_reason = r.text(8);
  e.primary = EndpointKey{r.text(9), r.text(10), r.text(11)};
  e.secondary = EndpointKey{r.text(12), r.text(13), r.text(14)};
  e.shared_quota = r.integer(15) != 0;
  e.expires_at = r.integer(16);
  e.created_at = r.integer(17);
  e.updated_at = r.integer(18);
  return e;
}

constexpr const char* kDeploymentColumns =
    "SELECT id, endpoint_id, name, model_name, model_path, model_sha256, instance_type, instance_count, "
    "request_timeout_ms, max_concurrent_requests, content_safety, data_collection, package_model, state, "
    "failure_reason, created_at, updated_at FROM online_deployments";

OnlineDeployment deployment_from(const SqlRow& r) {
  OnlineDeployment d;
  d.id = r.text(0);
  d.endpoint_id = r.text(1);
  d.name = r.text(2);
  d.model_name = r.text(3);
  d.model_path = r.text(4);
  d.model_sha256 = r.text(5);
  d.instance_type = r.text(6);
  d.instance_count = static_cast<int>(r.integer(7));
  d.request_timeout_ms = static_cast<int>(r.integer(8));
  d.max_concurrent_requests = static_cast<int>(r.integer(9));
  d.content_safety = r.integer(10) != 0;
  d.data_collection = r.integer(11) != 0;
  d.package_model = r.integer(12) != 0;
  d.state = r.text(13);
  d.failure_reason = r.text(14);
  d.created_at = r.integer(15);
  d.updated_at = r.integer(16);
  return d;
}

}  // namespace

// ---- online endpoints --------------------------------------------------------------------

StatusOr<OnlineEndpoint> Store::create_online_endpoint(const OnlineEndpoint& e) {
  return in_transaction([&]() -> StatusOr<OnlineEndpoint> {
    for (const char* table : {"serverless_endpoints", "online_endpoints"}) {
      ASSIGN_OR_RETURN(auto taken, db_->query(std::string("SELECT 1 FROM ") + table +
                                                  " WHERE region = ? AND name = ? AND deleted_at IS NULL",
                                              {e.region, e.name}));
      if (!taken.empty()) {
        return already_exists("an endpoint named '" + e.name + "' already exists in region '" + e.region + "'");
      }
    }
    RETURN_IF_ERROR(db_->exec("INSERT INTO online_endpoints (id, workspace_id, name, region, auth_mode, traffic, "
                              "mirror_traffic, state, failure_reason, primary_hash, primary_prefix, primary_nonce, "
                              "secondary_hash, secondary_prefix, secondary_nonce, shared_quota, expires_at, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              {e.id, e.workspace_id, e.name, e.region, e.auth_mode, traffic_json(e.traffic),
                               traffic_json(e.mirror_traffic), e.state, opt(e.failure_reason), e.primary.hash,
                               e.primary.prefix, e.primary.nonce, e.secondary.hash, e.secondary.prefix,
                               e.secondary.nonce, int64_t{e.shared_quota ? 1 : 0}, opt(e.expires_at), e.created_at,
                               e.updated_at})
                        .status());
    return e;
  });
}

StatusOr<std::vector<OnlineEndpoint>> Store::list_online_endpoints(const std::string& workspace_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string(kEndpointColumns) + " WHERE deleted_at IS NULL";
  std::vector<SqlValue> params;
  if (!workspace_id.empty()) {
    sql += " AND workspace_id = ?";
    params.push_back(workspace_id);
  }
  ASSIGN_OR_RETURN(auto rows, db_->query(sql + " ORDER BY name", params));
  std::vector<OnlineEndpoint> out;
  for (const SqlRow& r : rows) out.push_back(endpoint_from(r));
  return out;
}

StatusOr<OnlineEndpoint> Store::online_endpoint(const std::string& workspace_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kEndpointColumns) +
                                             " WHERE workspace_id = ? AND name = ? AND deleted_at IS NULL",
                                         {workspace_id, name}));
  if (rows.empty()) return not_found("online endpoint '" + name + "' not found");
  return endpoint_from(rows[0]);
}

StatusOr<OnlineEndpoint> Store::online_endpoint_by_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kEndpointColumns) + " WHERE id = ? AND deleted_at IS NULL", {id}));
  if (rows.empty()) return not_found("online endpoint not found");
  return endpoint_from(rows[0]);
}

Status Store::set_online_traffic(const std::string& id, const TrafficMap& traffic, const TrafficMap& mirror) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_endpoints SET traffic = ?, mirror_traffic = ?, updated_at = ? "
                                        "WHERE id = ? AND deleted_at IS NULL",
                                        {traffic_json(traffic), traffic_json(mirror), now_ms(), id}));
  if (n == 0) return not_found("online endpoint not found");
  return Status::Ok();
}

Status Store::set_online_endpoint_state(const std::string& id, const std::string& state, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_endpoints SET state = ?, failure_reason = ?, updated_at = ? "
                                        "WHERE id = ? AND deleted_at IS NULL",
                                        {state, opt(reason), now_ms(), id}));
  if (n == 0) return not_found("online endpoint not found");
  return Status::Ok();
}

Status Store::set_online_endpoint_key(const std::string& id, KeySlot slot, const EndpointKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string s = key_slot_name(slot);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_endpoints SET " + s + "_hash = ?, " + s + "_prefix = ?, " + s +
                                            "_nonce = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                                        {key.hash, key.prefix, key.nonce, now_ms(), id}));
  if (n == 0) return not_found("online endpoint not found");
  return Status::Ok();
}

Status Store::mark_online_endpoint_deleted(const std::string& id) {
  return in_transaction([&]() -> StatusOr<int> {
           ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_endpoints SET deleted_at = ?, state = 'Deleted' WHERE "
                                                 "id = ? AND deleted_at IS NULL",
                                                 {now_ms(), id}));
           if (n == 0) return not_found("online endpoint not found");
           RETURN_IF_ERROR(db_->exec("UPDATE online_deployments SET deleted_at = ? WHERE endpoint_id = ? AND "
                                     "deleted_at IS NULL",
                                     {now_ms(), id})
                               .status());
           return 0;
         })
      .status();
}

// ---- deployments -------------------------------------------------------------------------

StatusOr<OnlineDeployment> Store::create_deployment(const OnlineDeployment& d) {
  return in_transaction([&]() -> StatusOr<OnlineDeployment> {
    auto r = db_->exec("INSERT INTO online_deployments (id, endpoint_id, name, model_name, model_path, model_sha256, "
                       "instance_type, instance_count, request_timeout_ms, max_concurrent_requests, content_safety, "
                       "data_collection, package_model, state, failure_reason, created_at, updated_at) VALUES (?, ?, "
                       "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {d.id, d.endpoint_id, d.name, d.model_name, d.model_path, d.model_sha256, d.instance_type,
                        int64_t{d.instance_count}, int64_t{d.request_timeout_ms}, int64_t{d.max_concurrent_requests},
                        int64_t{d.content_safety ? 1 : 0}, int64_t{d.data_collection ? 1 : 0},
                        int64_t{d.package_model ? 1 : 0}, d.state, opt(d.failure_reason), d.created_at, d.updated_at});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("the endpoint already has a deployment named '" + d.name + "'");
    }
    RETURN_IF_ERROR(r.status());
    return d;
  });
}

StatusOr<std::vector<OnlineDeployment>> Store::list_deployments(const std::string& endpoint_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string(kDeploymentColumns) + " WHERE deleted_at IS NULL";
  std::vector<SqlValue> params;
  if (!endpoint_id.empty()) {
    sql += " AND endpoint_id = ?";
    params.push_back(endpoint_id);
  }
  ASSIGN_OR_RETURN(auto rows, db_->query(sql + " ORDER BY name", params));
  std::vector<OnlineDeployment> out;
  for (const SqlRow& r : rows) out.push_back(deployment_from(r));
  return out;
}

StatusOr<OnlineDeployment> Store::deployment(const std::string& endpoint_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kDeploymentColumns) +
                                             " WHERE endpoint_id = ? AND name = ? AND deleted_at IS NULL",
                                         {endpoint_id, name}));
  if (rows.empty()) return not_found("deployment '" + name + "' not found");
  return deployment_from(rows[0]);
}

StatusOr<OnlineDeployment> Store::deployment_by_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kDeploymentColumns) + " WHERE id = ? AND deleted_at IS NULL", {id}));
  if (rows.empty()) return not_found("deployment not found");
  return deployment_from(rows[0]);
}

Status Store::update_deployment(const OnlineDeployment& d) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_deployments SET model_name = ?, model_path = ?, model_sha256 = ?, "
                                        "instance_type = ?, instance_count = ?, request_timeout_ms = ?, "
                                        "max_concurrent_requests = ?, content_safety = ?, data_collection = ?, "
                                        "package_model = ?, state = ?, failure_reason = ?, updated_at = ? WHERE id = ? "
                                        "AND deleted_at IS NULL",
                                        {d.model_name, d.model_path, d.model_sha256, d.instance_type,
                                         int64_t{d.instance_count}, int64_t{d.request_timeout_ms},
                                         int64_t{d.max_concurrent_requests}, int64_t{d.content_safety ? 1 : 0},
                                         int64_t{d.data_collection ? 1 : 0}, int64_t{d.package_model ? 1 : 0}, d.state,
                                         opt(d.failure_reason), now_ms(), d.id}));
  if (n == 0) return not_found("deployment not found");
  return Status::Ok();
}

Status Store::set_deployment_state(const std::string& id, const std::string& state, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_deployments SET state = ?, failure_reason = ?, updated_at = ? "
                                        "WHERE id = ? AND deleted_at IS NULL",
                                        {state, opt(reason), now_ms(), id}));
  if (n == 0) return not_found("deployment not found");
  return Status::Ok();
}

Status Store::mark_deployment_deleted(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE online_deployments SET deleted_at = ?, state = 'Deleted' WHERE id = ? "
                                        "AND deleted_at IS NULL",
                                        {now_ms(), id}));
  if (n == 0) return not_found("deployment not found");
  return Status::Ok();
}

// ---- quotas ------------------------------------------------------------------------------

StatusOr<int64_t> Store::quota_limit(const std::string& workspace_id, const std::string& resource, int64_t fallback) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT limit_value FROM quotas WHERE workspace_id = ? AND resource = ?",
                                         {workspace_id, resource}));
  return rows.empty() ? fallback : rows[0].integer(0);
}

Status Store::set_quota_limit(const std::string& workspace_id, const std::string& resource, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("INSERT INTO quotas (workspace_id, resource, limit_value) VALUES (?, ?, ?) ON CONFLICT "
                   "(workspace_id, resource) DO UPDATE SET limit_value = excluded.limit_value",
                   {workspace_id, resource, limit})
      .status();
}

// ---- instance-hours ----------------------------------------------------------------------

Status Store::open_instance_hours(const std::string& workspace_id, const std::string& endpoint_name,
                                  const OnlineDeployment& d, int index, int64_t price_per_hour_micro) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ms();
  return db_->exec("INSERT INTO instance_hours (id, workspace_id, endpoint_name, deployment_name, deployment_id, "
                   "instance_type, instance_index, price_per_hour_micro, started_at, last_seen_at) VALUES (?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?)",
                   {new_id("ih-"), workspace_id, endpoint_name, d.name, d.id, d.instance_type, int64_t{index},
                    price_per_hour_micro, now, now})
      .status();
}

Status Store::close_instance_hours(const std::string& deployment_id, int from_index) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ms();
  return db_->exec("UPDATE instance_hours SET stopped_at = ?, last_seen_at = ? WHERE deployment_id = ? AND "
                   "instance_index >= ? AND stopped_at IS NULL",
                   {now, now, deployment_id, int64_t{from_index}})
      .status();
}

Status Store::heartbeat_instance_hours() {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("UPDATE instance_hours SET last_seen_at = ? WHERE stopped_at IS NULL", {now_ms()}).status();
}

StatusOr<int64_t> Store::close_stale_instance_hours() {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("UPDATE instance_hours SET stopped_at = last_seen_at WHERE stopped_at IS NULL");
}

StatusOr<std::vector<Store::InstanceHoursRow>> Store::instance_hours_report(const UsageQuery& q,
                                                                             const std::string& group) {
  std::string key;
  if (group == "day") key = "started_at / 86400000";
  else if (group == "endpoint") key = "endpoint_name";
  else key = "instance_type";
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ms();
  // An open row counts up to now; a row is attributed to the day (or endpoint) it started in.
  std::string sql = "SELECT " + key + ", instance_type, SUM(COALESCE(stopped_at, ?) - started_at), "
                    "SUM((COALESCE(stopped_at, ?) - started_at) * price_per_hour_micro) FROM instance_hours WHERE "
                    "workspace_id = ? AND started_at >= ?";
  std::vector<SqlValue> params = {now, now, q.workspace_id, q.since_ms};
  if (q.until_ms > 0) {
    sql += " AND started_at < ?";
    params.push_back(q.until_ms);
  }
  if (!q.endpoint_name.empty()) {
    sql += " AND endpoint_name = ?";
    params.push_back(q.endpoint_name);
  }
  sql += " GROUP BY " + key + ", instance_type ORDER BY " + key + ", instance_type";
  ASSIGN_OR_RETURN(auto rows, db_->query(sql, params));
  std::vector<InstanceHoursRow> out;
  for (const SqlRow& r : rows) {
    // ms * micro-USD/hour / 3600000 ms/hour * 1000 nano/micro = ms * price / 3600.
    out.push_back(InstanceHoursRow{r.text(0), r.text(1), r.integer(2), r.integer(3) / 3600});
  }
  return out;
}

}  // namespace maas
