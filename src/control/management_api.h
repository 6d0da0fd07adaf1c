// management_api.h — the control plane's REST API under /api/ (SPEC §3), the surface the CLI
// and the studio use. JSON in and out; described by its own OpenAPI document at
// /api/openapi.json, generated from the same route table that dispatches (so it cannot drift).
//
// Every call: a bearer token (`Authorization: Bearer maas_...`) or the studio's session cookie
// (with its X-CSRF-Token on POST/PATCH/DELETE: sessions.h, management_session.cc), resolved to
// a principal (401 `invalid_token` otherwise; 403 `csrf_token_invalid`); the route's action
// checked by the Authorizer at the path's scope (403 naming both); a JSON object body for
// POST/PATCH (400 `invalid_json`, fields named in `param`); then the handler. Errors use the
// OpenAI error shape: 400 invalid input, 404 unknown resource, 405, 409 conflict (duplicates),
// 413 body too large (the transport), 422 an Idempotency-Key reused with other parameters.
// Idempotency (TESTPLAN K5): a POST/PATCH/DELETE with `Idempotency-Key` is answered once; the
// same key with the same method, path and body replays the stored answer (header
// `idempotent-replayed: true`); with anything else it is 422. Keys are kept per principal.
// Handlers run on the API's own threads (they touch SQLite and may wait for a deletion to
// drain), never on the HTTP I/O threads.
// Thread safety: handle() may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "control/authorizer.h"
#include "control/platform.h"
#include "control/store.h"
#include "control/supervisor.h"
#include "http/client.h"
#include "http/http.h"
#include "http/router.h"

namespace maas {

using OJson = nlohmann::ordered_json;

struct ManagementReply {
  int status = 200;
  OJson body;
  std::vector<http::Header> headers = {};  // beside content-type (the session's Set-Cookie)
};

struct ManagementContext {
  const http::Request* request = nullptr;
  std::string scope;  // "/", "/workspaces/<w>", "/workspaces/<w>/serverlessEndpoints/<e>"
  http::Router::Match match;
  nlohmann::json body = nlohmann::json::object();
  Principal principal;
  std::string session_digest;  // the studio session that authenticated the call; "" for a token
  const std::string& param(const char* name) const { return match.param(name); }
  std::string query(const std::string& name) const;  // decoded query parameter, "" if absent
};

class ManagementApi;
using ManagementHandler = StatusOr<ManagementReply> (ManagementApi::*)(const ManagementContext&);

struct ManagementRoute {
  enum Flags : unsigned {
    kNone = 0,
    kSelfService = 1,  // the handler checks the action, allowing a principal's own tokens
    kNoChange = 2,     // a POST that changes nothing (not audited)
    kPublic = 4,       // no authentication (signing in); the handler audits what it does
  };
  const char* method;
  const char* pattern;   // under /api
  const char* action;    // the Authorizer's action, checked at the route's scope
  const char* summary;
  ManagementHandler handler;
  std::vector<const char*> also = {};  // more actions the call needs at the same scope
  unsigned flags = kNone;
};

class ManagementApi {
 public:
  ManagementApi(Platform& platform, Store& store, Supervisor& supervisor, const Authorizer& authorizer,
                int n_threads = 2);
  // Tests only (`maas serve --test-clock`): POST /api/debug/clock {"advance_ms"} moves this clock.
  void set_test_clock(OffsetClock* clock) { test_clock_ = clock; }
  ~ManagementApi();  // finishes queued calls, joins

  // Requests whose path starts with /api/.
  void handle(http::Request&& request, std::shared_ptr<http::Responder> responder);
  static const std::vector<ManagementRoute>& routes();
  static const std::string& openapi_document();

  // Handlers (management_routes.cc, management_routes_endpoints.cc).
  StatusOr<ManagementReply> list_workspaces(const ManagementContext& c);
  StatusOr<ManagementReply> create_workspace(const ManagementContext& c);
  StatusOr<ManagementReply> show_workspace(const ManagementContext& c);
  StatusOr<ManagementReply> list_models(const ManagementContext& c);
  StatusOr<ManagementReply> show_model(const ManagementContext& c);
  StatusOr<ManagementReply> register_model(const ManagementContext& c);
  StatusOr<ManagementReply> update_model(const ManagementContext& c);
  StatusOr<ManagementReply> delete_model(const ManagementContext& c);
  StatusOr<ManagementReply> list_offerings(const ManagementContext& c);
  StatusOr<ManagementReply> show_offering(const ManagementContext& c);
  StatusOr<ManagementReply> update_offering(const ManagementContext& c);
  StatusOr<ManagementReply> list_subscriptions(const ManagementContext& c);
  StatusOr<ManagementReply> create_subscription(const ManagementContext& c);
  StatusOr<ManagementReply> show_subscription(const ManagementContext& c);
  StatusOr<ManagementReply> delete_subscription(const ManagementContext& c);
  StatusOr<ManagementReply> list_endpoints(const ManagementContext& c);
  StatusOr<ManagementReply> create_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> show_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> update_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> delete_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> list_keys(const ManagementContext& c);
  StatusOr<ManagementReply> regenerate_keys(const ManagementContext& c);
  StatusOr<ManagementReply> usage_report(const ManagementContext& c);
  StatusOr<ManagementReply> usage_records(const ManagementContext& c);
  StatusOr<ManagementReply> list_instances(const ManagementContext& c);
  StatusOr<ManagementReply> whoami(const ManagementContext& c);
  // Studio sessions (management_session.cc).
  StatusOr<ManagementReply> sign_in(const ManagementContext& c);
  StatusOr<ManagementReply> show_session(const ManagementContext& c);
  StatusOr<ManagementReply> sign_out(const ManagementContext& c);
  // Access control (management_routes_access.cc).
  StatusOr<ManagementReply> list_principals(const ManagementContext& c);
  StatusOr<ManagementReply> create_principal(const ManagementContext& c);
  StatusOr<ManagementReply> show_principal(const ManagementContext& c);
  StatusOr<ManagementReply> delete_principal(const ManagementContext& c);
  StatusOr<ManagementReply> list_tokens(const ManagementContext& c);
  StatusOr<ManagementReply> create_token(const ManagementContext& c);
  StatusOr<ManagementReply> revoke_token(const ManagementContext& c);
  StatusOr<ManagementReply> list_roles(const ManagementContext& c);
  StatusOr<ManagementReply> create_role(const ManagementContext& c);
  StatusOr<ManagementReply> show_role(const ManagementContext& c);
  StatusOr<ManagementReply> delete_role(const ManagementContext& c);
  StatusOr<ManagementReply> list_assignments(const ManagementContext& c);
  StatusOr<ManagementReply> create_assignment(const ManagementContext& c);
  StatusOr<ManagementReply> delete_assignment(const ManagementContext& c);
  StatusOr<ManagementReply> show_audit(const ManagementContext& c);
  // Managed compute (management_routes_online.cc).
  StatusOr<ManagementReply> list_instance_types(const ManagementContext& c);
  StatusOr<ManagementReply> show_quota(const ManagementContext& c);
  StatusOr<ManagementReply> set_quota(const ManagementContext& c);
  StatusOr<ManagementReply> list_online_endpoints(const ManagementContext& c);
  StatusOr<ManagementReply> create_online_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> show_online_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> update_online_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> delete_online_endpoint(const ManagementContext& c);
  StatusOr<ManagementReply> online_list_keys(const ManagementContext& c);
  StatusOr<ManagementReply> online_regenerate_keys(const ManagementContext& c);
  StatusOr<ManagementReply> list_deployments(const ManagementContext& c);
  StatusOr<ManagementReply> create_deployment(const ManagementContext& c);
  StatusOr<ManagementReply> show_deployment(const ManagementContext& c);
  StatusOr<ManagementReply> update_deployment(const ManagementContext& c);
  StatusOr<ManagementReply> delete_deployment(const ManagementContext& c);
  StatusOr<ManagementReply> deployment_logs(const ManagementContext& c);
  StatusOr<ManagementReply> deployment_metrics(const ManagementContext& c);
  StatusOr<ManagementReply> advance_clock(const ManagementContext& c);

 private:
  void run(http::Request request, std::shared_ptr<http::Responder> responder);
  ManagementReply dispatch(const http::Request& request);
  // The caller: a bearer token or a session cookie (+ CSRF token for changes) sets c.principal;
  // otherwise the refusal to answer (management_session.cc).
  std::optional<ManagementReply> authenticate(ManagementContext& c);
  ManagementReply authorize_and_run(ManagementContext& c, const ManagementRoute& route);
  void audit(const ManagementContext& c, const ManagementRoute& route, const ManagementReply& reply);
  // The action check of self-service routes: a principal's own tokens need no role.
  Status check_self_or(const ManagementContext& c, const Principal& target, const char* action);
  OJson endpoint_json(const ServerlessEndpoint& e);
  OJson online_endpoint_json(const OnlineEndpoint& e);
  OJson deployment_json(const OnlineEndpoint& e, const OnlineDeployment& d);
  StatusOr<Workspace> workspace_of(const ManagementContext& c);
  StatusOr<UsageQuery> usage_query(const ManagementContext& c);

  Platform& platform_;
  Store& store_;
  Supervisor& supervisor_;
  const Authorizer& authorizer_;
  OffsetClock* test_clock_ = nullptr;
  http::HttpClient client_;  // reads instances' /metrics
  http::Router router_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

// Rendering helpers shared with the CLI's tests (management_json.cc).
std::string iso_time(int64_t unix_ms);  // "2026-12-04T13:28:00.123Z"; "" for 0
// Parses "1733300000000" (unix ms), "2026-12-04", "2026-12-04T10:00:00Z", or a relative
// "24h" / "7d" / "30m" before `now_ms`.
StatusOr<int64_t> parse_time(const std::string& text, int64_t now_ms);
OJson model_json(const Model& m, const Offering* offering);
OJson offering_json(const Offering& o);
OJson subscription_json(const Subscription& s, const std::string& workspace_name);
double usd_per_1k(int64_t micro);            // 300 -> 0.0003
StatusOr<int64_t> micro_from_usd(double usd);  // per-1K price in USD -> micro-USD

}  // namespace maas
