// platform.cc — workspaces, models, subscriptions and serverless endpoints: validation,
// store changes, pools and the published routing table.
#include "control/platform.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "control/catalog.h"
#include "control/crypto.h"
#include "control/names.h"
#include "control/process.h"

namespace maas {

Platform::Platform(Store& store, const MasterSecret& master, Supervisor& supervisor, const Clock& clock,
                   PlatformOptions options)
    : store_(store), master_(master), supervisor_(supervisor), clock_(clock), options_(std::move(options)),
      routes_(std::make_shared<RoutingTable>()) {
  supervisor_.set_on_change([this](const std::string& d, const PoolStatus& s) { on_pool_change(d, s); });
}

Platform::~Platform() { supervisor_.set_on_change(nullptr); }

void Platform::set_public_url(std::string url) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.public_url = std::move(url);
}

std::shared_ptr<const RoutingTable> Platform::routes() const {
  std::lock_guard<std::mutex> lock(routes_mu_);
  return routes_;
}

Status Platform::start() {
  std::vector<std::string> unfinished;
  std::vector<OnlineEndpoint> unfinished_online;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto endpoints, store_.list_endpoints(""));
    for (const ServerlessEndpoint& e : endpoints) {
      if (e.state == "Deleting") {
        unfinished.push_back(e.id);
        continue;
      }
      auto model = store_.model(e.model_name);
      if (!model.ok()) continue;
      Status s = ensure_pool(*model);
      if (!s.ok()) LOG_WARN("endpoint %s: %s", e.name.c_str(), s.message().c_str());
    }
    // Managed compute: instance-hours of the previous run end at its last heartbeat; every
    // deployment that was not Failed starts again (new instance-hours from now).
    ASSIGN_OR_RETURN(int64_t closed, store_.close_stale_instance_hours());
    if (closed > 0) LOG_INFO("instance-hours: %lld rows left open by the previous run closed", static_cast<long long>(closed));
    ASSIGN_OR_RETURN(auto online, store_.list_online_endpoints(""));
    for (const OnlineEndpoint& e : online) {
      if (e.state == "Deleting") {
        unfinished_online.push_back(e);
        continue;
      }
      ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(e.id));
      for (const OnlineDeployment& d : deployments) {
        if (d.state == "Failed") continue;
        Status s = start_online_pool(e, d, true);
        if (!s.ok()) (void)store_.set_deployment_state(d.id, "Failed", s.message());
      }
    }
    RETURN_IF_ERROR(rebuild_routes());
  }
  for (const OnlineEndpoint& e : unfinished_online) RETURN_IF_ERROR(delete_online_endpoint_locked(e));
  for (const std::string& id : unfinished) {  // a deletion interrupted by a restart: nothing is in flight now
    auto e = store_.endpoint_by_id(id);
    if (!e.ok()) continue;
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(store_.mark_endpoint_deleted(id));
    release_pool_if_unused(e->model_name);
    RETURN_IF_ERROR(rebuild_routes());
  }
  return Status::Ok();
}

// ---- routing -----------------------------------------------------------------------------

std::shared_ptr<RateLimiter> Platform::limiter_for(const ServerlessEndpoint& e) {
  const RateLimits limits{e.requests_per_minute, e.tokens_per_minute};
  auto& l = limiters_[e.id];
  if (!l) l = std::make_shared<RateLimiter>(clock_, limits, options_.rate_window_ms);
  else l->set_limits(limits);
  return l;
}

Status Platform::rebuild_routes() {
  ASSIGN_OR_RETURN(auto endpoints, store_.list_endpoints(""));
  ASSIGN_OR_RETURN(auto offerings, store_.list_offerings());
  auto table = std::make_shared<RoutingTable>();
  ASSIGN_OR_RETURN(auto gone, store_.deleted_endpoint_key_hashes(clock_.now_unix_ms() - 30LL * 86400000));
  table->deleted_keys.insert(gone.begin(), gone.end());
  for (const ServerlessEndpoint& e : endpoints) {
    if (deleting_.count(e.id) > 0 || e.state == "Deleting") {
      table->deleted_keys.insert(e.primary.hash);
      table->deleted_keys.insert(e.secondary.hash);
      continue;
    }
    auto route = std::make_shared<EndpointRoute>();
    route->id = e.id;
    route->name = e.name;
    route->workspace_id = e.workspace_id;
    route->region = e.region;
    route->model_name = e.model_name;
    route->served_name = e.model_name;
    route->offering_id = e.offering_id;
    route->deployment = serverless_deployment(e.model_name);
    route->primary_hash = e.primary.hash;
    route->secondary_hash = e.secondary.hash;
    for (const Offering& o : offerings) {
      if (o.id != e.offering_id) continue;
      route->price_input_micro = o.price_input_micro;
      route->price_output_micro = o.price_output_micro;
    }
    route->state = e.state;
    route->failure = e.failure_reason;
    ASSIGN_OR_RETURN(auto sub, store_.subscription_for_offering(e.workspace_id, e.offering_id));
    route->subscribed = sub.has_value();
    route->limiter = limiter_for(e);
    auto& counter = inflight_[e.id];
    if (!counter) counter = std::make_shared<std::atomic<int>>(0);
    route->inflight = counter;
    auto pool = pools_.find(route->deployment);
    route->pool = pool == pools_.end() ? nullptr : pool->second;
    DeploymentRoute dep;
    dep.deployment = route->deployment;
    dep.model_name = e.model_name;
    dep.served_name = e.model_name;
    dep.pool = route->pool;
    dep.traffic = 100;
    dep.state = e.state;
    dep.failure = e.failure_reason;
    route->deployments.push_back(std::move(dep));
    table->key_owner[e.primary.hash] = e.workspace_id;
    table->key_owner[e.secondary.hash] = e.workspace_id;
    table->by_name[e.name] = std::move(route);
  }
  add_online_routes(*table);
  std::lock_guard<std::mutex> lock(routes_mu_);
  routes_ = std::move(table);
  return Status::Ok();
}

Status Platform::ensure_pool(const Model& model) {
  if (model.weights_path.empty()) {
    return failed_precondition("model '" + model.name + "' has no local weights");
  }
  InstanceSpec spec;
  spec.model_path = model.weights_path;
  spec.served_name = model.name;
  spec.extra_args = weights_cache_args(model.weights_sha256);
  const std::string d = serverless_deployment(model.name);
  pools_[d] = supervisor_.set_deployment(d, spec, std::max(1, model.serverless_instances));
  return Status::Ok();
}

std::vector<std::string> Platform::weights_cache_args(const std::string& sha256) const {
  if (options_.weights_cache_dir.empty() || sha256.size() != 64) return {};
  return {"--weights-cache", options_.weights_cache_dir, "--weights-sha256", sha256};
}

void Platform::release_pool_if_unused(const std::string& model_name) {
  auto endpoints = store_.list_endpoints("");
  if (!endpoints.ok()) return;
  for (const ServerlessEndpoint& e : *endpoints) {
    if (e.model_name == model_name && deleting_.count(e.id) == 0) return;
  }
  const std::string d = serverless_deployment(model_name);
  if (pools_.erase(d) > 0) {
    LOG_INFO("no serverless endpoint uses %s any more: stopping its pool", model_name.c_str());
    supervisor_.remove_deployment(d);
  }
}

void Platform::on_pool_change(const std::string& deployment, const PoolStatus& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (deployment.rfind("online/", 0) == 0) return on_online_pool_change(deployment, status);
  auto endpoints = store_.list_endpoints("");
  if (!endpoints.ok()) return;
  bool changed = false;
  for (const ServerlessEndpoint& e : *endpoints) {
    if (serverless_deployment(e.model_name) != deployment || e.state == "Deleting") continue;
    std::string state = e.state, reason = e.failure_reason;
    if (status.n_ready > 0) {
      state = "Succeeded";
      reason.clear();
    } else if (status.failed) {
      state = "Failed";
      reason = status.failure;
    }
    if (state == e.state && reason == e.failure_reason) continue;
    if (store_.set_endpoint_state(e.id, state, reason).ok()) changed = true;
    LOG_INFO("serverless endpoint %s: %s%s%s", e.name.c_str(), state.c_str(), reason.empty() ? "" : ": ",
             reason.c_str());
  }
  if (changed) (void)rebuild_routes();
}

std::string Platform::endpoint_url(const ServerlessEndpoint& e) const {
  return options_.public_url + "/endpoints/" + e.name;
}

std::string Platform::endpoint_host(const ServerlessEndpoint& e) const {
  return options_.domain.empty() ? "" : e.name + "." + e.region + "." + options_.domain;
}

std::vector<std::pair<std::string, std::string>> Platform::rate_limit_state(const std::string& endpoint_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = limiters_.find(endpoint_id);
  if (it == limiters_.end()) return {};
  return it->second->headers();
}

int Platform::inflight(const std::string& endpoint_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inflight_.find(endpoint_id);
  return it == inflight_.end() ? 0 : it->second->load();
}

// ---- workspaces --------------------------------------------------------------------------

StatusOr<Workspace> Platform::create_workspace(const std::string& name, const std::string& region) {
  RETURN_IF_ERROR(validate_resource_name(name, "workspace name"));
  const std::string r = region.empty() ? options_.region : region;
  RETURN_IF_ERROR(validate_region(r));
  if (r != options_.region) {
    return invalid_argument("region '" + r + "' is not served here (this platform serves region '" + options_.region + "')");
  }
  return store_.create_workspace(name, r);
}

StatusOr<Workspace> Platform::workspace(const std::string& name) { return store_.workspace(name); }

// ---- models ------------------------------------------------------------------------------

StatusOr<ModelFileInfo> Platform::inspect_model_file(const std::string& path) {
  ASSIGN_OR_RETURN(ModelFileInfo info, check_model_file(path));
  ASSIGN_OR_RETURN(info.sha256, sha256_file_hex(path));
  return info;
}

StatusOr<ModelFileInfo> Platform::check_model_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return invalid_argument("no such model file: " + path);
  ASSIGN_OR_RETURN(CommandResult r, run_command(options_.maas_binary,
                                                {options_.maas_binary, "model", "check", path, "--output", "json"},
                                                120000));
  if (r.exit_code != 0) {
    std::string why = r.output;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    const size_t nl = why.rfind('\n');
    if (nl != std::string::npos) why = why.substr(nl + 1);
    if (why.rfind("error: ", 0) == 0) why = why.substr(7);
    if (why.empty()) why = "the model check did not finish";
    return invalid_argument("not a usable Llama GGUF model: " + why);
  }
  nlohmann::json j = nlohmann::json::parse(r.output.substr(r.output.rfind('{')), nullptr, false);
  if (j.is_discarded()) return internal_error("model check printed no summary");
  ModelFileInfo info;
  info.path = path;
  info.name = j.value("name", "");
  info.bytes = j.value("file_bytes", int64_t{0});
  info.parameters = j.value("parameters", int64_t{0});
  info.context_length = j.value("context_length", 0);
  info.chat = j.value("chat_template", false);
  info.kv_bytes_per_token = j.value("kv_bytes_per_token", int64_t{0});
  info.kv_cache_dtype = j.value("kv_cache_dtype", std::string("f32"));
  return info;
}

StatusOr<Model> Platform::register_model(const std::string& name, const std::string& path, bool allow_new,
                                         int64_t price_input_micro, int64_t price_output_micro) {
  if (name.empty() || name.size() > 64) return invalid_argument("model name must be 1 to 64 characters");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return invalid_argument("model name may contain only letters, digits, '-', '.' and '_'");
    }
  }
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
  ASSIGN_OR_RETURN(ModelFileInfo info, inspect_model_file(abs));
  std::lock_guard<std::mutex> lock(mu_);
  auto existing = store_.model(name);
  if (existing.ok()) {
    RETURN_IF_ERROR(store_.set_model_weights(name, abs, info.sha256, info.bytes));
  } else if (existing.status().code() == StatusCode::kNotFound && allow_new) {
    Model m = name == kDefaultModelName ? default_model_entry(info.context_length, info.parameters) : Model{};
    if (name != kDefaultModelName) {
      m.name = name;
      m.display_name = name;
      m.publisher = "custom";
      m.family = "Llama";
      m.task = info.chat ? "chat-completions" : "text-generation";
      m.license = "custom";
      m.parameters = info.parameters;
      m.context_length = info.context_length;
      m.description = "A custom model registered from " + abs + ".";
      m.custom = true;
    }
    m.weights_path = abs;
    m.weights_sha256 = info.sha256;
    m.weights_bytes = info.bytes;
    m.weights_registered_at = clock_.now_unix_ms();
    RETURN_IF_ERROR(store_.add_custom_model(m, custom_offering(m, price_input_micro, price_output_micro)).status());
  } else if (existing.status().code() == StatusCode::kNotFound) {
    return not_found("model '" + name + "' is not in the catalog (add it as a custom model with --custom)");
  } else {
    return existing.status();
  }
  ASSIGN_OR_RETURN(Model m, store_.model(name));
  if (pools_.count(serverless_deployment(name)) > 0) RETURN_IF_ERROR(ensure_pool(m));  // new file: restart the pool
  return m;
}

Status Platform::remove_model(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Model m, store_.model(name));
  ASSIGN_OR_RETURN(auto endpoints, store_.list_endpoints(""));
  for (const ServerlessEndpoint& e : endpoints) {
    if (e.model_name == name) {
      return failed_precondition("model '" + name + "' is used by serverless endpoint '" + e.name + "'");
    }
  }
  ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(""));
  for (const OnlineDeployment& d : deployments) {
    if (d.model_name == name) return failed_precondition("model '" + name + "' is used by deployment '" + d.name + "'");
  }
  RETURN_IF_ERROR(m.custom ? store_.delete_model(name) : store_.clear_model_weights(name));
  forget_weights_cache(m.weights_sha256);
  return Status::Ok();
}

// The shared re-laid copies of a file no model uses any more: `<sha256>.*` in the cache dir.
void Platform::forget_weights_cache(const std::string& sha256) {
  if (options_.weights_cache_dir.empty() || sha256.size() != 64) return;
  auto models = store_.list_models();
  if (!models.ok()) return;
  for (const Model& other : *models) {
    if (other.weights_sha256 == sha256) return;  // another entry registered the same file
  }
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(options_.weights_cache_dir, ec)) {
    if (f.path().filename().string().rfind(sha256 + ".", 0) == 0) std::filesystem::remove(f.path(), ec);
  }
}

StatusOr<Model> Platform::set_serverless_instances(const std::string& name, int32_t instances) {
  if (instances < 1 || instances > 64) return invalid_argument("serverless_instances must be between 1 and 64");
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(store_.set_serverless_instances(name, instances));
  ASSIGN_OR_RETURN(Model m, store_.model(name));
  if (pools_.count(serverless_deployment(name)) > 0) RETURN_IF_ERROR(ensure_pool(m));
  return m;
}

Status Platform::set_offering_prices(const std::string& id, int64_t input_micro, int64_t output_micro) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(store_.set_offering_prices(id, input_micro, output_micro));
  return rebuild_routes();
}

// ---- marketplace subscriptions -----------------------------------------------------------

StatusOr<Subscription> Platform::subscribe(const std::string& workspace, const std::string& name,
                                           const std::string& model_or_offering) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  if (model_or_offering.empty()) return invalid_argument("name the model (or offering) to subscribe to");
  auto offering = store_.offering(model_or_offering);
  if (!offering.ok()) offering = store_.offering_for_model(model_or_offering);
  if (!offering.ok()) return not_found("no marketplace offering for '" + model_or_offering + "'");
  const std::string sub_name = name.empty() ? offering_slug(offering->model_name) : name;
  RETURN_IF_ERROR(validate_resource_name(sub_name, "marketplace subscription name"));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Subscription s, store_.create_subscription(ws.id, sub_name, *offering));
  RETURN_IF_ERROR(rebuild_routes());
  return s;
}

Status Platform::unsubscribe(const std::string& workspace, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(store_.delete_subscription(ws.id, name));
  return rebuild_routes();
}

}  // namespace maas
