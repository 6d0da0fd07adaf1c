// worker_server.cc — startup, routing, auth and the operations routes of `maas worker`.
#include "worker/worker_server.h"

#include <algorithm>
#include <chrono>
#include <ctime>
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
  const bool kv_blocks_given = options_.engine.n_kv_blocks > 0;  // --kv-blocks; else the loader sizes it
  LoaderOptions lo;
  lo.model_path = options_.model_path;
  lo.load = options_.load;
  lo.engine = options_.engine;
  lo.served_model_name = options_.model_name;
  lo.chat_template = options_.chat_template;
  ASSIGN_OR_RETURN(LoadedModel loaded, load_served_model(lo));
  model_ = std::move(loaded.model);
  tokenizer_ = std::move(loaded.tokenizer);
  template_ = std::move(loaded.chat_template);
  options_.model_name = loaded.served_name;
  options_.engine = loaded.engine;  // n_ctx: the context, clamped once by the loader
  renderer_ = std::make_unique<ChatRenderer>(*tokenizer_, *template_);
  max_piece_bytes_ = max_piece_bytes(*tokenizer_);
  options_.engine.on_step = [this](const StepReport& step) { metrics_.observe_step(step); };
  // The KV cache's element type: auto resolved for the backend, and refused here (not in the
  // engine's constructor) when the backend or the model cannot hold it.
  const KvType kv_type = kv_type_for_backend(options_.engine.kv_type, model_->backend().name());
  options_.engine.kv_type = kv_type;
  if (auto probe = model_->allocate_kv_cache({.n_blocks = 1, .block_size = 1, .type = kv_type}); !probe.ok()) {
    return probe.status();
  }
  if (!kv_blocks_given) {
    RETURN_IF_ERROR(size_device_kv_cache(kv_type));
  } else if (const int64_t budget = model_->backend().kv_cache_budget_bytes(); budget >= 0) {
    // An explicit --kv-blocks on a device: refuse what the device cannot hold here, as a Status,
    // rather than let the engine's allocation fail.
    const size_t want = kv_block_bytes(model_->config(), options_.engine.kv_block_size, kv_type) *
                        static_cast<size_t>(options_.engine.n_kv_blocks);
    if (want > static_cast<size_t>(budget)) {
      return resource_exhausted("--kv-blocks " + std::to_string(options_.engine.n_kv_blocks) + " needs " +
                                std::to_string(want >> 20) + " MiB of KV cache on " + model_->backend().name() +
                                ", but --gpu-memory-fraction " + std::to_string(options_.load.gpu_memory_fraction) +
                                " leaves " + std::to_string(budget >> 20) + " MiB after the weights");
    }
  }
  outputs_ = std::make_unique<OutputExecutor>(2);
  engine_ = std::make_unique<Engine>(*model_, *tokenizer_, options_.engine);
  const int32_t cache_positions = engine_->stats().n_kv_blocks_total * options_.engine.kv_block_size;
  LOG_INFO("KV cache: %s, %d positions, %.1f MiB", kv_type_name(kv_type), cache_positions,
           static_cast<double>(kv_bytes_per_token(kv_type, model_->config())) * cache_positions / (1 << 20));
  engine_->start();
  ready_.store(true);
  return Status::Ok();
}

// On a device backend with no --kv-blocks given, the KV cache takes the device memory that
// --gpu-memory-fraction leaves after the weights (Backend::kv_cache_budget_bytes), in blocks of
// the cache's element type; the context is clamped again to what those blocks hold.
Status WorkerServer::size_device_kv_cache(KvType kv_type) {
  const int64_t budget = model_->backend().kv_cache_budget_bytes();
  if (budget < 0) return Status::Ok();
  const size_t per_block = kv_block_bytes(model_->config(), options_.engine.kv_block_size, kv_type);
  const int64_t blocks = std::min<int64_t>(budget / static_cast<int64_t>(per_block), 1 << 24);
  Backend::DeviceMemory mem;
  const bool have = model_->backend().device_memory(&mem);
  if (blocks < 1) {
    return resource_exhausted("no device memory left for the KV cache on " + model_->backend().name() + ": " +
                              std::to_string(have ? mem.used >> 20 : 0) + " MiB used of " +
                              std::to_string(have ? mem.total >> 20 : 0) + " MiB with the weights loaded (" +
                              std::to_string(mem.weights >> 20) + " MiB), --gpu-memory-fraction " +
                              std::to_string(options_.load.gpu_memory_fraction) + "; one block needs " +
                              std::to_string(per_block >> 10) + " KiB");
  }
  options_.engine.n_kv_blocks = static_cast<int32_t>(blocks);
  const int64_t positions = blocks * options_.engine.kv_block_size;
  if (positions < options_.engine.n_ctx) {
    LOG_WARN("the KV cache holds %lld positions, fewer than the context %d: max_model_len is %lld",
             static_cast<long long>(positions), options_.engine.n_ctx, static_cast<long long>(positions));
    options_.engine.n_ctx = static_cast<int32_t>(positions);
  }
  LOG_INFO("KV cache on %s: %lld blocks of %d positions (%.2f GiB)", model_->backend().name().c_str(),
           static_cast<long long>(blocks), options_.engine.kv_block_size,
           static_cast<double>(blocks) * static_cast<double>(per_block) / 1073741824.0);
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
    case kMetrics: {
      std::string text =
          metrics_.render(options_.model_name, engine_->stats(), ready_.load(), options_.engine.step_time_target_s);
      Backend::DeviceMemory mem;
      if (model_->backend().device_memory(&mem)) WorkerMetrics::render_device_memory(options_.model_name, mem, text);
      res->send(200, {{"content-type", "text/plain; version=0.0.4"}}, text);
      return;
    }
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
  const bool chat = !options_.chat_template.empty() || model_->file().find(gguf_key::kChatTemplate) != nullptr;
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
