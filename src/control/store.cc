// store.cc — opening the Store; settings, principals and tokens, workspaces, idempotency keys.
#include "control/store.h"

#include "control/crypto.h"
#include "control/migrations.h"
#include "control/store_internal.h"

namespace maas {

using store_internal::Done;
using store_internal::opt;

const char* key_slot_name(KeySlot slot) { return slot == KeySlot::kPrimary ? "primary" : "secondary"; }

std::string new_id(const char* prefix) { return std::string(prefix) + random_hex(12); }

StatusOr<std::unique_ptr<Store>> Store::open(std::unique_ptr<Database> db, const Clock& clock) {
  RETURN_IF_ERROR(migrate(*db, clock.now_unix_ms()).status());
  return std::unique_ptr<Store>(new Store(std::move(db), clock));
}

StatusOr<std::optional<std::string>> Store::setting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT value FROM settings WHERE key = ?", {key}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].text(0));
}

Status Store::set_setting(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   {key, value}).status();
}

// ---- principals and tokens ---------------------------------------------------------------

StatusOr<Principal> Store::create_principal(const std::string& name, const std::string& kind, bool is_admin) {
  Principal p{new_id("prn-"), name, kind, is_admin, now_ms(), ""};
  return in_transaction([&]() -> StatusOr<Principal> {
    auto r = db_->exec("INSERT INTO principals (id, name, kind, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
                       {p.id, p.name, p.kind, int64_t{is_admin ? 1 : 0}, p.created_at});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a principal named '" + name + "' already exists");
    }
    RETURN_IF_ERROR(r.status());
    return p;
  });
}

StatusOr<ApiToken> Store::add_token(const std::string& principal_id, const std::string& name,
                                    const std::string& token_hash, const std::string& prefix, int64_t expires_at) {
  ApiToken t{new_id("tok-"), principal_id, name, "", prefix, now_ms(), expires_at, 0, 0};
  return in_transaction([&]() -> StatusOr<ApiToken> {
    RETURN_IF_ERROR(db_->exec("INSERT INTO tokens (id, principal_id, name, token_hash, prefix, created_at, expires_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)",
                              {t.id, principal_id, name, token_hash, prefix, t.created_at, opt(expires_at)})
                        .status());
    return t;
  });
}

// ---- workspaces --------------------------------------------------------------------------

namespace {
Workspace workspace_from(const SqlRow& r) { return Workspace{r.text(0), r.text(1), r.text(2), r.integer(3)}; }
constexpr const char* kWorkspaceColumns = "SELECT id, name, region, created_at FROM workspaces";
}  // namespace

StatusOr<Workspace> Store::create_workspace(const std::string& name, const std::string& region) {
  Workspace w{new_id("ws-"), name, region, now_ms()};
  return in_transaction([&]() -> StatusOr<Workspace> {
    auto r = db_->exec("INSERT INTO workspaces (id, name, region, created_at) VALUES (?, ?, ?, ?)",
                       {w.id, w.name, w.region, w.created_at});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a workspace named '" + name + "' already exists");
    }
    RETURN_IF_ERROR(r.status());
    return w;
  });
}

StatusOr<std::vector<Workspace>> Store::list_workspaces() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kWorkspaceColumns) + " ORDER BY name"));
  std::vector<Workspace> out;
  for (const SqlRow& r : rows) out.push_back(workspace_from(r));
  return out;
}

StatusOr<Workspace> Store::workspace(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kWorkspaceColumns) + " WHERE name = ?", {name}));
  if (rows.empty()) return not_found("workspace '" + name + "' not found");
  return workspace_from(rows[0]);
}

StatusOr<Workspace> Store::workspace_by_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kWorkspaceColumns) + " WHERE id = ?", {id}));
  if (rows.empty()) return not_found("workspace not found");
  return workspace_from(rows[0]);
}

// ---- idempotency keys --------------------------------------------------------------------

StatusOr<std::optional<Store::IdempotentResponse>> Store::idempotent_response(const std::string& principal_id,
                                                                              const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query("SELECT method, path, body_hash, status, response FROM idempotency_keys "
                                         "WHERE principal_id = ? AND idempotency_key = ?",
                                         {principal_id, key}));
  if (rows.empty()) return std::optional<IdempotentResponse>();
  const SqlRow& r = rows[0];
  return std::optional<IdempotentResponse>(
      IdempotentResponse{r.text(0), r.text(1), r.text(2), static_cast<int>(r.integer(3)), r.text(4)});
}

Status Store::save_idempotent_response(const std::string& principal_id, const std::string& key,
                                       const IdempotentResponse& resp) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("INSERT INTO idempotency_keys (principal_id, idempotency_key, method, path, body_hash, status, "
                   "response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (principal_id, idempotency_key) "
                   "DO NOTHING",
                   {principal_id, key, resp.method, resp.path, resp.body_hash, int64_t{resp.status}, resp.response,
                    now_ms()})
      .status();
}

}  // namespace maas
