// migrations.cc — schema versions of the control-plane database (portable SQL: SQLite now,
// PostgreSQL later; TEXT ids, INTEGER unix-millisecond times, partial unique indexes).
#include "control/migrations.h"

#include <string>
#include <vector>

namespace maas {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "platform, first slice", R"SQL(
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE principals (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  region TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  publisher TEXT NOT NULL,
  family TEXT NOT NULL,
  task TEXT NOT NULL,
  license TEXT NOT NULL,
  parameters INTEGER NOT NULL,
  context_length INTEGER NOT NULL,
  description TEXT NOT NULL,
  custom INTEGER NOT NULL,
  weights_path TEXT,
  weights_sha256 TEXT,
  weights_bytes INTEGER,
  weights_registered_at INTEGER,
  serverless_instances INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE TABLE offerings (
  id TEXT PRIMARY KEY,
  model_name TEXT NOT NULL UNIQUE REFERENCES models(name) ON DELETE CASCADE,
  publisher TEXT NOT NULL,
  offer_id TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  price_input_micro INTEGER NOT NULL,
  price_output_micro INTEGER NOT NULL,
  terms TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE marketplace_subscriptions (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  offering_id TEXT NOT NULL REFERENCES offerings(id),
  model_name TEXT NOT NULL,
  state TEXT NOT NULL,
  terms_accepted_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (workspace_id, offering_id),
  UNIQUE (workspace_id, name)
);
CREATE TABLE serverless_endpoints (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  region TEXT NOT NULL,
  model_name TEXT NOT NULL REFERENCES models(name),
  offering_id TEXT NOT NULL,
  state TEXT NOT NULL,
  failure_reason TEXT,
  primary_hash TEXT NOT NULL,
  primary_prefix TEXT NOT NULL,
  primary_nonce TEXT NOT NULL,
  secondary_hash TEXT NOT NULL,
  secondary_prefix TEXT NOT NULL,
  secondary_nonce TEXT NOT NULL,
  requests_per_minute INTEGER NOT NULL,
  tokens_per_minute INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX serverless_endpoints_region_name ON serverless_endpoints (region, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX serverless_endpoints_workspace_model ON serverless_endpoints (workspace_id, model_name) WHERE deleted_at IS NULL;
CREATE TABLE usage_records (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  endpoint_name TEXT NOT NULL,
  deployment TEXT NOT NULL,
  model_name TEXT NOT NULL,
  offering_id TEXT NOT NULL,
  key_slot TEXT NOT NULL,
  route TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  price_input_micro INTEGER NOT NULL,
  price_output_micro INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX usage_records_workspace_time ON usage_records (workspace_id, started_at);
CREATE INDEX usage_records_outcome ON usage_records (outcome);
CREATE TABLE idempotency_keys (
  principal_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (principal_id, idempotency_key)
);
)SQL"},
      {2, "access control: roles, role assignments, audit log", R"SQL(
ALTER TABLE principals ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  builtin INTEGER NOT NULL,
  actions TEXT NOT NULL,
  not_actions TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE role_assignments (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles(id),
  scope TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (principal_id, role_id, scope)
);
CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  principal_id TEXT NOT NULL,
  principal_name TEXT NOT NULL,
  action TEXT NOT NULL,
  scope TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);
)SQL"},
      {3, "managed compute: online endpoints, deployments, quotas, instance-hours", R"SQL(
CREATE TABLE online_endpoints (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  region TEXT NOT NULL,
  auth_mode TEXT NOT NULL,
  traffic TEXT NOT NULL,
  mirror_traffic TEXT NOT NULL,
  state TEXT NOT NULL,
  failure_reason TEXT,
  primary_hash TEXT NOT NULL,
  primary_prefix TEXT NOT NULL,
  primary_nonce TEXT NOT NULL,
  secondary_hash TEXT NOT NULL,
  secondary_prefix TEXT NOT NULL,
  secondary_nonce TEXT NOT NULL,
  shared_quota INTEGER NOT NULL,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX online_endpoints_region_name ON online_endpoints (region, name) WHERE deleted_at IS NULL;
CREATE TABLE online_deployments (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES online_endpoints(id),
  name TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_path TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  instance_type TEXT NOT NULL,
  instance_count INTEGER NOT NULL,
  request_timeout_ms INTEGER NOT NULL,
  max_concurrent_requests INTEGER NOT NULL,
  content_safety INTEGER NOT NULL,
  data_collection INTEGER NOT NULL,
  package_model INTEGER NOT NULL,
  state TEXT NOT NULL,
  failure_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX online_deployments_endpoint_name ON online_deployments (endpoint_id, name) WHERE deleted_at IS NULL;
CREATE TABLE quotas (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  resource TEXT NOT NULL,
  limit_value INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, resource)
);
CREATE TABLE instance_hours (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  endpoint_name TEXT NOT NULL,
  deployment_name TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  instance_type TEXT NOT NULL,
  instance_index INTEGER NOT NULL,
  price_per_hour_micro INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  stopped_at INTEGER
);
CREATE INDEX instance_hours_workspace ON instance_hours (workspace_id, started_at);
)SQL"},
      {4, "models: removal keeps the row the ledger's endpoints refer to", R"SQL(
ALTER TABLE models ADD COLUMN deleted_at INTEGER;
)SQL"},
      {5, "studio sessions", R"SQL(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
)SQL"},
  };
  return kMigrations;
}

}  // namespace

int latest_schema_version() { return migrations().back().version; }

StatusOr<int> migrate(Database& db, int64_t now_ms) {
  RETURN_IF_ERROR(db.exec_script(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(auto rows, db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  int version = static_cast<int>(rows.at(0).integer(0));
  if (version > latest_schema_version()) {
    return Status(StatusCode::kFailedPrecondition,
                  "the database has schema version " + std::to_string(version) + ", newer than this maas knows (" +
                      std::to_string(latest_schema_version()) + "): use a newer maas");
  }
  for (const Migration& m : migrations()) {
    if (m.version <= version) continue;
    Transaction tx(db);
    RETURN_IF_ERROR(tx.begin());
    RETURN_IF_ERROR(db.exec_script(m.sql).with_context("migration " + std::to_string(m.version)));
    RETURN_IF_ERROR(db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            {int64_t{m.version}, std::string(m.name), now_ms})
                        .status());
    RETURN_IF_ERROR(tx.commit());
    version = m.version;
  }
  return version;
}

}  // namespace maas
