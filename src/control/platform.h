// platform.h — the control plane's operations on resources (SPEC §1, §3): what the management
// API (and through it the CLI and the studio) calls. It validates input, keeps the Store and
// the running pools consistent, and publishes the gateway's RoutingTable.
//
// Serverless endpoints: a name (names.h) unique on this server, one per model per workspace,
// an active marketplace subscription of the workspace to the model's offering, and local
// weights for the model. Creating one starts (or reuses) the model's shared pool
// "serverless/<model>" of `serverless_instances` workers; the endpoint is Creating until an
// instance is ready, then Succeeded (Failed, with the worker's error, if none can start).
// Deleting one removes it from routing at once (new requests 404), lets requests in flight
// finish (up to drain_timeout_ms), then deletes it and stops the pool when no endpoint uses it.
// Deleting a subscription leaves its endpoints in place but unroutable: inference answers 403
// naming the missing subscription until it is created again.
// Errors: kInvalidArgument (bad input, naming the field), kNotFound, kAlreadyExists,
// kFailedPrecondition (a missing subscription or weights: says what to do).
// Thread safety: all methods may be called from any thread; changes are serialised.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "control/routing.h"
#include "control/secrets.h"
#include "control/store.h"
#include "control/supervisor.h"

namespace maas {

struct PlatformOptions {
  std::string data_dir;              // packaged models, collected data (the data directory)
  // Workers of one model share one re-laid copy of its weights, a file here (named by the
  // model file's SHA-256); "" = every worker keeps a private copy.
  std::string weights_cache_dir;
  std::string region = "local";
  std::string domain;                // host routing "<endpoint>.<region>.<domain>"; "" = path only
  std::string public_url;            // "http://127.0.0.1:8000" (set once the server listens)
  std::string maas_binary;           // for `model show` validation of registered files
  int64_t rate_window_ms = 60000;    // rate-limit window (tests shorten it)
  int drain_timeout_ms = 30000;      // endpoint deletion waits this long for requests in flight
  int default_requests_per_minute = 1000;
  int default_tokens_per_minute = 200000;
};

struct EndpointKeys {
  std::string primary, secondary;
};

struct ModelFileInfo {
  std::string path, sha256, name;
  int64_t bytes = 0, parameters = 0;
  int32_t context_length = 0;
  int64_t kv_bytes_per_token = 0;  // K and V of every layer in a KV cache of kv_cache_dtype
  std::string kv_cache_dtype = "f32";  // the worker's default type (model check), passed to instances
  bool chat = false;  // the file carries a chat template
};

struct OnlineDeploymentSpec {
  std::string name, model, instance_type;
  std::optional<int> instance_count, request_timeout_ms, max_concurrent_requests;
  std::optional<bool> content_safety, data_collection, package_model;
};

struct QuotaReport {
  std::vector<Quota> quotas;   // cores, gpus: limit and used by the workspace
  int capacity_cores = 0, allocated_cores = 0;  // the machine, and every deployment on it
  int64_t capacity_memory_mib = 0, allocated_memory_mib = 0;
  int capacity_gpus = 0;
  bool allow_overcommit = false;
};

class Platform {
 public:
  Platform(Store& store, const MasterSecret& master, Supervisor& supervisor, const Clock& clock,
           PlatformOptions options);
  ~Platform();

  // At start: pools for every endpoint's model, routes published, leftover deletions finished.
  Status start();
  void set_public_url(std::string url);
  const PlatformOptions& options() const { return options_; }
  std::shared_ptr<const RoutingTable> routes() const;

  // --- workspaces
  StatusOr<Workspace> create_workspace(const std::string& name, const std::string& region);
  StatusOr<Workspace> workspace(const std::string& name);

  // --- models
  // Checks a GGUF file with the loader (in a child process: a hostile file cannot harm the
  // platform) and returns what it found; kInvalidArgument with the loader's message otherwise.
  StatusOr<ModelFileInfo> inspect_model_file(const std::string& path);
  // The same checks without the file's SHA-256 (cheap: the weights are not read).
  StatusOr<ModelFileInfo> check_model_file(const std::string& path);
  // Attaches weights to a catalog entry, or adds a custom model when `name` is new (then
  // `task`, prices come from the arguments).
  StatusOr<Model> register_model(const std::string& name, const std::string& path, bool allow_new,
                                 int64_t price_input_micro, int64_t price_output_micro);
  Status remove_model(const std::string& name);  // custom: delete; catalog: forget the weights
  StatusOr<Model> set_serverless_instances(const std::string& name, int32_t instances);
  // New prices apply from the next request on (the routes carry them).
  Status set_offering_prices(const std::string& offering_id, int64_t input_micro, int64_t output_micro);

  // --- marketplace subscriptions
  StatusOr<Subscription> subscribe(const std::string& workspace, const std::string& name, const std::string& model_or_offering);
  Status unsubscribe(const std::string& workspace, const std::string& name);

  // --- serverless endpoints
  StatusOr<ServerlessEndpoint> create_endpoint(const std::string& workspace, const std::string& name,
                                               const std::string& model_name);
  StatusOr<ServerlessEndpoint> update_endpoint(const std::string& workspace, const std::string& name,
                                               std::optional<int64_t> requests_per_minute,
                                               std::optional<int64_t> tokens_per_minute);
  StatusOr<EndpointKeys> endpoint_keys(const std::string& workspace, const std::string& name);
  StatusOr<ServerlessEndpoint> regenerate_key(const std::string& workspace, const std::string& name, KeySlot slot);
  Status delete_endpoint(const std::string& workspace, const std::string& name);
  std::string endpoint_url(const ServerlessEndpoint& endpoint) const;
  std::string endpoint_url(const std::string& name) const;

  // --- managed compute (platform_online.cc)
  StatusOr<OnlineEndpoint> create_online_endpoint(const std::string& workspace, const std::string& name,
                                                  const std::string& auth_mode, bool shared_quota);
  StatusOr<OnlineEndpoint> update_online_traffic(const std::string& workspace, const std::string& name,
                                                 std::optional<TrafficMap> traffic, std::optional<TrafficMap> mirror);
  StatusOr<EndpointKeys> online_endpoint_keys(const std::string& workspace, const std::string& name);
  StatusOr<OnlineEndpoint> regenerate_online_key(const std::string& workspace, const std::string& name, KeySlot slot);
  Status delete_online_endpoint(const std::string& workspace, const std::string& name);
  StatusOr<OnlineDeployment> create_deployment(const std::string& workspace, const std::string& endpoint,
                                               const OnlineDeploymentSpec& spec);
  StatusOr<OnlineDeployment> update_deployment(const std::string& workspace, const std::string& endpoint,
                                               const OnlineDeploymentSpec& spec);
  Status delete_deployment(const std::string& workspace, const std::string& endpoint, const std::string& name);
  // The last `lines` lines of one instance's log.
  StatusOr<std::string> deployment_logs(const std::string& workspace, const std::string& endpoint,
                                        const std::string& name, int instance, int lines);
  std::vector<InstanceInfo> deployment_instances(const std::string& endpoint, const std::string& name) const;
  StatusOr<QuotaReport> quota(const std::string& workspace);
  Status set_quota(const std::string& workspace, std::optional<int64_t> cores, std::optional<int64_t> gpus,
                   std::optional<bool> allow_overcommit);
  // Housekeeping, every few seconds: instance-hour heartbeats, shared-quota expiry.
  void tick();
  std::string endpoint_host(const ServerlessEndpoint& endpoint) const;  // "" without a domain
  int inflight(const std::string& endpoint_id) const;
  // The endpoint's rate-limit state as the x-ratelimit-* headers would show it now.
  std::vector<std::pair<std::string, std::string>> rate_limit_state(const std::string& endpoint_id) const;

 private:
  void on_pool_change(const std::string& deployment, const PoolStatus& status);
  void on_online_pool_change(const std::string& deployment, const PoolStatus& status);  // mu_ held
  Status start_online_pool(const OnlineEndpoint& e, const OnlineDeployment& d, bool open_hours);  // mu_ held
  Status check_capacity(const OnlineEndpoint& e, const OnlineDeployment& d, int old_cores, int64_t old_memory);  // mu_ held
  StatusOr<InstanceSpec> instance_spec(const OnlineDeployment& d);  // mu_ held
  // The worker flags that share one re-laid copy of a model's weights (none without a digest).
  std::vector<std::string> weights_cache_args(const std::string& sha256) const;
  EndpointKeys key_values(const std::string& endpoint_id, const EndpointKey& primary,
                          const EndpointKey& secondary) const;
  void forget_weights_cache(const std::string& sha256);  // mu_ held
  void add_online_routes(RoutingTable& table);  // mu_ held
  Status delete_online_endpoint_locked(const OnlineEndpoint& e);
  Status ensure_pool(const Model& model);  // mu_ held
  void release_pool_if_unused(const std::string& model_name);  // mu_ held
  Status rebuild_routes();  // mu_ held
  std::shared_ptr<RateLimiter> limiter_for(const ServerlessEndpoint& e);  // mu_ held

  Store& store_;
  const MasterSecret& master_;
  Supervisor& supervisor_;
  const Clock& clock_;
  PlatformOptions options_;
  mutable std::mutex mu_;  // serialises changes
  std::unordered_map<std::string, std::shared_ptr<RateLimiter>> limiters_;       // by endpoint id; mu_
  std::unordered_map<std::string, std::shared_ptr<std::atomic<int>>> inflight_;  // by endpoint id; mu_
  std::unordered_map<std::string, std::shared_ptr<InstancePool>> pools_;         // by deployment; mu_
  std::unordered_map<std::string, std::string> deleting_;                        // endpoint id -> name; mu_
  std::unordered_map<std::string, std::shared_ptr<DataCollector>> collectors_;   // by deployment id; mu_
  int64_t last_heartbeat_ms_ = 0;                                                // mu_
  mutable std::mutex routes_mu_;
  std::shared_ptr<const RoutingTable> routes_;  // guarded by routes_mu_
};

}  // namespace maas
