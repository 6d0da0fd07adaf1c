// store_sessions.cc — the studio's sign-in sessions (sessions.h): stored as digests, bound to
// the token they were opened with, expiring.
#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

// A session, its token and its principal, joined: only rows whose token is still active.
constexpr const char* kLiveSession =
    "SELECT s.id, s.principal_id, s.token_id, s.created_at, s.expires_at, s.last_seen_at, p.id, p.name, p.kind, "
    "p.is_admin, p.created_at, p.description FROM sessions s JOIN tokens t ON t.id = s.token_id "
    "JOIN principals p ON p.id = s.principal_id WHERE s.secret_hash = ? AND t.revoked_at IS NULL AND "
    "(t.expires_at IS NULL OR t.expires_at > ?) AND s.expires_at > ?";

Store::Session session_from(const SqlRow& r) {
  Store::Session s;
  s.id = r.text(0);
  s.principal_id = r.text(1);
  s.token_id = r.text(2);
  s.created_at = r.integer(3);
  s.expires_at = r.integer(4);
  s.last_seen_at = r.integer(5);
  s.principal = Principal{r.text(6), r.text(7), r.text(8), r.integer(9) != 0, r.integer(10), r.text(11)};
  return s;
}

}  // namespace

StatusOr<Store::Session> Store::create_session(const std::string& token_hash, const std::string& secret_hash,
                                               int64_t lifetime_ms) {
  return in_transaction([&]() -> StatusOr<Session> {
    const int64_t now = now_ms();
    RETURN_IF_ERROR(db_->exec("DELETE FROM sessions WHERE expires_at <= ?", {now}).status());
    ASSIGN_OR_RETURN(auto rows, db_->query("SELECT id, principal_id, expires_at FROM tokens WHERE token_hash = ? AND "
                                           "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                                           {token_hash, now}));
    if (rows.empty()) return unauthenticated("invalid or expired token");
    const int64_t token_expires = rows[0].integer(2);
    int64_t expires = now + lifetime_ms;
    if (token_expires > 0 && token_expires < expires) expires = token_expires;
    const std::string id = new_id("ses-");
    RETURN_IF_ERROR(db_->exec("INSERT INTO sessions (id, secret_hash, principal_id, token_id, created_at, expires_at, "
                              "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              {id, secret_hash, rows[0].text(1), rows[0].text(0), now, expires, now})
                        .status());
    RETURN_IF_ERROR(db_->exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", {now, rows[0].text(0)}).status());
    ASSIGN_OR_RETURN(auto live, db_->query(kLiveSession, {secret_hash, now, now}));
    if (live.empty()) return internal_error("the new session could not be read back");
    return session_from(live[0]);
  });
}

StatusOr<Store::Session> Store::session_by_secret_hash(const std::string& secret_hash, int64_t idle_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ms();
  ASSIGN_OR_RETURN(auto rows, db_->query(kLiveSession, {secret_hash, now, now}));
  if (rows.empty()) return unauthenticated("no such session, or it has expired");
  Session s = session_from(rows[0]);
  if (now - s.last_seen_at >= idle_ms) {
    (void)db_->exec("DELETE FROM sessions WHERE id = ?", {s.id});
    return unauthenticated("the session was idle too long");
  }
  if (now - s.last_seen_at > 60000) {  // the last call, coarsely: one write a minute per session
    (void)db_->exec("UPDATE sessions SET last_seen_at = ? WHERE id = ?", {now, s.id});
    (void)db_->exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", {now, s.token_id});
    s.last_seen_at = now;
  }
  return s;
}

Status Store::delete_session(const std::string& secret_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->exec("DELETE FROM sessions WHERE secret_hash = ?", {secret_hash}).status();
}

}  // namespace maas
