// platform_online.cc — managed compute: online endpoints and their deployments, rolling
// changes, pools and routes, instance-hours, shared-quota expiry (capacity: platform_capacity.cc).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <deque>
#include <fstream>
#include <iterator>
#include <thread>

#include "base/log.h"
#include "control/crypto.h"
#include "control/instance_types.h"
#include "control/names.h"
#include "control/platform.h"

namespace maas {
namespace {

constexpr int64_t kSharedQuotaLifetimeMs = 168LL * 3600 * 1000;

int sum(const TrafficMap& m) {
  int s = 0;
  for (const auto& [n, p] : m) s += p;
  return s;
}

int pct(const TrafficMap& m, const std::string& name) {
  for (const auto& [n, p] : m) {
    if (n == name) return p;
  }
  return 0;
}

}  // namespace

std::string Platform::endpoint_url(const std::string& name) const { return options_.public_url + "/endpoints/" + name; }

// ---- online endpoints --------------------------------------------------------------------

StatusOr<OnlineEndpoint> Platform::create_online_endpoint(const std::string& workspace, const std::string& name,
                                                          const std::string& auth_mode, bool shared_quota) {
  RETURN_IF_ERROR(validate_resource_name(name, "online endpoint name"));
  if (!auth_mode.empty() && auth_mode != "key") return invalid_argument("auth_mode must be 'key'");
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  OnlineEndpoint e;
  e.id = new_id("oe-");
  e.workspace_id = ws.id;
  e.name = name;
  e.region = ws.region;
  e.state = "Succeeded";
  e.primary = new_endpoint_key(master_, e.id, KeySlot::kPrimary);
  e.secondary = new_endpoint_key(master_, e.id, KeySlot::kSecondary);
  e.shared_quota = shared_quota;
  e.created_at = e.updated_at = clock_.now_unix_ms();
  e.expires_at = shared_quota ? e.created_at + kSharedQuotaLifetimeMs : 0;
  ASSIGN_OR_RETURN(OnlineEndpoint created, store_.create_online_endpoint(e));
  RETURN_IF_ERROR(rebuild_routes());
  return created;
}

StatusOr<OnlineEndpoint> Platform::update_online_traffic(const std::string& workspace, const std::string& name,
                                                         std::optional<TrafficMap> traffic,
                                                         std::optional<TrafficMap> mirror) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, name));
  ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(e.id));
  const TrafficMap t = traffic.value_or(e.traffic), m = mirror.value_or(e.mirror_traffic);
  for (const TrafficMap* map : {&t, &m}) {
    const char* field = map == &t ? "traffic" : "mirror_traffic";
    for (const auto& [dep, p] : *map) {
      if (p < 0 || p > 100) return invalid_argument(std::string(field) + " percentages must be 0 to 100");
      const bool known = std::any_of(deployments.begin(), deployments.end(),
                                     [&](const OnlineDeployment& d) { return d.name == dep; });
      if (!known) return invalid_argument(std::string(field) + " names deployment '" + dep + "', which does not exist");
    }
  }
  if (sum(t) != 0 && sum(t) != 100) {
    return invalid_argument("traffic percentages must sum to 0 or 100 (they sum to " + std::to_string(sum(t)) + ")");
  }
  if (sum(m) > 50) {
    return invalid_argument("mirror_traffic percentages must sum to at most 50 (they sum to " + std::to_string(sum(m)) + ")");
  }
  for (const auto& [dep, p] : m) {
    if (p > 0 && pct(t, dep) > 0) {
      return invalid_argument("mirror_traffic: deployment '" + dep + "' already receives live traffic");
    }
  }
  TrafficMap clean_t, clean_m;  // zero entries are dropped
  std::copy_if(t.begin(), t.end(), std::back_inserter(clean_t), [](const auto& x) { return x.second > 0; });
  std::copy_if(m.begin(), m.end(), std::back_inserter(clean_m), [](const auto& x) { return x.second > 0; });
  RETURN_IF_ERROR(store_.set_online_traffic(e.id, clean_t, clean_m));
  RETURN_IF_ERROR(rebuild_routes());
  return store_.online_endpoint_by_id(e.id);
}

StatusOr<EndpointKeys> Platform::online_endpoint_keys(const std::string& workspace, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, name));
  return key_values(e.id, e.primary, e.secondary);
}

StatusOr<OnlineEndpoint> Platform::regenerate_online_key(const std::string& workspace, const std::string& name,
                                                         KeySlot slot) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, name));
  RETURN_IF_ERROR(store_.set_online_endpoint_key(e.id, slot, new_endpoint_key(master_, e.id, slot)));
  RETURN_IF_ERROR(rebuild_routes());
  return store_.online_endpoint_by_id(e.id);
}

Status Platform::delete_online_endpoint(const std::string& workspace, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, name));
  return delete_online_endpoint_locked(e);
}

// Unroutable at once, requests in flight finish, then the deployments stop and it is deleted.
Status Platform::delete_online_endpoint_locked(const OnlineEndpoint& e) {
  std::shared_ptr<std::atomic<int>> counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (deleting_.count(e.id) > 0) return Status::Ok();
    deleting_[e.id] = e.name;
    RETURN_IF_ERROR(store_.set_online_endpoint_state(e.id, "Deleting", ""));
    RETURN_IF_ERROR(rebuild_routes());
    auto it = inflight_.find(e.id);
    if (it != inflight_.end()) counter = it->second;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
  while (counter && counter->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(e.id));
  for (const OnlineDeployment& d : deployments) {
    supervisor_.remove_deployment(online_deployment(e.name, d.name));
    pools_.erase(online_deployment(e.name, d.name));
    collectors_.erase(d.id);
    RETURN_IF_ERROR(store_.close_instance_hours(d.id, 0));
  }
  deleting_.erase(e.id);
  inflight_.erase(e.id);
  RETURN_IF_ERROR(store_.mark_online_endpoint_deleted(e.id));
  return rebuild_routes();
}

// ---- deployments -------------------------------------------------------------------------

Status Platform::start_online_pool(const OnlineEndpoint& e, const OnlineDeployment& d, bool open_hours) {
  ASSIGN_OR_RETURN(InstanceSpec spec, instance_spec(d));
  const std::string key = online_deployment(e.name, d.name);
  const PoolStatus before = pools_.count(key) > 0 ? pools_[key]->status() : PoolStatus{};
  pools_[key] = supervisor_.set_deployment(key, spec, d.instance_count);
  if (open_hours) {
    auto type = find_instance_type(d.instance_type);
    ASSIGN_OR_RETURN(Workspace ws, store_.workspace_by_id(e.workspace_id));
    RETURN_IF_ERROR(store_.close_instance_hours(d.id, d.instance_count));
    for (int i = before.n_instances; i < d.instance_count; ++i) {
      RETURN_IF_ERROR(store_.open_instance_hours(ws.id, e.name, d, i, type ? type->price_per_hour_micro : 0));
    }
  }
  if (d.data_collection && collectors_.count(d.id) == 0) {
    collectors_[d.id] = std::make_shared<DataCollector>(options_.data_dir + "/data-collection/" + e.name + "/" + d.name,
                                                        clock_);
  } else if (!d.data_collection) {
    collectors_.erase(d.id);
  }
  return Status::Ok();
}

StatusOr<OnlineDeployment> Platform::create_deployment(const std::string& workspace, const std::string& endpoint,
                                                       const OnlineDeploymentSpec& spec) {
  RETURN_IF_ERROR(validate_resource_name(spec.name, "deployment name"));
  if (spec.model.empty()) return invalid_argument("model is required");
  if (spec.instance_type.empty()) return invalid_argument("instance_type is required");
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(Model model, store_.model(spec.model));
  if (model.weights_path.empty()) {
    return failed_precondition("model '" + model.name + "' has no local weights; get them with `maas model pull REPO "
                               "FILE --name " + model.name + "` or `maas model register " + model.name + " --path F`");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, endpoint));
  OnlineDeployment d;
  d.id = new_id("od-");
  d.endpoint_id = e.id;
  d.name = spec.name;
  d.model_name = model.name;
  d.model_path = model.weights_path;
  d.model_sha256 = model.weights_sha256;
  d.instance_type = spec.instance_type;
  d.instance_count = spec.instance_count.value_or(1);
  d.request_timeout_ms = spec.request_timeout_ms.value_or(90000);
  d.max_concurrent_requests = spec.max_concurrent_requests.value_or(8);
  d.content_safety = spec.content_safety.value_or(true);
  d.data_collection = spec.data_collection.value_or(false);
  d.package_model = spec.package_model.value_or(false);
  d.state = "Creating";
  d.created_at = d.updated_at = clock_.now_unix_ms();
  if (d.instance_count < 1 || d.instance_count > 64) return invalid_argument("instance_count must be 1 to 64");
  if (d.request_timeout_ms < 1000 || d.request_timeout_ms > 3600000) {
    return invalid_argument("request_timeout_ms must be 1000 to 3600000");
  }
  if (d.max_concurrent_requests < 1 || d.max_concurrent_requests > 1024) {
    return invalid_argument("max_concurrent_requests must be 1 to 1024");
  }
  RETURN_IF_ERROR(store_.deployment(e.id, d.name).ok() ? already_exists("the endpoint already has a deployment named '" +
                                                                        d.name + "'")
                                                       : Status::Ok());
  RETURN_IF_ERROR(instance_spec(d).status());  // type, GPU and memory checks before anything is written
  RETURN_IF_ERROR(check_capacity(e, d, 0, 0));
  if (d.package_model) {  // a self-contained copy: a later change of the source cannot reach it
    const std::string dir = options_.data_dir + "/packages/" + d.id;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string copy = dir + "/" + std::filesystem::path(model.weights_path).filename().string();
    std::filesystem::copy_file(model.weights_path, copy, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return unavailable("cannot package the model: " + ec.message());
    ASSIGN_OR_RETURN(std::string sha, sha256_file_hex(copy));
    if (!model.weights_sha256.empty() && sha != model.weights_sha256) {
      std::filesystem::remove_all(dir, ec);
      return failed_precondition("the model file changed since it was registered (sha256 " + sha + ", registered " +
                                 model.weights_sha256 + "); register it again");
    }
    d.model_path = copy;
    d.model_sha256 = sha;
  }
  ASSIGN_OR_RETURN(OnlineDeployment created, store_.create_deployment(d));
  Status s = start_online_pool(e, created, true);
  if (!s.ok()) (void)store_.set_deployment_state(created.id, "Failed", s.message());
  RETURN_IF_ERROR(rebuild_routes());
  return store_.deployment_by_id(created.id);
}

StatusOr<OnlineDeployment> Platform::update_deployment(const std::string& workspace, const std::string& endpoint,
                                                       const OnlineDeploymentSpec& spec) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, endpoint));
  ASSIGN_OR_RETURN(OnlineDeployment d, store_.deployment(e.id, spec.name));
  const OnlineDeployment old = d;
  if (!spec.model.empty() && spec.model != d.model_name) {
    ASSIGN_OR_RETURN(Model model, store_.model(spec.model));
    if (model.weights_path.empty()) return failed_precondition("model '" + model.name + "' has no local weights");
    d.model_name = model.name;
    d.model_path = model.weights_path;
    d.model_sha256 = model.weights_sha256;
  }
  if (!spec.instance_type.empty()) d.instance_type = spec.instance_type;
  if (spec.instance_count) d.instance_count = *spec.instance_count;
  if (spec.request_timeout_ms) d.request_timeout_ms = *spec.request_timeout_ms;
  if (spec.max_concurrent_requests) d.max_concurrent_requests = *spec.max_concurrent_requests;
  if (spec.content_safety) d.content_safety = *spec.content_safety;
  if (spec.data_collection) d.data_collection = *spec.data_collection;
  if (d.instance_count < 1 || d.instance_count > 64) return invalid_argument("instance_count must be 1 to 64");
  if (d.max_concurrent_requests < 1 || d.max_concurrent_requests > 1024) {
    return invalid_argument("max_concurrent_requests must be 1 to 1024");
  }
  if (d.request_timeout_ms < 1000 || d.request_timeout_ms > 3600000) {
    return invalid_argument("request_timeout_ms must be 1000 to 3600000");
  }
  RETURN_IF_ERROR(instance_spec(d).status());
  auto old_type = find_instance_type(old.instance_type);
  const bool counted = old.state != "Failed";
  RETURN_IF_ERROR(check_capacity(e, d, counted && old_type ? old_type->cores * old.instance_count : 0,
                                 counted && old_type ? old_type->memory_mib * old.instance_count : 0));
  d.state = "Updating";
  d.failure_reason.clear();
  RETURN_IF_ERROR(store_.update_deployment(d));
  Status s = start_online_pool(e, d, true);
  if (!s.ok()) (void)store_.set_deployment_state(d.id, "Failed", s.message());
  RETURN_IF_ERROR(rebuild_routes());
  return store_.deployment_by_id(d.id);
}

Status Platform::delete_deployment(const std::string& workspace, const std::string& endpoint, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, endpoint));
  ASSIGN_OR_RETURN(OnlineDeployment d, store_.deployment(e.id, name));
  if (pct(e.traffic, name) > 0 || pct(e.mirror_traffic, name) > 0) {
    return failed_precondition("deployment '" + name + "' still receives traffic; set its traffic (and mirror "
                               "traffic) to 0 first: maas online-endpoint update " + e.name + " --traffic ...");
  }
  // Requests still on its instances finish: the supervisor stops routing to them, then drains.
  supervisor_.remove_deployment(online_deployment(e.name, d.name));
  pools_.erase(online_deployment(e.name, d.name));
  collectors_.erase(d.id);
  RETURN_IF_ERROR(store_.close_instance_hours(d.id, 0));
  RETURN_IF_ERROR(store_.mark_deployment_deleted(d.id));
  return rebuild_routes();
}

std::vector<InstanceInfo> Platform::deployment_instances(const std::string& endpoint, const std::string& name) const {
  std::vector<InstanceInfo> out;
  for (const InstanceInfo& i : supervisor_.instances()) {
    if (i.deployment == online_deployment(endpoint, name)) out.push_back(i);
  }
  return out;
}

StatusOr<std::string> Platform::deployment_logs(const std::string& workspace, const std::string& endpoint,
                                                const std::string& name, int instance, int lines) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(ws.id, endpoint));
  ASSIGN_OR_RETURN(OnlineDeployment d, store_.deployment(e.id, name));
  std::string path;
  for (const InstanceInfo& i : deployment_instances(e.name, d.name)) {
    if (i.index == instance && !i.outgoing) path = i.log_path;
  }
  if (path.empty()) return not_found("deployment '" + name + "' has no instance " + std::to_string(instance));
  std::ifstream in(path);
  if (!in) return not_found("no log yet for instance " + std::to_string(instance));
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) out += l + "\n";
  return out;
}

// ---- pools, routes, housekeeping ---------------------------------------------------------

void Platform::on_online_pool_change(const std::string& deployment, const PoolStatus& status) {
  auto endpoints = store_.list_online_endpoints("");
  if (!endpoints.ok()) return;
  for (const OnlineEndpoint& e : *endpoints) {
    auto deployments = store_.list_deployments(e.id);
    if (!deployments.ok()) continue;
    for (const OnlineDeployment& d : *deployments) {
      if (online_deployment(e.name, d.name) != deployment || d.state == "Failed") continue;
      std::string state = d.state, reason;
      if (status.failed) {
        state = "Failed";
        reason = status.failure;
      } else if (!status.updating() && status.n_ready == status.n_instances) {
        state = "Succeeded";
      }
      if (state == d.state) continue;
      LOG_INFO("deployment %s/%s: %s%s%s", e.name.c_str(), d.name.c_str(), state.c_str(), reason.empty() ? "" : ": ",
               reason.c_str());
      (void)store_.set_deployment_state(d.id, state, reason);
      if (state == "Failed" && !status.updating()) {  // nothing serves: stop it, release its quota
        supervisor_.remove_deployment(deployment);
        pools_.erase(deployment);
        (void)store_.close_instance_hours(d.id, 0);
      }
      (void)rebuild_routes();
    }
  }
}

void Platform::add_online_routes(RoutingTable& table) {
  auto endpoints = store_.list_online_endpoints("");
  if (!endpoints.ok()) return;
  for (const OnlineEndpoint& e : *endpoints) {
    if (deleting_.count(e.id) > 0 || e.state == "Deleting") {
      table.deleted_keys.insert(e.primary.hash);
      table.deleted_keys.insert(e.secondary.hash);
      continue;
    }
    auto route = std::make_shared<EndpointRoute>();
    route->online = true;
    route->id = e.id;
    route->name = e.name;
    route->workspace_id = e.workspace_id;
    route->region = e.region;
    route->primary_hash = e.primary.hash;
    route->secondary_hash = e.secondary.hash;
    route->state = e.state;
    auto& counter = inflight_[e.id];
    if (!counter) counter = std::make_shared<std::atomic<int>>(0);
    route->inflight = counter;
    auto deployments = store_.list_deployments(e.id);
    if (deployments.ok()) {
      for (const OnlineDeployment& d : *deployments) {
        DeploymentRoute r;
        r.name = d.name;
        r.deployment = online_deployment(e.name, d.name);
        r.model_name = d.model_name;
        r.served_name = d.model_name;
        auto pool = pools_.find(r.deployment);
        r.pool = pool == pools_.end() ? nullptr : pool->second;
        r.traffic = pct(e.traffic, d.name);
        r.mirror = pct(e.mirror_traffic, d.name);
        r.max_concurrent = d.max_concurrent_requests;
        r.request_timeout_ms = d.request_timeout_ms;
        r.content_safety = d.content_safety;
        auto c = collectors_.find(d.id);
        r.collector = c == collectors_.end() ? nullptr : c->second;
        r.state = d.state;
        r.failure = d.failure_reason;
        route->deployments.push_back(std::move(r));
      }
    }
    table.key_owner[e.primary.hash] = e.workspace_id;
    table.key_owner[e.secondary.hash] = e.workspace_id;
    table.by_name[e.name] = std::move(route);
  }
}

void Platform::tick() {
  std::vector<OnlineEndpoint> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.now_unix_ms();
    if (now - last_heartbeat_ms_ >= 30000) {
      last_heartbeat_ms_ = now;
      (void)store_.heartbeat_instance_hours();
    }
    auto endpoints = store_.list_online_endpoints("");
    if (endpoints.ok()) {
      for (const OnlineEndpoint& e : *endpoints) {
        if (e.shared_quota && e.expires_at > 0 && now >= e.expires_at && deleting_.count(e.id) == 0) expired.push_back(e);
      }
    }
  }
  for (const OnlineEndpoint& e : expired) {
    LOG_INFO("online endpoint %s (shared quota) expired after 168 hours: deleting it", e.name.c_str());
    Status s = delete_online_endpoint_locked(e);
    if (!s.ok()) LOG_ERROR("deleting expired endpoint %s: %s", e.name.c_str(), s.message().c_str());
  }
}

}  // namespace maas
