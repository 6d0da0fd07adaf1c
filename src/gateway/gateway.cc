// gateway.cc — routing a request to its endpoint, key checks, admission, and the
// non-inference routes.
#include "gateway/gateway.h"

#include <chrono>
#include <random>

#include "api/api_error.h"
#include "base/log.h"
#include "control/crypto.h"
#include "gateway/inference_request.h"
#include "gateway/proxy_call.h"
#include "http/content_type.h"
#include "http/cors.h"
#include "http/key_auth.h"

namespace maas::gateway {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

enum class ApiRoute { kUnknown, kCompletions, kChat, kAzureCompletions, kAzureChat, kInfo, kModels, kTokenize, kDetokenize,
                      kOpenApi };

struct RouteSpec {
  ApiRoute route;
  const char* method;
};

RouteSpec classify(const std::string& path) {
  if (path == "/v1/completions") return {ApiRoute::kCompletions, "POST"};
  if (path == "/v1/chat/completions") return {ApiRoute::kChat, "POST"};
  if (path == "/completions") return {ApiRoute::kAzureCompletions, "POST"};
  if (path == "/chat/completions") return {ApiRoute::kAzureChat, "POST"};
  if (path == "/info") return {ApiRoute::kInfo, "GET"};
  if (path == "/v1/models") return {ApiRoute::kModels, "GET"};
  if (path == "/tokenize") return {ApiRoute::kTokenize, "POST"};
  if (path == "/detokenize") return {ApiRoute::kDetokenize, "POST"};
  if (path == "/openapi.json" || path == "/swagger.json") return {ApiRoute::kOpenApi, "GET"};
  return {ApiRoute::kUnknown, ""};
}

std::vector<http::Header> to_headers(const Pairs& pairs) {
  std::vector<http::Header> out;
  for (const auto& [n, v] : pairs) out.push_back({n, v});
  return out;
}

void send_error(http::Responder& res, const api::ApiError& err, bool azure, const Pairs& extra = {}) {
  api::HttpErrorResponse r = api::render_api_error(err, azure);
  std::vector<http::Header> h = to_headers(r.headers);
  for (const auto& [n, v] : extra) h.push_back({n, v});
  res.send(r.status, std::move(h), r.body);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct Gateway::Target {
  std::string endpoint_name;
  std::string api_path;
  RouteSpec spec{ApiRoute::kUnknown, ""};
  bool azure = false;
  std::shared_ptr<const RoutingTable> table;
  std::shared_ptr<const EndpointRoute> route;
  std::string key_slot;
};

Gateway::Gateway(GatewayOptions options, RouteSource routes, Meter& meter, ContentSafety& safety, const Clock& clock)
    : options_(std::move(options)), routes_(std::move(routes)), meter_(meter), safety_(safety), clock_(clock) {}

Gateway::~Gateway() = default;

void Gateway::count_status(int status) {
  if (status < 300) counters.status_2xx++;
  else if (status < 500) counters.status_4xx++;
  else counters.status_5xx++;
}

bool Gateway::resolve(const http::Request& req, Target* t) const {
  static const std::string kPrefix = "/endpoints/";
  if (req.path.rfind(kPrefix, 0) == 0 || req.path == "/endpoints") {
    const size_t start = std::min(req.path.size(), kPrefix.size());
    const size_t slash = req.path.find('/', start);
    t->endpoint_name = req.path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    t->api_path = slash == std::string::npos ? "/" : req.path.substr(slash);
    return true;
  }
  if (options_.domain.empty()) return false;
  const std::string* host_header = req.header("host");
  if (host_header == nullptr) return false;
  std::string host = lower(*host_header);
  if (const size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos) {
    host.resize(colon);
  }
  const std::string suffix = "." + lower(options_.domain);
  if (host.size() <= suffix.size() || host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  const std::string left = host.substr(0, host.size() - suffix.size());  // "<name>.<region>"
  const size_t dot = left.find('.');
  if (dot == std::string::npos || left.find('.', dot + 1) != std::string::npos) return false;
  t->endpoint_name = left.substr(0, dot);
  t->api_path = req.path;
  return true;
}

bool Gateway::handle(http::Request& req, const std::shared_ptr<http::Responder>& res) {
  Target t;
  if (!resolve(req, &t)) return false;
  counters.requests++;
  if (http::is_preflight(req)) {
    http::answer_preflight(*res);
    return true;
  }
  t.spec = classify(t.api_path);
  t.azure = t.spec.route == ApiRoute::kAzureChat || t.spec.route == ApiRoute::kAzureCompletions;
  auto fail = [&](const api::ApiError& e) {
    count_status(e.http_status);
    send_error(*res, e, t.azure);
    return true;
  };
  std::optional<std::string_view> key = http::presented_key(req);
  if (!key) return fail(api::unauthenticated());
  const std::string digest = sha256_hex(*key);
  t.table = routes_();
  auto it = t.table->by_name.find(t.endpoint_name);
  if (it != t.table->by_name.end()) {
    const bool primary = http::constant_time_equal(digest, it->second->primary_hash);
    const bool secondary = http::constant_time_equal(digest, it->second->secondary_hash);
    if (primary || secondary) {
      t.route = it->second;
      t.key_slot = primary ? "primary" : "secondary";
    }
  }
  if (!t.route) {
    // A key of a deleted endpoint: 404. A key of another endpoint of the same workspace: 403.
    // Anything else, including a key of another workspace's endpoint and a name that does not
    // exist: 401, so a caller learns nothing it holds no key for.
    if (t.table->deleted_keys.count(digest) > 0) {
      api::ApiError e = api::route_not_found(req.path);
      e.code = "endpoint_not_found";
      e.message = "Endpoint '" + t.endpoint_name.substr(0, 64) + "' not found.";
      return fail(e);
    }
    auto owner = t.table->key_owner.find(digest);
    if (owner != t.table->key_owner.end() && it != t.table->by_name.end() && owner->second == it->second->workspace_id) {
      return fail(api::permission_denied("This key belongs to another endpoint."));
    }
    return fail(api::unauthenticated());
  }
  if (t.spec.route == ApiRoute::kUnknown) return fail(api::route_not_found(t.api_path));
  if (req.method != t.spec.method && !(req.method == "HEAD" && std::string(t.spec.method) == "GET")) {
    return fail(api::method_not_allowed(req.method));
  }
  if (t.spec.route >= ApiRoute::kInfo) {
    handle_passthrough(req, res, t);
    return true;
  }
  handle_inference(req, res, t);
  return true;
}

// Which deployment of the endpoint serves a request: the one the azureml-model-deployment
// header names, else one drawn by the traffic percentages. nullptr when none can.
const DeploymentRoute* Gateway::choose_deployment(const EndpointRoute& r, const http::Request& req,
                                                  api::ApiError* error) const {
  if (const std::string* named = req.header("azureml-model-deployment"); named != nullptr && r.online) {
    for (const DeploymentRoute& d : r.deployments) {
      if (d.name == *named) return &d;
    }
    *error = api::route_not_found(req.path);
    error->code = "deployment_not_found";
    error->message = "The endpoint has no deployment named '" + named->substr(0, 64) + "'.";
    return nullptr;
  }
  int total = 0;
  for (const DeploymentRoute& d : r.deployments) total += d.traffic;
  if (total <= 0) {
    *error = api::route_not_found(req.path);
    error->code = "deployment_not_found";
    error->message = "The endpoint sends no traffic to any deployment: set its traffic, or name one in the "
                     "azureml-model-deployment header.";
    return nullptr;
  }
  int pick = random_percent(total);
  for (const DeploymentRoute& d : r.deployments) {
    if (pick < d.traffic) return &d;
    pick -= d.traffic;
  }
  return &r.deployments.back();
}

void Gateway::handle_inference(http::Request& req, const std::shared_ptr<http::Responder>& res, Target& t) {
  const auto begin = std::chrono::steady_clock::now();
  const EndpointRoute& r = *t.route;
  const bool chat = t.spec.route == ApiRoute::kChat || t.spec.route == ApiRoute::kAzureChat;
  UsageRecord rec;
  rec.id = random_hex(16);
  rec.request_id = req.request_id;
  rec.workspace_id = r.workspace_id;
  rec.endpoint_id = r.id;
  rec.endpoint_name = r.name;
  rec.deployment = r.deployment;
  rec.model_name = r.model_name;
  rec.offering_id = r.offering_id;
  rec.key_slot = t.key_slot;
  rec.route = t.api_path;
  rec.price_input_micro = r.price_input_micro;
  rec.price_output_micro = r.price_output_micro;
  rec.started_at = clock_.now_unix_ms();
  // A refusal after authentication: recorded (zero tokens), answered without waiting for it.
  auto refuse = [&](const api::ApiError& e, const Pairs& extra, const char* outcome = "rejected") {
    rec.status = e.http_status;
    rec.outcome = outcome;
    rec.ended_at = clock_.now_unix_ms();
    meter_.finish(rec);
    count_status(e.http_status);
    send_error(*res, e, t.azure, extra);
  };
  if (!r.subscribed) {
    api::ApiError e = api::permission_denied("The workspace has no marketplace subscription to offering '" +
                                             r.offering_id + "' (model " + r.model_name +
                                             "), so this endpoint cannot serve requests. Create the subscription "
                                             "again to restore it.");
    e.code = "marketplace_subscription_required";
    return refuse(e, {});
  }
  api::ApiError no_deployment;
  const DeploymentRoute* dep = choose_deployment(r, req, &no_deployment);
  if (dep == nullptr) return refuse(no_deployment, {});
  if (r.online) {
    rec.deployment = dep->name;
    rec.model_name = dep->model_name;
  }
  if (!meter_.healthy()) {
    return refuse(api::service_unavailable("Usage metering is unavailable; try again shortly.", 2000), {}, "error");
  }
  if (!http::is_json_content_type(req)) return refuse(api::unsupported_media_type(), {});
  auto parsed = read_inference_request(req.body, chat, r.name, dep->served_name);
  if (!parsed.ok()) return refuse(parsed.error(), {});
  RateDecision decision;  // online endpoints have no token limits: always admitted, no headers
  if (r.limiter) decision = r.limiter->admit(parsed->estimated_tokens);
  if (!decision.admitted()) {
    counters.rate_limited++;
    api::ApiError e = api::rate_limited(decision.message, static_cast<int>(decision.retry_after_ms));
    e.type = decision.type();
    if (decision.kind == RateDecision::kTooLarge) e.retry_after_ms = 0;
    return refuse(e, decision.headers);
  }
  // From here the request holds a reservation: every path reconciles it.
  auto release = [&](const api::ApiError& e, const char* outcome) {
    if (r.limiter) r.limiter->reconcile(decision, 0);
    refuse(e, decision.headers, outcome);
  };
  if (dep->content_safety) {
    if (SafetyVerdict v = safety_.check_prompt(parsed->body); !v.allowed) {
      api::ApiError e = api::invalid_request("The prompt was filtered by the content-safety policy (" + v.category +
                                             ").", chat ? "messages" : "prompt", "content_filter");
      return release(e, "rejected");
    }
  }
  if (dep->state == "Failed") {
    return release(api::service_unavailable("The model instances failed to start: " + dep->failure, 5000), "error");
  }
  std::unique_ptr<InstanceLease> lease = dep->pool ? dep->pool->acquire() : nullptr;
  if (!lease) {
    const char* why = dep->state == "Creating" ? "The deployment is still being created; try again shortly."
                                               : "No model instance is ready; try again shortly.";
    return release(api::service_unavailable(why, 2000), "error");
  }
  if (dep->max_concurrent > 0 && lease->instance().outstanding() > dep->max_concurrent) {
    counters.rate_limited++;
    api::ApiError e = api::rate_limited("Too many concurrent requests for deployment '" + dep->name + "' (at most " +
                                            std::to_string(dep->max_concurrent) + " per instance); try again shortly.",
                                        1000);
    e.code = "too_many_requests";
    return release(e, "rejected");
  }
  auto call = std::make_shared<ProxyCall>();
  call->gateway = this;
  call->responder = res;
  call->route = t.route;
  call->lease = std::move(lease);
  call->decision = std::move(decision);
  call->azure = t.azure;
  call->stream = parsed->stream;
  call->content_safety = dep->content_safety;
  call->pool = dep->pool;
  if (r.online) call->deployment_name = dep->name;
  if (dep->collector) {
    call->collector = dep->collector;
    call->collected_request = req.body;
  }
  if (parsed->stream) call->relay = std::make_unique<SseRelay>(parsed->include_usage, parsed->continuous_usage);
  rec.outcome = "in_progress";
  call->record = rec;
  meter_.begin(rec);

  http::ClientRequest up;
  up.method = "POST";
  up.target = t.api_path + (req.query.empty() ? "" : "?" + req.query);
  up.headers = {{"content-type", "application/json"}, {"x-request-id", req.request_id}};
  if (const std::string* ep = req.header("extra-parameters")) up.headers.push_back({"extra-parameters", *ep});
  up.body = std::move(parsed->forward_body);
  up.connect_timeout_ms = 2000;
  up.response_timeout_ms = dep->request_timeout_ms > 0 ? dep->request_timeout_ms : options_.upstream_timeout_ms;
  up.read_timeout_ms = up.response_timeout_ms;
  // Mirror traffic: a copy to each mirror deployment drawn by its percentage; its answer is
  // dropped and nothing of it is metered or billed.
  for (const DeploymentRoute& m : r.deployments) {
    if (m.mirror > 0 && &m != dep && random_percent(100) < m.mirror) mirror(m, up);
  }
  overhead_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  call->start(client_, std::move(up));
}

void Gateway::mirror(const DeploymentRoute& m, const http::ClientRequest& original) {
  std::shared_ptr<InstanceLease> lease = m.pool ? std::shared_ptr<InstanceLease>(m.pool->acquire()) : nullptr;
  if (!lease) return;
  counters.mirrored++;
  http::ClientRequest copy = original;
  copy.port = lease->instance().port();
  copy.headers.push_back({"authorization", "Bearer " + lease->instance().key()});
  http::ClientHandlers h;
  h.on_complete = [lease](Status) {};  // holds the instance until the mirror's answer is read
  client_.start(std::move(copy), std::move(h));
}

int Gateway::random_percent(int total) const {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, total - 1)(rng);
}

void Gateway::handle_passthrough(http::Request& req, const std::shared_ptr<http::Responder>& res, Target& t) {
  api::ApiError no_deployment;
  const DeploymentRoute* dep = choose_deployment(*t.route, req, &no_deployment);
  if (dep == nullptr) {
    count_status(no_deployment.http_status);
    return send_error(*res, no_deployment, false);
  }
  std::unique_ptr<InstanceLease> lease = dep->pool ? dep->pool->acquire() : nullptr;
  if (!lease) {
    count_status(503);
    return send_error(*res, api::service_unavailable("No model instance is ready; try again shortly.", 2000), false);
  }
  http::ClientRequest up;
  up.method = req.method;
  up.port = lease->instance().port();
  up.target = t.api_path + (req.query.empty() ? "" : "?" + req.query);
  up.headers = {{"authorization", "Bearer " + lease->instance().key()}, {"x-request-id", req.request_id}};
  if (const std::string* ct = req.header("content-type")) up.headers.push_back({"content-type", *ct});
  up.body = std::move(req.body);
  up.connect_timeout_ms = 2000;
  up.response_timeout_ms = 60000;
  up.read_timeout_ms = 60000;
  struct State {
    http::ClientResponseHead head;
    std::string body;
  };
  auto st = std::make_shared<State>();
  auto shared_lease = std::shared_ptr<InstanceLease>(std::move(lease));
  http::ClientHandlers h;
  h.on_head = [st](http::ClientResponseHead&& head) { st->head = std::move(head); };
  h.on_data = [st](std::string&& d) {
    if (st->body.size() < (16u << 20)) st->body += d;
  };
  h.on_complete = [this, st, res, shared_lease](Status s) {
    if (!s.ok()) {
      count_status(502);
      api::ApiError e = api::service_unavailable("The model instance did not answer.", 1000);
      return send_error(*res, e, false);
    }
    std::vector<http::Header> headers;
    if (const std::string* ct = st->head.header("content-type")) headers.push_back({"content-type", *ct});
    count_status(st->head.status);
    res->send(st->head.status, std::move(headers), std::move(st->body));
  };
  auto call = client_.start(std::move(up), std::move(h));
  res->on_close([call] { call->cancel(); });
}

std::string Gateway::render_metrics() const {
  std::string out;
  prom::help(out, "maas:gateway_requests_total", "counter", "Requests routed to endpoints, by status class.");
  prom::sample(out, "maas:gateway_requests_total", "code=\"2xx\"", double(counters.status_2xx.load()));
  prom::sample(out, "maas:gateway_requests_total", "code=\"4xx\"", double(counters.status_4xx.load()));
  prom::sample(out, "maas:gateway_requests_total", "code=\"5xx\"", double(counters.status_5xx.load()));
  prom::help(out, "maas:gateway_rate_limited_total", "counter", "Requests refused by a rate limit (429).");
  prom::sample(out, "maas:gateway_rate_limited_total", "", double(counters.rate_limited.load()));
  prom::help(out, "maas:gateway_mirrored_total", "counter", "Copies sent to mirror deployments (not billed).");
  prom::sample(out, "maas:gateway_mirrored_total", "", double(counters.mirrored.load()));
  prom::help(out, "maas:gateway_cancelled_total", "counter", "Requests whose client went away.");
  prom::sample(out, "maas:gateway_cancelled_total", "", double(counters.cancelled.load()));
  prom::help(out, "maas:gateway_overhead_seconds", "histogram", "Gateway time before the request reaches a worker.");
  overhead_seconds.render("maas:gateway_overhead_seconds", "", out);
  prom::help(out, "maas:gateway_record_wait_seconds", "histogram",
             "From the worker's last byte to the usage record being durable.");
  record_wait_seconds.render("maas:gateway_record_wait_seconds", "", out);
  MeterStats ms = meter_.stats();
  prom::help(out, "maas:usage_commits_total", "counter", "Usage ledger commits (each shared by many records).");
  prom::sample(out, "maas:usage_commits_total", "", double(ms.commits));
  prom::help(out, "maas:usage_records_total", "counter", "Usage records committed.");
  prom::sample(out, "maas:usage_records_total", "", double(ms.records));
  prom::help(out, "maas:usage_commit_failures_total", "counter", "Failed ledger commits (retried).");
  prom::sample(out, "maas:usage_commit_failures_total", "", double(ms.failed_commits));
  prom::help(out, "maas:usage_queued", "gauge", "Usage records waiting for a commit.");
  prom::sample(out, "maas:usage_queued", "", double(ms.queued));
  prom::help(out, "maas:usage_commit_seconds", "histogram", "Duration of one ledger commit (fsync included).");
  meter_.commit_seconds.render("maas:usage_commit_seconds", "", out);
  return out;
}

}  // namespace maas::gateway
