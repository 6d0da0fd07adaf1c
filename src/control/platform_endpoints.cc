// platform_endpoints.cc — serverless endpoints: create, update, keys, delete.
#include <chrono>
#include <thread>

#include "base/log.h"
#include "control/catalog.h"
#include "control/names.h"
#include "control/platform.h"

namespace maas {

StatusOr<ServerlessEndpoint> Platform::create_endpoint(const std::string& workspace, const std::string& name,
                                                       const std::string& model_name) {
  RETURN_IF_ERROR(validate_resource_name(name, "serverless endpoint name"));
  if (model_name.empty()) return invalid_argument("name the model to deploy");
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(Model model, store_.model(model_name));
  ASSIGN_OR_RETURN(Offering offering, store_.offering_for_model(model.name));
  ASSIGN_OR_RETURN(auto sub, store_.subscription_for_offering(ws.id, offering.id));
  if (!sub) {
    return failed_precondition("workspace '" + ws.name + "' has no marketplace subscription to offering '" +
                               offering.id + "' (model " + model.name + "); subscribe first: maas "
                               "marketplace-subscription create --model " + model.name);
  }
  if (model.weights_path.empty()) {
    return failed_precondition("model '" + model.name + "' has no local weights; get them with `maas model pull "
                               "REPO FILE --name " + model.name + "` or `maas model register " + model.name +
                               " --path FILE.gguf`");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ServerlessEndpoint e;
  e.id = new_id("ep-");
  e.workspace_id = ws.id;
  e.name = name;
  e.region = ws.region;
  e.model_name = model.name;
  e.offering_id = offering.id;
  e.state = "Creating";
  e.primary = new_endpoint_key(master_, e.id, KeySlot::kPrimary);
  e.secondary = new_endpoint_key(master_, e.id, KeySlot::kSecondary);
  e.requests_per_minute = options_.default_requests_per_minute;
  e.tokens_per_minute = options_.default_tokens_per_minute;
  e.created_at = e.updated_at = clock_.now_unix_ms();
  ASSIGN_OR_RETURN(ServerlessEndpoint created, store_.create_endpoint(e));
  Status pool = ensure_pool(model);
  if (!pool.ok()) {
    (void)store_.set_endpoint_state(created.id, "Failed", pool.message());
  } else {
    const PoolStatus st = pools_[serverless_deployment(model.name)]->status();
    if (st.n_ready > 0) (void)store_.set_endpoint_state(created.id, "Succeeded", "");
  }
  RETURN_IF_ERROR(rebuild_routes());
  return store_.endpoint_by_id(created.id);
}

StatusOr<ServerlessEndpoint> Platform::update_endpoint(const std::string& workspace, const std::string& name,
                                                       std::optional<int64_t> rpm, std::optional<int64_t> tpm) {
  if (rpm && (*rpm < 1 || *rpm > 100000000)) return invalid_argument("requests_per_minute must be 1 to 100000000");
  if (tpm && (*tpm < 1 || *tpm > 10000000000LL)) return invalid_argument("tokens_per_minute must be 1 to 10000000000");
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(ServerlessEndpoint e, store_.endpoint(ws.id, name));
  RETURN_IF_ERROR(store_.set_endpoint_limits(e.id, rpm.value_or(e.requests_per_minute), tpm.value_or(e.tokens_per_minute)));
  RETURN_IF_ERROR(rebuild_routes());
  return store_.endpoint_by_id(e.id);
}

// The two keys of an endpoint, derived again from the master secret (only digests are stored).
EndpointKeys Platform::key_values(const std::string& endpoint_id, const EndpointKey& primary,
                                  const EndpointKey& secondary) const {
  return EndpointKeys{endpoint_key_value(master_, endpoint_id, KeySlot::kPrimary, primary),
                      endpoint_key_value(master_, endpoint_id, KeySlot::kSecondary, secondary)};
}

StatusOr<EndpointKeys> Platform::endpoint_keys(const std::string& workspace, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ASSIGN_OR_RETURN(ServerlessEndpoint e, store_.endpoint(ws.id, name));
  return key_values(e.id, e.primary, e.secondary);
}

StatusOr<ServerlessEndpoint> Platform::regenerate_key(const std::string& workspace, const std::string& name,
                                                      KeySlot slot) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(ServerlessEndpoint e, store_.endpoint(ws.id, name));
  RETURN_IF_ERROR(store_.set_endpoint_key(e.id, slot, new_endpoint_key(master_, e.id, slot)));
  RETURN_IF_ERROR(rebuild_routes());  // the old value is refused from the next request on
  return store_.endpoint_by_id(e.id);
}

Status Platform::delete_endpoint(const std::string& workspace, const std::string& name) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  ServerlessEndpoint e;
  std::shared_ptr<std::atomic<int>> counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(e, store_.endpoint(ws.id, name));
    if (deleting_.count(e.id) > 0) return Status::Ok();  // a deletion is already under way
    RETURN_IF_ERROR(store_.set_endpoint_state(e.id, "Deleting", ""));
    deleting_[e.id] = e.name;
    RETURN_IF_ERROR(rebuild_routes());  // new requests: 404 from now on
    auto it = inflight_.find(e.id);
    if (it != inflight_.end()) counter = it->second;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
  while (counter && counter->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (counter && counter->load() > 0) {
    LOG_WARN("serverless endpoint %s deleted with %d requests still in flight", e.name.c_str(), counter->load());
  }
  std::lock_guard<std::mutex> lock(mu_);
  deleting_.erase(e.id);
  RETURN_IF_ERROR(store_.mark_endpoint_deleted(e.id));
  limiters_.erase(e.id);
  inflight_.erase(e.id);
  release_pool_if_unused(e.model_name);
  return rebuild_routes();
}

}  // namespace maas
