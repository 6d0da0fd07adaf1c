// management_session.cc — who calls the management API: a bearer token (the CLI, scripts) or
// the studio's session cookie, whose POST/PATCH/DELETE calls also carry its CSRF token
// (sessions.h). Signing in turns a principal's token into a session; signing out deletes it.
// Both kinds of caller then go through the same route table, Authorizer and audit.
#include "api/api_error.h"
#include "base/log.h"
#include "control/management_api.h"
#include "control/secrets.h"
#include "control/sessions.h"

namespace maas {
namespace {

ManagementReply refusal(api::ApiError e, std::vector<http::Header> headers = {}) {
  return ManagementReply{e.http_status, OJson::parse(api::error_body_json(e)), std::move(headers)};
}

api::ApiError invalid_token(std::string message) {
  api::ApiError e = api::unauthenticated();
  e.code = "invalid_token";
  e.message = std::move(message);
  return e;
}

api::ApiError store_unavailable() { return api::service_unavailable("The token could not be checked.", 1000); }

OJson principal_json(const Principal& p) { return OJson{{"id", p.id}, {"name", p.name}, {"kind", p.kind}}; }

}  // namespace

std::optional<ManagementReply> ManagementApi::authenticate(ManagementContext& c) {
  const http::Request& request = *c.request;
  if (const std::string* auth = request.header("authorization"); auth != nullptr) {
    if (auth->size() <= 7 || !(auth->compare(0, 7, "Bearer ") == 0 || auth->compare(0, 7, "bearer ") == 0)) {
      return refusal(invalid_token("A management token is required: Authorization: Bearer <token>."));
    }
    auto principal = store_.principal_by_token_hash(secret_digest(auth->substr(7)));
    if (!principal.ok()) {
      if (principal.status().code() != StatusCode::kUnauthenticated) return refusal(store_unavailable());
      return refusal(invalid_token("The management token is invalid or expired."));
    }
    c.principal = *principal;
    return std::nullopt;
  }
  const std::optional<std::string> secret = cookie_value(request, kSessionCookie);
  if (!secret || secret->empty()) {
    return refusal(invalid_token("A management token is required: Authorization: Bearer <token>."));
  }
  const std::string digest = secret_digest(*secret);
  auto session = store_.session_by_secret_hash(digest, kSessionIdleMs);
  if (!session.ok()) {
    if (session.status().code() != StatusCode::kUnauthenticated) return refusal(store_unavailable());
    return refusal(invalid_token("The studio session has ended: sign in again."),
                   {{"set-cookie", cleared_session_cookie(request_is_https(request))}});
  }
  if (!is_safe_method(request.method) && !csrf_token_matches(request, *secret)) {
    api::ApiError e = api::permission_denied(
        "This call needs the session's CSRF token in the X-CSRF-Token header "
        "(GET /api/session returns it).");
    e.code = "csrf_token_invalid";
    return refusal(e);
  }
  c.principal = session->principal;
  c.session_digest = digest;
  return std::nullopt;
}

StatusOr<ManagementReply> ManagementApi::sign_in(const ManagementContext& c) {
  const http::Request& request = *c.request;
  if (cross_origin(request)) {
    api::ApiError e = api::permission_denied("Sign in from the studio's own origin.");
    e.code = "cross_origin";
    return refusal(e);
  }
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    const std::string field = it.key().substr(0, 64);
    if (field != "token") return refusal(api::invalid_request("unknown field '" + field + "' (allowed: token)", field));
  }
  auto token = c.body.find("token");
  if (token == c.body.end() || !token->is_string() || token->get<std::string>().empty()) {
    return refusal(api::invalid_request("token is required: a principal's management token (maas_...)", "token"));
  }
  const NewSession fresh = new_session_secret();
  auto session = store_.create_session(secret_digest(token->get<std::string>()), fresh.digest, kSessionLifetimeMs);
  if (!session.ok()) {
    if (session.status().code() != StatusCode::kUnauthenticated) return refusal(store_unavailable());
    api::ApiError e = invalid_token("The token is invalid, expired or revoked.");
    e.param = "token";
    return refusal(e);
  }
  AuditRecord a;
  a.principal_id = session->principal.id;
  a.principal_name = session->principal.name;
  a.action = "studio/session/signIn";
  a.scope = "/";
  a.method = request.method;
  a.path = request.path;
  a.status = 201;
  a.outcome = "succeeded";
  a.request_id = request.request_id;
  if (Status s = store_.append_audit(a); !s.ok()) LOG_ERROR("audit: %s", s.message().c_str());
  const int64_t max_age = session->expires_at - session->created_at;
  return ManagementReply{201,
                         OJson{{"principal", principal_json(session->principal)},
                               {"csrf_token", csrf_token_for(fresh.secret)},
                               {"expires_at", iso_time(session->expires_at)}},
                         {{"set-cookie", session_cookie(fresh.secret, max_age, request_is_https(request))}}};
}

StatusOr<ManagementReply> ManagementApi::show_session(const ManagementContext& c) {
  const std::optional<std::string> secret = cookie_value(*c.request, kSessionCookie);
  if (c.session_digest.empty() || !secret) return not_found("no studio session: this call was made with a token");
  ASSIGN_OR_RETURN(Store::Session s, store_.session_by_secret_hash(c.session_digest, kSessionIdleMs));
  return ManagementReply{200, OJson{{"principal", principal_json(s.principal)},
                                    {"csrf_token", csrf_token_for(*secret)},
                                    {"created_at", iso_time(s.created_at)},
                                    {"expires_at", iso_time(s.expires_at)},
                                    {"idle_timeout_s", kSessionIdleMs / 1000}}};
}

StatusOr<ManagementReply> ManagementApi::sign_out(const ManagementContext& c) {
  if (c.session_digest.empty()) return not_found("no studio session: this call was made with a token");
  RETURN_IF_ERROR(store_.delete_session(c.session_digest));
  return ManagementReply{204, OJson::object(), {{"set-cookie", cleared_session_cookie(request_is_https(*c.request))}}};
}

}  // namespace maas
