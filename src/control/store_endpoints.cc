// store_endpoints.cc — marketplace subscriptions and serverless endpoints.
#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

using store_internal::opt;

constexpr const char* kSubscriptionColumns =
    "SELECT id, workspace_id, name, offering_id, model_name, state, terms_accepted_at, created_at "
    "FROM marketplace_subscriptions";

Subscription subscription_from(const SqlRow& r) {
  return Subscription{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.integer(6), r.integer(7)};
}

constexpr const char* kEndpointColumns =
    "SELECT id, workspace_id, name, region, model_name, offering_id, state, failure_reason, primary_hash, "
    "primary_prefix, primary_nonce, secondary_hash, secondary_prefix, secondary_nonce, requests_per_minute, "
    "tokens_per_minute, created_at, updated_at FROM serverless_endpoints";

ServerlessEndpoint endpoint_from(const SqlRow& r) {
  ServerlessEndpoint e;
  e.id = r.text(0);
  e.workspace_id = r.text(1);
  e.name = r.text(2);
  e.region = r.text(3);
  e.model_name = r.text(4);
  e.offering_id = r.text(5);
  e.state = r.text(6);
  e.failure_reason = r.text(7);
  e.primary = EndpointKey{r.text(8), r.text(9), r.text(10)};
  e.secondary = EndpointKey{r.text(11), r.text(12), r.text(13)};
  e.requests_per_minute = r.integer(14);
  e.tokens_per_minute = r.integer(15);
  e.created_at = r.integer(16);
  e.updated_at = r.integer(17);
  return e;
}

}  // namespace

// ---- marketplace subscriptions -----------------------------------------------------------

StatusOr<Subscription> Store::create_subscription(const std::string& workspace_id, const std::string& name,
                                                  const Offering& offering) {
  const int64_t now = now_ms();
  Subscription s{new_id("sub-"), workspace_id, name, offering.id, offering.model_name, "Succeeded", now, now};
  return in_transaction([&]() -> StatusOr<Subscription> {
    ASSIGN_OR_RETURN(auto existing, db_->query(std::string(kSubscriptionColumns) +
                                                   " WHERE workspace_id = ? AND offering_id = ?",
                                               {workspace_id, offering.id}));
    if (!existing.empty()) {
      return already_exists("this workspace already has marketplace subscription '" + existing[0].text(2) +
                            "' to offering '" + offering.id + "'");
    }
    auto r = db_->exec("INSERT INTO marketplace_subscriptions (id, workspace_id, name, offering_id, model_name, state, "
                       "terms_accepted_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       {s.id, s.workspace_id, s.name, s.offering_id, s.model_name, s.state, s.terms_accepted_at,
                        s.created_at});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a marketplace subscription named '" + name + "' already exists in this workspace");
    }
    RETURN_IF_ERROR(r.status());
    return s;
  });
}

StatusOr<std::vector<Subscription>> Store::list_subscriptions(const std::string& workspace_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kSubscriptionColumns) + " WHERE workspace_id = ? ORDER BY name",
                                         {workspace_id}));
  std::vector<Subscription> out;
  for (const SqlRow& r : rows) out.push_back(subscription_from(r));
  return out;
}

StatusOr<Subscription> Store::subscription(const std::string& workspace_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kSubscriptionColumns) + " WHERE workspace_id = ? AND name = ?",
                                         {workspace_id, name}));
  if (rows.empty()) return not_found("marketplace subscription '" + name + "' not found");
  return subscription_from(rows[0]);
}

StatusOr<std::optional<Subscription>> Store::subscription_for_offering(const std::string& workspace_id,
                                                                       const std::string& offering_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kSubscriptionColumns) +
                                             " WHERE workspace_id = ? AND offering_id = ?",
                                         {workspace_id, offering_id}));
  if (rows.empty()) return std::optional<Subscription>();
  return std::optional<Subscription>(subscription_from(rows[0]));
}

Status Store::delete_subscription(const std::string& workspace_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("DELETE FROM marketplace_subscriptions WHERE workspace_id = ? AND name = ?",
                                        {workspace_id, name}));
  if (n == 0) return not_found("marketplace subscription '" + name + "' not found");
  return Status::Ok();
}

// ---- serverless endpoints ----------------------------------------------------------------

StatusOr<ServerlessEndpoint> Store::create_endpoint(const ServerlessEndpoint& e) {
  return in_transaction([&]() -> StatusOr<ServerlessEndpoint> {
    ASSIGN_OR_RETURN(auto by_name, db_->query("SELECT 1 FROM serverless_endpoints WHERE region = ? AND name = ? AND "
                                              "deleted_at IS NULL UNION ALL SELECT 1 FROM online_endpoints WHERE "
                                              "region = ? AND name = ? AND deleted_at IS NULL",
                                              {e.region, e.name, e.region, e.name}));
    if (!by_name.empty()) {
      return already_exists("a serverless endpoint named '" + e.name + "' already exists in region '" + e.region + "'");
    }
    ASSIGN_OR_RETURN(auto by_model, db_->query("SELECT name FROM serverless_endpoints WHERE workspace_id = ? AND "
                                               "model_name = ? AND deleted_at IS NULL", {e.workspace_id, e.model_name}));
    if (!by_model.empty()) {
      return already_exists("this workspace already has serverless endpoint '" + by_model[0].text(0) + "' for model '" +
                            e.model_name + "' (one serverless deployment per model per workspace)");
    }
    auto r = db_->exec("INSERT INTO serverless_endpoints (id, workspace_id, name, region, model_name, offering_id, "
                       "state, failure_reason, primary_hash, primary_prefix, primary_nonce, secondary_hash, "
                       "secondary_prefix, secondary_nonce, requests_per_minute, tokens_per_minute, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {e.id, e.workspace_id, e.name, e.region, e.model_name, e.offering_id, e.state,
                        opt(e.failure_reason), e.primary.hash, e.primary.prefix, e.primary.nonce, e.secondary.hash,
                        e.secondary.prefix, e.secondary.nonce, e.requests_per_minute, e.tokens_per_minute,
                        e.created_at, e.updated_at});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a serverless endpoint named '" + e.name + "' already exists in region '" + e.region + "'");
    }
    RETURN_IF_ERROR(r.status());
    return e;
  });
}

StatusOr<std::vector<ServerlessEndpoint>> Store::list_endpoints(const std::string& workspace_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string(kEndpointColumns) + " WHERE deleted_at IS NULL";
  std::vector<SqlValue> params;
  if (!workspace_id.empty()) {
    sql += " AND workspace_id = ?";
    params.push_back(workspace_id);
  }
  ASSIGN_OR_RETURN(auto rows, db_->query(sql + " ORDER BY name", params));
  std::vector<ServerlessEndpoint> out;
  for (const SqlRow& r : rows) out.push_back(endpoint_from(r));
  return out;
}

StatusOr<ServerlessEndpoint> Store::endpoint(const std::string& workspace_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kEndpointColumns) +
                                             " WHERE workspace_id = ? AND name = ? AND deleted_at IS NULL",
                                         {workspace_id, name}));
  if (rows.empty()) return not_found("serverless endpoint '" + name + "' not found");
  return endpoint_from(rows[0]);
}

StatusOr<ServerlessEndpoint> Store::endpoint_by_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kEndpointColumns) + " WHERE id = ? AND deleted_at IS NULL", {id}));
  if (rows.empty()) return not_found("serverless endpoint not found");
  return endpoint_from(rows[0]);
}

Status Store::set_endpoint_state(const std::string& id, const std::string& state, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE serverless_endpoints SET state = ?, failure_reason = ?, updated_at = ? "
                                        "WHERE id = ? AND deleted_at IS NULL",
                                        {state, opt(reason), now_ms(), id}));
  if (n == 0) return not_found("serverless endpoint not found");
  return Status::Ok();
}

Status Store::set_endpoint_limits(const std::string& id, int64_t rpm, int64_t tpm) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE serverless_endpoints SET requests_per_minute = ?, tokens_per_minute = ?, "
                                        "updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                                        {rpm, tpm, now_ms(), id}));
  if (n == 0) return not_found("serverless endpoint not found");
  return Status::Ok();
}

Status Store::set_endpoint_key(const std::string& id, KeySlot slot, const EndpointKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string s = key_slot_name(slot);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE serverless_endpoints SET " + s + "_hash = ?, " + s + "_prefix = ?, " + s +
                                            "_nonce = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                                        {key.hash, key.prefix, key.nonce, now_ms(), id}));
  if (n == 0) return not_found("serverless endpoint not found");
  return Status::Ok();
}

Status Store::mark_endpoint_deleted(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE serverless_endpoints SET deleted_at = ?, state = 'Deleted', "
                                        "updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                                        {now_ms(), now_ms(), id}));
  if (n == 0) return not_found("serverless endpoint not found");
  return Status::Ok();
}

StatusOr<std::vector<std::string>> Store::deleted_endpoint_key_hashes(int64_t since_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT primary_hash, secondary_hash FROM serverless_endpoints WHERE "
                                         "deleted_at IS NOT NULL AND deleted_at >= ? UNION ALL SELECT primary_hash, "
                                         "secondary_hash FROM online_endpoints WHERE deleted_at IS NOT NULL AND "
                                         "deleted_at >= ?",
                                         {since_ms, since_ms}));
  std::vector<std::string> out;
  for (const SqlRow& r : rows) {
    out.push_back(r.text(0));
    out.push_back(r.text(1));
  }
  return out;
}

}  // namespace maas
