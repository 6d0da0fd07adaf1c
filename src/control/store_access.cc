// store_access.cc — principals and their tokens, roles, role assignments, the audit log.
#include <nlohmann/json.hpp>

#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

using store_internal::opt;

constexpr const char* kPrincipalColumns = "SELECT id, name, kind, is_admin, created_at, description FROM principals";

Principal principal_from(const SqlRow& r) {
  return Principal{r.text(0), r.text(1), r.text(2), r.integer(3) != 0, r.integer(4), r.text(5)};
}

constexpr const char* kTokenColumns =
    "SELECT t.id, t.principal_id, t.name, p.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
    "FROM tokens t JOIN principals p ON p.id = t.principal_id";

ApiToken token_from(const SqlRow& r) {
  ApiToken t;
  t.id = r.text(0);
  t.principal_id = r.text(1);
  t.name = r.text(2);
  t.principal_name = r.text(3);
  t.prefix = r.text(4);
  t.created_at = r.integer(5);
  t.expires_at = r.integer(6);
  t.last_used_at = r.integer(7);
  t.revoked_at = r.integer(8);
  return t;
}

std::string to_json(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

std::vector<std::string> from_json(const std::string& s) {
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& x : j) {
    if (x.is_string()) out.push_back(x.get<std::string>());
  }
  return out;
}

constexpr const char* kRoleColumns = "SELECT id, name, description, builtin, actions, not_actions, created_at FROM roles";

Role role_from(const SqlRow& r) {
  return Role{r.text(0), r.text(1), r.text(2), r.integer(3) != 0, from_json(r.text(4)), from_json(r.text(5)),
              r.integer(6)};
}

constexpr const char* kAssignmentColumns =
    "SELECT a.id, a.principal_id, p.name, a.role_id, r.name, a.scope, a.created_by, a.created_at FROM role_assignments a "
    "JOIN principals p ON p.id = a.principal_id JOIN roles r ON r.id = a.role_id";

RoleAssignment assignment_from(const SqlRow& r) {
  return RoleAssignment{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.integer(7)};
}

}  // namespace

// ---- principals and tokens ---------------------------------------------------------------

StatusOr<Principal> Store::principal_by_token_hash(const std::string& token_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ms();
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT p.id, p.name, p.kind, p.is_admin, p.created_at, p.description, t.id, "
                                         "t.last_used_at FROM tokens t JOIN principals p ON p.id = t.principal_id "
                                         "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR "
                                         "t.expires_at > ?)",
                                         {token_hash, now}));
  if (rows.empty()) return unauthenticated("invalid or expired token");
  const SqlRow& r = rows[0];
  if (now - r.integer(7) > 60000) {  // last use, coarsely: one write a minute per token at most
    (void)db_->exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", {now, r.text(6)});
  }
  return principal_from(r);
}

StatusOr<std::vector<Principal>> Store::list_principals() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kPrincipalColumns) + " ORDER BY name"));
  std::vector<Principal> out;
  for (const SqlRow& r : rows) out.push_back(principal_from(r));
  return out;
}

StatusOr<Principal> Store::principal(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kPrincipalColumns) + " WHERE name = ?", {name}));
  if (rows.empty()) return not_found("principal '" + name + "' not found");
  return principal_from(rows[0]);
}

StatusOr<Principal> Store::principal_by_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kPrincipalColumns) + " WHERE id = ?", {id}));
  if (rows.empty()) return not_found("principal not found");
  return principal_from(rows[0]);
}

Status Store::delete_principal(const std::string& name) {
  return in_transaction([&]() -> StatusOr<int> {
           ASSIGN_OR_RETURN(auto rows, db_->query("SELECT id FROM principals WHERE name = ?", {name}));
           if (rows.empty()) return not_found("principal '" + name + "' not found");
           const std::string id = rows[0].text(0);
           RETURN_IF_ERROR(db_->exec("DELETE FROM role_assignments WHERE principal_id = ?", {id}).status());
           RETURN_IF_ERROR(db_->exec("DELETE FROM tokens WHERE principal_id = ?", {id}).status());
           RETURN_IF_ERROR(db_->exec("DELETE FROM principals WHERE id = ?", {id}).status());
           return 0;
         })
      .status();
}

StatusOr<std::vector<ApiToken>> Store::list_tokens(const std::string& principal_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = kTokenColumns;
  std::vector<SqlValue> params;
  if (!principal_id.empty()) {
    sql += " WHERE t.principal_id = ?";
    params.push_back(principal_id);
  }
  ASSIGN_OR_RETURN(auto rows, db_->query(sql + " ORDER BY t.created_at, t.id", params));
  std::vector<ApiToken> out;
  for (const SqlRow& r : rows) out.push_back(token_from(r));
  return out;
}

StatusOr<ApiToken> Store::token(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kTokenColumns) + " WHERE t.id = ?", {id}));
  if (rows.empty()) return not_found("token '" + id + "' not found");
  return token_from(rows[0]);
}

Status Store::revoke_token(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                        {now_ms(), id}));
  if (n == 0) return not_found("token '" + id + "' not found or already revoked");
  return Status::Ok();
}

// ---- roles and assignments ---------------------------------------------------------------

Status Store::seed_roles(const std::vector<Role>& builtin) {
  return in_transaction([&]() -> StatusOr<int> {
           for (const Role& r : builtin) {
             RETURN_IF_ERROR(db_->exec("INSERT INTO roles (id, name, description, builtin, actions, not_actions, "
                                       "created_at) VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                       "name = excluded.name, description = excluded.description, actions = "
                                       "excluded.actions, not_actions = excluded.not_actions",
                                       {r.id, r.name, r.description, to_json(r.actions), to_json(r.not_actions),
                                        now_ms()})
                                 .status());
           }
           // The bootstrap administrator holds Owner on everything.
           RETURN_IF_ERROR(db_->exec("INSERT INTO role_assignments (id, principal_id, role_id, scope, created_by, "
                                     "created_at) SELECT 'ra-admin-' || p.id, p.id, 'role-owner', '/', 'bootstrap', ? "
                                     "FROM principals p WHERE p.is_admin = 1 AND NOT EXISTS (SELECT 1 FROM "
                                     "role_assignments a WHERE a.principal_id = p.id AND a.role_id = 'role-owner' AND "
                                     "a.scope = '/')",
                                     {now_ms()})
                               .status());
           return 0;
         })
      .status();
}

StatusOr<Role> Store::create_role(const Role& role) {
  Role r = role;
  r.id = new_id("role-");
  r.builtin = false;
  r.created_at = now_ms();
  return in_transaction([&]() -> StatusOr<Role> {
    auto x = db_->exec("INSERT INTO roles (id, name, description, builtin, actions, not_actions, created_at) VALUES "
                       "(?, ?, ?, 0, ?, ?, ?)",
                       {r.id, r.name, r.description, to_json(r.actions), to_json(r.not_actions), r.created_at});
    if (!x.ok() && x.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a role named '" + r.name + "' already exists");
    }
    RETURN_IF_ERROR(x.status());
    return r;
  });
}

StatusOr<std::vector<Role>> Store::list_roles() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kRoleColumns) + " ORDER BY builtin DESC, name"));
  std::vector<Role> out;
  for (const SqlRow& r : rows) out.push_back(role_from(r));
  return out;
}

StatusOr<Role> Store::role(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kRoleColumns) + " WHERE name = ? OR id = ?", {name, name}));
  if (rows.empty()) return not_found("role '" + name + "' not found");
  return role_from(rows[0]);
}

Status Store::delete_role(const std::string& name) {
  return in_transaction([&]() -> StatusOr<int> {
           ASSIGN_OR_RETURN(auto rows, db_->query("SELECT id, builtin FROM roles WHERE name = ?", {name}));
           if (rows.empty()) return not_found("role '" + name + "' not found");
           if (rows[0].integer(1) != 0) return failed_precondition("'" + name + "' is a built-in role");
           ASSIGN_OR_RETURN(auto used, db_->query("SELECT COUNT(*) FROM role_assignments WHERE role_id = ?",
                                                  {rows[0].text(0)}));
           if (used[0].integer(0) > 0) {
             return failed_precondition("role '" + name + "' is assigned " + std::to_string(used[0].integer(0)) +
                                        " time(s); delete its role assignments first");
           }
           RETURN_IF_ERROR(db_->exec("DELETE FROM roles WHERE id = ?", {rows[0].text(0)}).status());
           return 0;
         })
      .status();
}

StatusOr<RoleAssignment> Store::create_assignment(const std::string& principal_id, const std::string& role_id,
                                                  const std::string& scope, const std::string& created_by) {
  const std::string id = new_id("ra-");
  return in_transaction([&]() -> StatusOr<RoleAssignment> {
    auto x = db_->exec("INSERT INTO role_assignments (id, principal_id, role_id, scope, created_by, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       {id, principal_id, role_id, scope, created_by, now_ms()});
    if (!x.ok() && x.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("this principal already holds this role at scope '" + scope + "'");
    }
    RETURN_IF_ERROR(x.status());
    ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kAssignmentColumns) + " WHERE a.id = ?", {id}));
    return assignment_from(rows.at(0));
  });
}

StatusOr<std::vector<RoleAssignment>> Store::list_assignments(const std::string& principal_id, const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string(kAssignmentColumns) + " WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (!principal_id.empty()) {
    sql += " AND a.principal_id = ?";
    params.push_back(principal_id);
  }
  if (!scope.empty()) {
    sql += " AND a.scope = ?";
    params.push_back(scope);
  }
  ASSIGN_OR_RETURN(auto rows, db_->query(sql + " ORDER BY a.created_at, a.id", params));
  std::vector<RoleAssignment> out;
  for (const SqlRow& r : rows) out.push_back(assignment_from(r));
  return out;
}

Status Store::delete_assignment(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("DELETE FROM role_assignments WHERE id = ?", {id}));
  if (n == 0) return not_found("role assignment '" + id + "' not found");
  return Status::Ok();
}

StatusOr<std::vector<std::pair<RoleAssignment, Role>>> Store::grants(const std::string& principal_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT a.id, a.principal_id, '', a.role_id, r.name, a.scope, a.created_by, "
                                         "a.created_at, r.id, r.name, r.description, r.builtin, r.actions, "
                                         "r.not_actions, r.created_at FROM role_assignments a JOIN roles r ON r.id = "
                                         "a.role_id WHERE a.principal_id = ?",
                                         {principal_id}));
  std::vector<std::pair<RoleAssignment, Role>> out;
  for (const SqlRow& r : rows) {
    SqlRow role_row;
    role_row.values.assign(r.values.begin() + 8, r.values.end());
    out.emplace_back(assignment_from(r), role_from(role_row));
  }
  return out;
}

// ---- audit log ---------------------------------------------------------------------------

Status Store::append_audit(const AuditRecord& a) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("INSERT INTO audit_log (id, time, principal_id, principal_name, action, scope, method, path, status, "
                   "outcome, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {a.id.empty() ? new_id("aud-") : a.id, a.time != 0 ? a.time : now_ms(), a.principal_id,
                    a.principal_name, a.action, a.scope, a.method, a.path, int64_t{a.status}, a.outcome, a.request_id,
                    a.detail})
      .status();
}

StatusOr<std::vector<AuditRecord>> Store::audit(int64_t since_ms, const std::string& principal_name, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = "SELECT seq, id, time, principal_id, principal_name, action, scope, method, path, status, outcome, "
                    "request_id, detail FROM audit_log WHERE time >= ?";
  std::vector<SqlValue> params = {since_ms};
  if (!principal_name.empty()) {
    sql += " AND principal_name = ?";
    params.push_back(principal_name);
  }
  sql += " ORDER BY seq LIMIT ?";
  params.push_back(limit);
  ASSIGN_OR_RETURN(auto rows, db_->query(sql, params));
  std::vector<AuditRecord> out;
  for (const SqlRow& r : rows) {
    out.push_back(AuditRecord{r.integer(0), r.text(1), r.integer(2), r.text(3), r.text(4), r.text(5), r.text(6),
                              r.text(7), r.text(8), static_cast<int>(r.integer(9)), r.text(10), r.text(11),
                              r.text(12)});
  }
  return out;
}

}  // namespace maas
