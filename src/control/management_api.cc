// management_api.cc — dispatch, authentication, authorization, idempotency and errors of the
// management API; the route table; the OpenAPI document built from it.
#include "control/management_api.h"

#include "api/api_error.h"
#include "api/json_body.h"
#include "base/log.h"
#include "control/crypto.h"
#include "control/secrets.h"
#include "http/cors.h"

namespace maas {
namespace {

using MA = ManagementApi;

ManagementReply error_reply(const api::ApiError& e) {
  ManagementReply r;
  r.status = e.http_status;
  r.body = OJson::parse(api::error_body_json(e));
  return r;
}

ManagementReply status_reply(const Status& s) {
  api::ApiError e = api::api_error_from_status(s);
  if (s.code() == StatusCode::kFailedPrecondition && s.message().find("subscription") != std::string::npos) {
    e.code = "marketplace_subscription_required";
  } else if (s.code() == StatusCode::kFailedPrecondition && s.message().find("weights") != std::string::npos) {
    e.code = "model_weights_missing";
  } else if (s.code() == StatusCode::kInvalidArgument && e.code.empty()) {
    e.code = "invalid_value";
  }
  // Messages that name a field: "<field> must ..." -> param.
  for (const char* field : {"name", "model", "region", "requests_per_minute", "tokens_per_minute", "key_type",
                            "serverless_instances", "path", "price_input_per_1k", "price_output_per_1k", "since",
                            "until", "by", "limit"}) {
    const std::string f = field;
    if (s.message().rfind(f + " ", 0) == 0 || s.message().find("'" + f + "'") != std::string::npos) {
      e.param = f;
      break;
    }
  }
  if (e.param.empty() && s.message().find("endpoint name") != std::string::npos) e.param = "name";
  if (e.param.empty() && s.message().find("workspace name") != std::string::npos) e.param = "name";
  if (e.param.empty() && s.message().find("subscription name") != std::string::npos) e.param = "name";
  return error_reply(e);
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string ManagementContext::query(const std::string& name) const {
  std::string_view q = request->query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    const size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return "";
}

const std::vector<ManagementRoute>& ManagementApi::routes() {
  using R = ManagementRoute;
  constexpr const char* kSign = "marketplaceOrdering/agreements/offers/plans/sign/action";
  static const std::vector<ManagementRoute> kRoutes = {
      {"GET", "/whoami", "", "The principal of the token and its role assignments", &MA::whoami},
      {"POST", "/session", "", "Sign in to the studio with a token: an HttpOnly session cookie", &MA::sign_in, {},
       R::kPublic},
      {"GET", "/session", "", "The studio session: its principal, CSRF token and expiry", &MA::show_session},
      {"DELETE", "/session", "", "Sign out of the studio (the session is deleted)", &MA::sign_out},
      {"GET", "/workspaces", "", "List the workspaces the caller holds a role in", &MA::list_workspaces},
      {"POST", "/workspaces", "workspaces/write", "Create a workspace", &MA::create_workspace},
      {"GET", "/workspaces/{workspace}", "workspaces/read", "Show a workspace", &MA::show_workspace},
      {"GET", "/models", "", "List the model catalog (open to every principal)", &MA::list_models},
      {"POST", "/models", "models/write", "Register local weights for a catalog model, or add a custom model",
       &MA::register_model},
      {"GET", "/models/{model}", "", "Show a model", &MA::show_model},
      {"PATCH", "/models/{model}", "models/write", "Change a model's serverless pool size", &MA::update_model},
      {"DELETE", "/models/{model}", "models/delete", "Remove a custom model, or a catalog model's weights",
       &MA::delete_model},
      {"GET", "/offerings", "", "List marketplace offerings (open to every principal)", &MA::list_offerings},
      {"GET", "/offerings/{offering}", "", "Show an offering", &MA::show_offering},
      {"PATCH", "/offerings/{offering}", "platform/offerings/write", "Change an offering's prices",
       &MA::update_offering},
      {"GET", "/workspaces/{workspace}/marketplace-subscriptions", "workspaces/marketplaceModelSubscriptions/read",
       "List marketplace subscriptions", &MA::list_subscriptions},
      {"POST", "/workspaces/{workspace}/marketplace-subscriptions", "workspaces/marketplaceModelSubscriptions/write",
       "Subscribe the workspace to an offering (signs its agreement)", &MA::create_subscription,
       {kSign, "saas/resources/write"}},
      {"GET", "/workspaces/{workspace}/marketplace-subscriptions/{name}",
       "workspaces/marketplaceModelSubscriptions/read", "Show a marketplace subscription", &MA::show_subscription},
      {"DELETE", "/workspaces/{workspace}/marketplace-subscriptions/{name}",
       "workspaces/marketplaceModelSubscriptions/delete", "Delete a marketplace subscription",
       &MA::delete_subscription},
      {"GET", "/workspaces/{workspace}/serverless-endpoints", "workspaces/serverlessEndpoints/read",
       "List serverless endpoints", &MA::list_endpoints},
      {"POST", "/workspaces/{workspace}/serverless-endpoints", "workspaces/serverlessEndpoints/write",
       "Create a serverless endpoint", &MA::create_endpoint},
      {"GET", "/workspaces/{workspace}/serverless-endpoints/{name}", "workspaces/serverlessEndpoints/read",
       "Show a serverless endpoint", &MA::show_endpoint},
      {"PATCH", "/workspaces/{workspace}/serverless-endpoints/{name}", "platform/endpointLimits/write",
       "Change an endpoint's rate limits (administrator)", &MA::update_endpoint},
      {"DELETE", "/workspaces/{workspace}/serverless-endpoints/{name}", "workspaces/serverlessEndpoints/delete",
       "Delete a serverless endpoint (requests in flight finish first)", &MA::delete_endpoint},
      {"POST", "/workspaces/{workspace}/serverless-endpoints/{name}/list-keys",
       "workspaces/serverlessEndpoints/listKeys/action", "Get an endpoint's keys", &MA::list_keys, {}, R::kNoChange},
      {"POST", "/workspaces/{workspace}/serverless-endpoints/{name}/regenerate-keys",
       "workspaces/serverlessEndpoints/regenerateKeys/action", "Regenerate one key of an endpoint",
       &MA::regenerate_keys},
      {"GET", "/workspaces/{workspace}/usage", "workspaces/usage/read",
       "Usage and cost by day, endpoint or meter", &MA::usage_report},
      {"GET", "/workspaces/{workspace}/usage/records", "workspaces/usage/read", "Usage records",
       &MA::usage_records},
      {"GET", "/instances", "platform/instances/read", "Worker instances of every deployment", &MA::list_instances},
      {"GET", "/principals", "authorization/principals/read", "List principals", &MA::list_principals},
      {"POST", "/principals", "authorization/principals/write", "Create a principal (and its first token)",
       &MA::create_principal},
      {"GET", "/principals/{principal}", "authorization/principals/read", "Show a principal", &MA::show_principal},
      {"DELETE", "/principals/{principal}", "authorization/principals/delete",
       "Delete a principal with its tokens and role assignments", &MA::delete_principal},
      {"GET", "/principals/{principal}/tokens", "authorization/tokens/read", "List a principal's tokens",
       &MA::list_tokens, {}, R::kSelfService},
      {"POST", "/principals/{principal}/tokens", "authorization/tokens/write", "Create a token (shown once)",
       &MA::create_token, {}, R::kSelfService},
      {"DELETE", "/tokens/{token}", "authorization/tokens/delete", "Revoke a token", &MA::revoke_token, {},
       R::kSelfService},
      {"GET", "/roles", "authorization/roles/read", "List roles", &MA::list_roles},
      {"POST", "/roles", "authorization/roles/write", "Create a custom role", &MA::create_role},
      {"GET", "/roles/{role}", "authorization/roles/read", "Show a role", &MA::show_role},
      {"DELETE", "/roles/{role}", "authorization/roles/delete", "Delete a custom role", &MA::delete_role},
      {"GET", "/role-assignments", "authorization/roleAssignments/read", "List role assignments",
       &MA::list_assignments},
      {"POST", "/role-assignments", "authorization/roleAssignments/write",
       "Assign a role to a principal at a scope (checked at that scope)", &MA::create_assignment, {},
       R::kSelfService},
      {"DELETE", "/role-assignments/{assignment}", "authorization/roleAssignments/delete",
       "Delete a role assignment (checked at its scope)", &MA::delete_assignment, {}, R::kSelfService},
      {"GET", "/audit", "authorization/audit/read", "The audit log of changes", &MA::show_audit},
      {"GET", "/instance-types", "", "Instance types (resource profiles) and whether this machine has them",
       &MA::list_instance_types},
      {"GET", "/workspaces/{workspace}/quota", "quotas/read", "Cores and GPUs: limit, used, free; the region's capacity",
       &MA::show_quota},
      {"PATCH", "/workspaces/{workspace}/quota", "quotas/write", "Set the workspace's limits (administrator)",
       &MA::set_quota},
      {"GET", "/workspaces/{workspace}/online-endpoints", "workspaces/onlineEndpoints/read", "List online endpoints",
       &MA::list_online_endpoints},
      {"POST", "/workspaces/{workspace}/online-endpoints", "workspaces/onlineEndpoints/write",
       "Create an online endpoint", &MA::create_online_endpoint},
      {"GET", "/workspaces/{workspace}/online-endpoints/{name}", "workspaces/onlineEndpoints/read",
       "Show an online endpoint", &MA::show_online_endpoint},
      {"PATCH", "/workspaces/{workspace}/online-endpoints/{name}", "workspaces/onlineEndpoints/write",
       "Set traffic and mirror traffic", &MA::update_online_endpoint},
      {"DELETE", "/workspaces/{workspace}/online-endpoints/{name}", "workspaces/onlineEndpoints/delete",
       "Delete an online endpoint and its deployments", &MA::delete_online_endpoint},
      {"POST", "/workspaces/{workspace}/online-endpoints/{name}/list-keys",
       "workspaces/onlineEndpoints/listKeys/action", "Get an online endpoint's keys", &MA::online_list_keys, {},
       R::kNoChange},
      {"POST", "/workspaces/{workspace}/online-endpoints/{name}/regenerate-keys",
       "workspaces/onlineEndpoints/regenerateKeys/action", "Regenerate one key", &MA::online_regenerate_keys},
      {"GET", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments",
       "workspaces/onlineEndpoints/deployments/read", "List an endpoint's deployments", &MA::list_deployments},
      {"POST", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments",
       "workspaces/onlineEndpoints/deployments/write", "Create a deployment (quota checked)", &MA::create_deployment},
      {"GET", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments/{name}",
       "workspaces/onlineEndpoints/deployments/read", "Show a deployment and its instances", &MA::show_deployment},
      {"PATCH", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments/{name}",
       "workspaces/onlineEndpoints/deployments/write", "Scale or update a deployment (rolling)",
       &MA::update_deployment},
      {"DELETE", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments/{name}",
       "workspaces/onlineEndpoints/deployments/delete", "Delete a deployment (its traffic must be 0)",
       &MA::delete_deployment},
      {"GET", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments/{name}/logs",
       "workspaces/onlineEndpoints/deployments/logs/read", "The last lines of one instance's log",
       &MA::deployment_logs},
      {"GET", "/workspaces/{workspace}/online-endpoints/{endpoint}/deployments/{name}/metrics",
       "workspaces/onlineEndpoints/deployments/metrics/read", "One instance's Prometheus metrics (as JSON text)",
       &MA::deployment_metrics},
      {"POST", "/debug/clock", "platform/debug/action", "Move the test clock (maas serve --test-clock only)",
       &MA::advance_clock},
  };
  return kRoutes;
}

ManagementApi::ManagementApi(Platform& platform, Store& store, Supervisor& supervisor, const Authorizer& authorizer,
                             int n_threads)
    : platform_(platform), store_(store), supervisor_(supervisor), authorizer_(authorizer) {
  const auto& table = routes();
  for (size_t i = 0; i < table.size(); ++i) router_.add(table[i].method, std::string("/api") + table[i].pattern, static_cast<int>(i));
  router_.add("GET", "/api/openapi.json", -1);
  for (int i = 0; i < n_threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
          if (queue_.empty()) return;
          job = std::move(queue_.front());
          queue_.pop_front();
        }
        job();
      }
    });
  }
}

ManagementApi::~ManagementApi() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ManagementApi::handle(http::Request&& request, std::shared_ptr<http::Responder> responder) {
  if (http::is_preflight(request)) return http::answer_preflight(*responder, "GET, POST, PATCH, DELETE, OPTIONS");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() > 1024) {
      api::HttpErrorResponse r = api::render_api_error(api::overloaded(1000), false);
      std::vector<http::Header> h;
      for (auto& [n, v] : r.headers) h.push_back({n, v});
      responder->send(r.status, std::move(h), r.body);
      return;
    }
    queue_.push_back([this, req = std::move(request), res = std::move(responder)]() mutable {
      run(std::move(req), std::move(res));
    });
  }
  cv_.notify_one();
}

void ManagementApi::run(http::Request request, std::shared_ptr<http::Responder> responder) {
  if (responder->closed()) return;
  ManagementReply reply;
  std::vector<http::Header> headers = {{"content-type", "application/json"}};
  if (request.path == "/api/openapi.json" && (request.method == "GET" || request.method == "HEAD")) {
    responder->send(200, std::move(headers), openapi_document());
    return;
  }
  try {
    reply = dispatch(request);
  } catch (const std::exception&) {
    LOG_ERROR("management api: %s %s threw", request.method.c_str(), request.path.c_str());
    reply = error_reply(api::server_error());
  }
  if (reply.body.contains("__replayed")) {
    reply.body.erase("__replayed");
    headers.push_back({"idempotent-replayed", "true"});
  }
  if (reply.status == 405) headers.push_back({"allow", reply.body.value("__allow", std::string())});
  reply.body.erase("__allow");
  headers.push_back({"cache-control", "no-store"});
  headers.push_back({"x-content-type-options", "nosniff"});
  for (http::Header& h : reply.headers) headers.push_back(std::move(h));
  responder->send(reply.status, std::move(headers),
                  reply.status == 204 ? "" : reply.body.dump(-1, ' ', false, OJson::error_handler_t::replace));
}

ManagementReply ManagementApi::dispatch(const http::Request& request) {
  ManagementContext c;
  c.request = &request;
  c.match = router_.match(request.method, request.path);
  // Authentication first: nothing, not even which routes exist, without a token or a session
  // (management_session.cc); signing in is the one open route.
  const bool open = c.match.kind == http::Router::Match::kFound &&
                    (routes()[static_cast<size_t>(c.match.route)].flags & ManagementRoute::kPublic);
  if (!open) {
    if (std::optional<ManagementReply> refusal = authenticate(c)) return std::move(*refusal);
  }
  if (c.match.kind == http::Router::Match::kNotFound) return error_reply(api::route_not_found(request.path));
  if (c.match.kind == http::Router::Match::kMethodNotAllowed) {
    ManagementReply r = error_reply(api::method_not_allowed(request.method));
    r.body["__allow"] = c.match.allowed;
    return r;
  }
  const ManagementRoute& route = routes()[static_cast<size_t>(c.match.route)];
  c.scope = "/";
  if (!c.param("workspace").empty()) {
    const std::string pattern = route.pattern;
    c.scope = "/workspaces/" + c.param("workspace");
    if (pattern.find("/serverless-endpoints/{name}") != std::string::npos) {
      c.scope += "/serverlessEndpoints/" + c.param("name");
    } else if (pattern.find("/online-endpoints/{name}") != std::string::npos) {
      c.scope += "/onlineEndpoints/" + c.param("name");
    } else if (pattern.find("/online-endpoints/{endpoint}") != std::string::npos) {
      c.scope += "/onlineEndpoints/" + c.param("endpoint");
    }
  }
  ManagementReply reply = authorize_and_run(c, route);
  const bool changes = request.method != "GET" && request.method != "HEAD" &&
                       !(route.flags & (ManagementRoute::kNoChange | ManagementRoute::kPublic));
  if (changes) audit(c, route, reply);
  return reply;
}

ManagementReply ManagementApi::authorize_and_run(ManagementContext& c, const ManagementRoute& route) {
  const http::Request& request = *c.request;
  // A workspace the caller has no role in, at, above or below it, is absent (tenants).
  if (!c.param("workspace").empty() && !authorizer_.can_see(c.principal, "/workspaces/" + c.param("workspace"))) {
    return status_reply(not_found("workspace '" + c.param("workspace").substr(0, 64) + "' not found"));
  }
  if (route.action[0] != '\0' && !(route.flags & ManagementRoute::kSelfService)) {
    if (Status s = authorizer_.check(c.principal, route.action, c.scope); !s.ok()) return status_reply(s);
    for (const char* more : route.also) {
      if (Status s = authorizer_.check(c.principal, more, c.scope); !s.ok()) return status_reply(s);
    }
  }
  const bool mutating = request.method == "POST" || request.method == "PATCH" || request.method == "DELETE";
  if (request.method == "POST" || request.method == "PATCH") {
    if (!request.body.empty() || request.method == "PATCH") {
      api::ApiError e = api::parse_json_body(request.body.empty() ? "{}" : request.body, &c.body);
      if (!e.ok()) return error_reply(e);
    }
  }
  const bool replayable = mutating && !(route.flags & ManagementRoute::kPublic);  // never replay a sign-in
  const std::string* idem = replayable ? request.header("idempotency-key") : nullptr;
  std::string body_hash;
  if (idem != nullptr) {
    if (idem->empty() || idem->size() > 255) {
      return error_reply(api::invalid_request("Idempotency-Key must be 1 to 255 characters.", "Idempotency-Key"));
    }
    body_hash = sha256_hex(request.method + "\n" + request.path + "\n" + request.body);
    auto prior = store_.idempotent_response(c.principal.id, *idem);
    if (!prior.ok()) return status_reply(prior.status());
    if (prior->has_value()) {
      const Store::IdempotentResponse& p = **prior;
      if (p.body_hash != body_hash) {
        api::ApiError e = api::invalid_request("This Idempotency-Key was used with a different request.", "Idempotency-Key",
                                               "idempotency_key_reused");
        e.http_status = 422;
        return error_reply(e);
      }
      ManagementReply r;
      r.status = p.status;
      r.body = OJson::parse(p.response, nullptr, false);
      if (r.body.is_discarded() || !r.body.is_object()) r.body = OJson::object();
      r.body["__replayed"] = true;
      return r;
    }
  }
  StatusOr<ManagementReply> result = (this->*route.handler)(c);
  ManagementReply reply = result.ok() ? std::move(*result) : status_reply(result.status());
  if (idem != nullptr && reply.status < 500) {
    Status saved = store_.save_idempotent_response(
        c.principal.id, *idem, {request.method, request.path, body_hash, reply.status, reply.body.dump()});
    if (!saved.ok()) LOG_WARN("management api: idempotency key not saved: %s", saved.message().c_str());
  }
  return reply;
}

void ManagementApi::audit(const ManagementContext& c, const ManagementRoute& route, const ManagementReply& reply) {
  AuditRecord a;
  a.principal_id = c.principal.id;
  a.principal_name = c.principal.name;
  a.action = route.action;
  a.scope = c.scope;
  a.method = c.request->method;
  a.path = c.request->path;
  a.status = reply.status;
  a.outcome = reply.status < 300 ? "succeeded" : (reply.status == 403 || reply.status == 404 ? "denied" : "failed");
  if (reply.status == 404 && !c.param("workspace").empty() &&
      authorizer_.can_see(c.principal, "/workspaces/" + c.param("workspace"))) {
    a.outcome = "failed";  // a real absence, not a refusal
  }
  a.request_id = c.request->request_id;
  if (reply.status >= 300 && reply.body.contains("error") && reply.body["error"].is_object()) {
    a.detail = reply.body["error"].value("message", "");
  }
  if (Status s = store_.append_audit(a); !s.ok()) LOG_ERROR("audit: %s", s.message().c_str());
}

Status ManagementApi::check_self_or(const ManagementContext& c, const Principal& target, const char* action) {
  if (target.id == c.principal.id) return Status::Ok();
  return authorizer_.check(c.principal, action, "/");
}

const std::string& ManagementApi::openapi_document() {
  static const std::string kDoc = [] {
    OJson paths = OJson::object();
    for (const ManagementRoute& r : routes()) {
      const std::string path = std::string("/api") + r.pattern;
      std::string method = r.method;
      for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      OJson op;
      op["summary"] = r.summary;
      op["x-maas-action"] = r.action;
      OJson params = OJson::array();
      for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
        const std::string name = path.substr(i + 1, path.find('}', i) - i - 1);
        params.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
      }
      if (!params.empty()) op["parameters"] = params;
      if (method == "post" || method == "patch") {
        op["requestBody"] = {{"required", method == "patch"},
                             {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
      }
      op["responses"] = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
                         {"default", {{"description", "An error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
      op["security"] = (r.flags & ManagementRoute::kPublic)
                           ? OJson::array()
                           : OJson::array({{{"bearer", OJson::array()}}, {{"session", OJson::array()}}});
      paths[path][method] = op;
    }
    OJson doc;
    doc["openapi"] = "3.0.3";
    doc["info"] = {{"title", "maas management API"}, {"version", "1"},
                   {"description", "Workspaces, the model catalog, marketplace subscriptions, serverless endpoints, "
                                   "keys and usage of a maas platform."}};
    doc["paths"] = paths;
    doc["components"] = {
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "maas_session"},
                       {"description", "The studio's session (POST /api/session); POST, PATCH and DELETE also need "
                                       "its X-CSRF-Token header (GET /api/session)"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"properties",
                 {{"message", {{"type", "string"}}}, {"type", {{"type", "string"}}},
                  {"param", {{"type", "string"}, {"nullable", true}}},
                  {"code", {{"type", "string"}, {"nullable", true}}}}}}}}}}}}}};
    return doc.dump(2);
  }();
  return kDoc;
}

}  // namespace maas
