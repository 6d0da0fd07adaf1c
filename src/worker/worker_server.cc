// worker_server.cc — startup, routing, auth and the operations routes of `maas worker`.
#include "worker/worker_server.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "gguf/gguf_names.h"
#include "http/cors.h"
#include "http/key_auth.h"
#include "http/router.h"

namespace maas {
namespace {

using Json = nlohmann::ordered_json;

enum Route { kHealth, kReady, kInfo, kModels, kMetrics, kOpenApi, kTokenize, kDetokenize,
             kCompletions, kChat, kAzureCompletions, kAzureChat };

const http::Router& routes() {
  static const http::Router* router = [] {
    auto* r = new http::Router();
    for (const char* p : {"/health", "/health/live"}) r->add("GET", p, kHealth);
    r->add("GET", "/health/ready", kReady);
    r->add("GET", "/info", kInfo);
    r->add("GET", "/v1/models", kModels);
    r->add("GET", "/metrics", kMetrics);
    for (const char* p : {"/openapi.json", "/swagger.json"}) r->add("GET", p, kOpenApi);
    r->add("POST", "/tokenize", kTokenize);
    r->add("POST", "/detokenize", kDetokenize);
    r->add("POST", "/v1/completions", kCompletions);
    r->add("POST", "/v1/chat/completions", kChat);
    r->add("POST", "/completions", kAzureCompletions);
    r->add("POST", "/chat/completions", kAzureChat);
    return r;
  }();
  return *router;
}

bool is_azure_path(std::string_view path) { return path == "/completions" || path == "/chat/completions"; }

}  // namespace

std::vector<http::Header> http_headers(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<http::Header> out;
  for (const auto& [n, v] : pairs) out.push_back({n, v});
  return out;
}

WorkerServer::WorkerServer(WorkerOptions options) : options_(std::move(options)) {
  created_ = static_cast<int64_t>(std::time(nullptr));
  http::ServerOptions ho;
  ho.host = options_.host;
  ho.port = options_.port;
  http_ = std::make_unique<http::Server>(ho, [this](http::Request&& req, std::shared_ptr<http::Responder> res) {
    handle(std::move(req), std::move(res));
  });
}

WorkerServer::~WorkerServer() {
  if (http_) http_->stop();
  engine_.reset();
  if (outputs_) outputs_->drain();
}

Status WorkerServer::start_http() { return http_->start(); }
uint16_t WorkerServer::port() const { return http_->port(); }

Status WorkerServer::load() {
  ASSIGN_OR_RETURN(model_, load_model(options_.model_path, options_.load));
  ASSIGN_OR_RETURN(tokenizer_, Tokenizer::from_gguf(model_->file()));
  ASSIGN_OR_RETURN(ChatTemplate tmpl, chat_template_from_gguf(model_->file()));
  template_ = std::make_unique<ChatTemplate>(std::move(tmpl));
  renderer_ = std::make_unique<ChatRenderer>(*tokenizer_, *template_);
  max_piece_bytes_ = max_piece_bytes(*tokenizer_);
  if (options_.model_name.empty()) {
    options_.model_name = model_->config().name.empty()
                              ? std::filesystem::path(options_.model_path).stem().string()
                              : model_->config().name;
  }
  options_.engine.n_ctx = std::min(options_.engine.n_ctx, model_->config().n_ctx_train);
  options_.engine.on_step = [this](const StepReport& step) { metrics_.observe_step(step); };
  // The KV cache's element type: auto resolved for the backend, and refused here (not in the
  // engine's constructor) when the backend or the model cannot hold it.
  const KvType kv_type = kv_type_for_backend(options_.engine.kv_type, model_->backend().name());
  options_.engine.kv_type = kv_type;
  if (auto probe = model_->allocate_kv_cache({.n_blocks = 1, .block_size = 1, .type = kv_type}); !probe.ok()) {
    return probe.status();
  }
  outputs_ = std::make_unique<OutputExecutor>(2);
  engine_ = std::make_unique<Engine>(*model_, *tokenizer_, options_.engine);
  // A request must fit the whole KV cache to ever finish: advertise and enforce the smaller of
  // the context and the cache, so one that cannot fit gets a 400 up front, not a retryable 503.
  const int32_t cache_positions = engine_->stats().n_kv_blocks_total * options_.engine.kv_block_size;
  LOG_INFO("KV cache: %s, %d positions, %.1f MiB", kv_type_name(kv_type), cache_positions,
           static_cast<double>(kv_bytes_per_token(kv_type, model_->config())) * cache_positions / (1 << 20));
  if (cache_positions < options_.engine.n_ctx) {
    LOG_WARN("the KV cache holds %d positions, fewer than the context %d: max_model_len is %d", cache_positions,
             options_.engine.n_ctx, cache_positions);
    options_.engine.n_ctx = cache_positions;
  }
  engine_->start();
  ready_.store(true);
  return Status::Ok();
}

void WorkerServer::drain_and_stop() {
  ready_.store(false);
  draining_.store(true);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.drain_timeout_s);
  while (inflight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (inflight_.load() > 0) LOG_WARN("drain deadline passed with %d requests in flight; cancelling", inflight_.load());
  engine_.reset();  // cancels what is left: each gets its final output
  if (outputs_) outputs_->drain();  // ... encoded and handed to its connection
  http_->stop();
}

bool WorkerServer::authorized(const http::Request& req) const {
  if (options_.api_keys.empty()) return true;
  std::optional<std::string_view> presented = http::presented_key(req);
  return presented && http::key_in(*presented, options_.api_keys);
}

void WorkerServer::send_json(const std::shared_ptr<http::Responder>& res, int status, const std::string& body) {
  res->send(status, {{"content-type", "application/json"}}, body);
}

void WorkerServer::send_error(const std::shared_ptr<http::Responder>& res, const api::ApiError& err, bool azure) {
  api::HttpErrorResponse r = api::render_api_error(err, azure);
  res->send(r.status, http_headers(r.headers), r.body);
}

void WorkerServer::handle(http::Request&& req, std::shared_ptr<http::Responder> res) {
  if (http::is_preflight(req)) return http::answer_preflight(*res);  // no handler runs, no key needed
  const http::Router::Match m = routes().match(req.method, req.path);
  const bool azure = is_azure_path(req.path);
  const bool found = m.kind == http::Router::Match::kFound;
  if (found && m.route == kHealth) {
    bool alive = !engine_ || engine_->healthy();
    send_json(res, alive ? 200 : 503, alive ? R"({"status":"ok"})" : R"({"status":"unhealthy"})");
    return;
  }
  if (found && m.route == kReady) {
    bool ready = ready_.load() && engine_ && engine_->healthy();
    send_json(res, ready ? 200 : 503, ready ? R"({"status":"ok"})" : (draining_ ? R"({"status":"draining"})" : R"({"status":"loading"})"));
    return;
  }
  if (!authorized(req)) return send_error(res, api::unauthenticated(), azure);
  if (m.kind == http::Router::Match::kNotFound) return send_error(res, api::route_not_found(req.path), azure);
  if (m.kind == http::Router::Match::kMethodNotAllowed) return send_error(res, api::method_not_allowed(req.method), azure);
  if (m.route == kOpenApi) return send_json(res, 200, openapi_document());
  if (!ready_.load()) {
    return send_error(res, api::service_unavailable(draining_ ? "the server is shutting down" : "the model is loading", 1000), azure);
  }
  switch (m.route) {
    case kInfo: return send_json(res, 200, info_json());
    case kModels: return send_json(res, 200, models_json());
    case kMetrics:
      res->send(200, {{"content-type", "text/plain; version=0.0.4"}},
                metrics_.render(options_.model_name, engine_->stats(), ready_.load(), options_.engine.step_time_target_s));
      return;
    case kTokenize: return handle_tokenize(req, res);
    case kDetokenize: return handle_detokenize(req, res);
    case kCompletions: return handle_inference(std::move(req), std::move(res), false, false);
    case kChat: return handle_inference(std::move(req), std::move(res), true, false);
    case kAzureCompletions: return handle_inference(std::move(req), std::move(res), false, true);
    case kAzureChat: return handle_inference(std::move(req), std::move(res), true, true);
    default: return send_error(res, api::route_not_found(req.path), azure);
  }
}

std::string WorkerServer::info_json() const {
  const bool chat = model_->file().find(gguf_key::kChatTemplate) != nullptr;
  Json j = {{"model_name", options_.model_name},
            {"model_type", chat ? "chat-completions" : "text-generation"},
            {"model_provider_name", "Meta"}};
  return j.dump();
}

std::string WorkerServer::models_json() const {
  Json model = {{"id", options_.model_name}, {"object", "model"}, {"created", created_},
                {"owned_by", "maas"}, {"max_model_len", options_.engine.n_ctx}};
  Json j = {{"object", "list"}, {"data", Json::array({model})}};
  return j.dump();
}

}  // namespace maas
