// store.h — the control plane's persistent state: one Store over one Database connection
// (SQLite by default, in the data directory; ":memory:" for unit tests), schema migrated at open.
//
// Every method is one transaction: it either happens whole or leaves nothing (a failed create
// leaves no row behind). Uniqueness rules live in the schema (UNIQUE constraints and partial
// unique indexes), so two racing creates cannot both win; the Store turns a violation into
// kAlreadyExists with a message naming the rule. Lookups of absent things are kNotFound.
// Usage records are written by the Meter on its own connection (metering.h); the Store reads
// them for reports.
// Thread safety: all methods may be called from any thread (one mutex serialises them).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "control/database.h"
#include "control/resources.h"

namespace maas {

struct UsageQuery {
  std::string workspace_id;   // required
  int64_t since_ms = 0;       // records started at or after
  int64_t until_ms = 0;       // 0: no upper bound
  std::string endpoint_name;  // "" = all
};

// One row of a usage report; `key` is the group (a day "2026-12-04", an endpoint name, or a
// meter "<offering>/input_tokens").
struct UsageRow {
  std::string key, offering_id, meter;
  int64_t requests = 0, prompt_tokens = 0, completion_tokens = 0, quantity = 0;
  int64_t cost_nano_usd = 0;  // exact: sum(tokens * micro-USD per 1K)
};

class Store {
 public:
  // Opens and migrates. `clock` outlives the Store.
  static StatusOr<std::unique_ptr<Store>> open(std::unique_ptr<Database> db, const Clock& clock);

  // --- settings (small key/value facts: bootstrap done, domain, ...)
  StatusOr<std::optional<std::string>> setting(const std::string& key);
  Status set_setting(const std::string& key, const std::string& value);

  // --- principals and tokens
  StatusOr<Principal> create_principal(const std::string& name, const std::string& kind, bool is_admin);
  // Stores the token's digest; the raw token is the caller's to show once.
  StatusOr<ApiToken> add_token(const std::string& principal_id, const std::string& name, const std::string& token_hash,
                               const std::string& prefix, int64_t expires_at);
  // The principal owning an active (not revoked, not expired) token with this digest; records
  // the token's last use (at most once a minute).
  StatusOr<Principal> principal_by_token_hash(const std::string& token_hash);
  StatusOr<std::vector<Principal>> list_principals();
  StatusOr<Principal> principal(const std::string& name);
  StatusOr<Principal> principal_by_id(const std::string& id);
  Status delete_principal(const std::string& name);  // with its tokens and role assignments
  StatusOr<std::vector<ApiToken>> list_tokens(const std::string& principal_id);  // "" = all
  StatusOr<ApiToken> token(const std::string& id);
  Status revoke_token(const std::string& id);

  // --- roles, assignments, audit (access control)
  // Inserts or refreshes the built-in roles (their definitions are the binary's).
  Status seed_roles(const std::vector<Role>& builtin);
  StatusOr<Role> create_role(const Role& role);
  StatusOr<std::vector<Role>> list_roles();
  StatusOr<Role> role(const std::string& name);
  Status delete_role(const std::string& name);  // custom roles not assigned anywhere
  StatusOr<RoleAssignment> create_assignment(const std::string& principal_id, const std::string& role_id,
                                             const std::string& scope, const std::string& created_by);
  // principal_id "" = all; scope "" = all.
  StatusOr<std::vector<RoleAssignment>> list_assignments(const std::string& principal_id, const std::string& scope);
  Status delete_assignment(const std::string& id);
  // The role assignments of a principal with their roles (for the authorizer).
  StatusOr<std::vector<std::pair<RoleAssignment, Role>>> grants(const std::string& principal_id);
  Status append_audit(const AuditRecord& record);
  StatusOr<std::vector<AuditRecord>> audit(int64_t since_ms, const std::string& principal_name, int64_t limit);

  // --- workspaces
  StatusOr<Workspace> create_workspace(const std::string& name, const std::string& region);
  StatusOr<std::vector<Workspace>> list_workspaces();
  StatusOr<Workspace> workspace(const std::string& name);
  StatusOr<Workspace> workspace_by_id(const std::string& id);

  // --- models and offerings
  // Inserts catalog entries and their offerings that are not there yet (never overwrites what
  // an administrator changed).
  Status seed_catalog(const std::vector<Model>& models, const std::vector<Offering>& offerings);
  StatusOr<Model> add_custom_model(const Model& model, const Offering& offering);
  StatusOr<std::vector<Model>> list_models();
  StatusOr<Model> model(const std::string& name);
  Status set_model_weights(const std::string& name, const std::string& path, const std::string& sha256, int64_t bytes);
  Status clear_model_weights(const std::string& name);
  Status set_serverless_instances(const std::string& name, int32_t instances);
  // Custom models only, and only when no endpoint uses it.
  Status delete_model(const std::string& name);
  StatusOr<std::vector<Offering>> list_offerings();
  StatusOr<Offering> offering(const std::string& id);
  StatusOr<Offering> offering_for_model(const std::string& model_name);
  Status set_offering_prices(const std::string& id, int64_t input_micro, int64_t output_micro);

  // --- marketplace subscriptions
  StatusOr<Subscription> create_subscription(const std::string& workspace_id, const std::string& name,
                                             const Offering& offering);
  StatusOr<std::vector<Subscription>> list_subscriptions(const std::string& workspace_id);
  StatusOr<Subscription> subscription(const std::string& workspace_id, const std::string& name);
  StatusOr<std::optional<Subscription>> subscription_for_offering(const std::string& workspace_id,
                                                                  const std::string& offering_id);
  Status delete_subscription(const std::string& workspace_id, const std::string& name);

  // --- serverless endpoints (deleted ones are invisible)
  StatusOr<ServerlessEndpoint> create_endpoint(const ServerlessEndpoint& endpoint);
  StatusOr<std::vector<ServerlessEndpoint>> list_endpoints(const std::string& workspace_id);  // "" = all
  StatusOr<ServerlessEndpoint> endpoint(const std::string& workspace_id, const std::string& name);
  StatusOr<ServerlessEndpoint> endpoint_by_id(const std::string& id);
  Status set_endpoint_state(const std::string& id, const std::string& state, const std::string& reason);
  Status set_endpoint_limits(const std::string& id, int64_t requests_per_minute, int64_t tokens_per_minute);
  Status set_endpoint_key(const std::string& id, KeySlot slot, const EndpointKey& key);
  Status mark_endpoint_deleted(const std::string& id);
  // Key digests of deleted endpoints (deleted within the last `since_ms`).
  StatusOr<std::vector<std::string>> deleted_endpoint_key_hashes(int64_t since_ms);

  // --- managed compute: online endpoints and deployments, quotas, instance-hours
  // Endpoint names are unique per region across serverless and online endpoints (one URL space).
  StatusOr<OnlineEndpoint> create_online_endpoint(const OnlineEndpoint& endpoint);
  StatusOr<std::vector<OnlineEndpoint>> list_online_endpoints(const std::string& workspace_id);  // "" = all
  StatusOr<OnlineEndpoint> online_endpoint(const std::string& workspace_id, const std::string& name);
  StatusOr<OnlineEndpoint> online_endpoint_by_id(const std::string& id);
  Status set_online_traffic(const std::string& id, const TrafficMap& traffic, const TrafficMap& mirror);
  Status set_online_endpoint_state(const std::string& id, const std::string& state, const std::string& reason);
  Status set_online_endpoint_key(const std::string& id, KeySlot slot, const EndpointKey& key);
  Status mark_online_endpoint_deleted(const std::string& id);
  StatusOr<OnlineDeployment> create_deployment(const OnlineDeployment& deployment);
  StatusOr<std::vector<OnlineDeployment>> list_deployments(const std::string& endpoint_id);  // "" = all
  StatusOr<OnlineDeployment> deployment(const std::string& endpoint_id, const std::string& name);
  StatusOr<OnlineDeployment> deployment_by_id(const std::string& id);
  // Writes every mutable field of `deployment` (count, model, type, limits, flags, state).
  Status update_deployment(const OnlineDeployment& deployment);
  Status set_deployment_state(const std::string& id, const std::string& state, const std::string& reason);
  Status mark_deployment_deleted(const std::string& id);
  // A workspace's limit for "cores" / "gpus"; `fallback` when none was set.
  StatusOr<int64_t> quota_limit(const std::string& workspace_id, const std::string& resource, int64_t fallback);
  Status set_quota_limit(const std::string& workspace_id, const std::string& resource, int64_t limit);
  // Instance-hours: one row per instance from its allocation to its release.
  Status open_instance_hours(const std::string& workspace_id, const std::string& endpoint_name,
                             const OnlineDeployment& deployment, int index, int64_t price_per_hour_micro);
  Status close_instance_hours(const std::string& deployment_id, int from_index);  // indexes >= from_index
  Status heartbeat_instance_hours();  // last_seen_at = now for open rows
  // At start: rows left open by a previous run are closed at their last heartbeat.
  StatusOr<int64_t> close_stale_instance_hours();
  struct InstanceHoursRow {
    std::string key, instance_type;
    int64_t instance_ms = 0, cost_nano_usd = 0;
  };
  // group: "day" | "endpoint" | "meter" (meter: one row per instance type).
  StatusOr<std::vector<InstanceHoursRow>> instance_hours_report(const UsageQuery& query, const std::string& group);

  // --- usage (written by the Meter)
  StatusOr<std::vector<UsageRecord>> usage_records(const UsageQuery& query, int64_t limit);
  // group: "day" | "endpoint" | "meter".
  StatusOr<std::vector<UsageRow>> usage_report(const UsageQuery& query, const std::string& group);

  // --- idempotency (TESTPLAN K5)
  struct IdempotentResponse {
    std::string method, path, body_hash;
    int status = 0;
    std::string response;
  };
  StatusOr<std::optional<IdempotentResponse>> idempotent_response(const std::string& principal_id,
                                                                  const std::string& key);
  Status save_idempotent_response(const std::string& principal_id, const std::string& key,
                                  const IdempotentResponse& response);

  // --- studio sessions (sessions.h): kept as the digest of their secret, bound to the token
  // they were signed in with (revoking it ends them).
  struct Session {
    std::string id, principal_id, token_id;
    int64_t created_at = 0, expires_at = 0, last_seen_at = 0;
    Principal principal;
  };
  // Signs in: the active token with `token_hash` opens a session that expires after
  // `lifetime_ms` (or with the token, if sooner). kUnauthenticated for an unknown token.
  // Expired sessions of every principal are deleted on the way.
  StatusOr<Session> create_session(const std::string& token_hash, const std::string& secret_hash,
                                   int64_t lifetime_ms);
  // The live session with this digest (not expired, not idle for `idle_ms`, its token still
  // active); records the call (at most once a minute). kUnauthenticated otherwise.
  StatusOr<Session> session_by_secret_hash(const std::string& secret_hash, int64_t idle_ms);
  Status delete_session(const std::string& secret_hash);  // sign-out; absent is fine

  Database& database() { return *db_; }  // tests
  int64_t now_ms() const { return clock_.now_unix_ms(); }

 private:
  Store(std::unique_ptr<Database> db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}
  // Runs fn inside one transaction under the mutex; rolls back if fn or the commit fails.
  template <typename Fn>
  auto in_transaction(Fn&& fn) -> decltype(fn());

  std::mutex mu_;
  std::unique_ptr<Database> db_;  // guarded by mu_
  const Clock& clock_;
};

std::string new_id(const char* prefix);  // prefix + 24 random hex characters

}  // namespace maas
