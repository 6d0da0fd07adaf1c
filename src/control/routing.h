// routing.h — what the gateway needs to route one inference request, as an immutable snapshot
// the control plane rebuilds whenever an endpoint, a key, a subscription or a pool changes
// (read-copy-update: a request holds the snapshot it started with).
//
// Route lookup is by endpoint name (names are unique on this server, whose workspaces all live
// in its region). A deployment is "a pool of N instances": serverless endpoints of one model
// share the pool "serverless/<model>"; managed-compute deployments will bring their own.
// Thread safety: a RoutingTable is immutable once published; the counters and the limiter it
// points to are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "control/data_collection.h"
#include "control/rate_limiter.h"
#include "control/supervisor.h"

namespace maas {

// One deployment behind an endpoint: a serverless endpoint has one (the model's shared pool,
// all traffic); an online endpoint has those its traffic and mirror maps name.
struct DeploymentRoute {
  std::string name;            // the online deployment's name ("" for serverless)
  std::string deployment;      // the supervisor's deployment ("serverless/<model>", "online/<ep>/<name>")
  std::string model_name, served_name;
  std::shared_ptr<InstancePool> pool;
  int traffic = 0, mirror = 0;       // percent of the endpoint's requests
  int max_concurrent = 0;            // per instance; beyond: 429 (0 = unlimited)
  int request_timeout_ms = 0;        // 0: the gateway's default
  bool content_safety = true;
  std::shared_ptr<DataCollector> collector;  // set when inference data collection is on
  std::string state, failure;
};

struct EndpointRoute {
  bool online = false;         // a managed-compute endpoint (no token limits, no offering)
  std::vector<DeploymentRoute> deployments;
  std::string id, name, workspace_id, region;
  std::string model_name, served_name, offering_id, deployment;
  std::string primary_hash, secondary_hash;  // sha256 hex of the keys
  int64_t price_input_micro = 0, price_output_micro = 0;
  std::string state;             // "Creating" | "Succeeded" | "Failed"
  std::string failure;           // when Failed
  bool subscribed = true;        // the workspace's marketplace subscription to the offering exists
  std::shared_ptr<RateLimiter> limiter;
  std::shared_ptr<InstancePool> pool;
  std::shared_ptr<std::atomic<int>> inflight;  // requests in flight (deletion waits for 0)
};

struct RoutingTable {
  std::unordered_map<std::string, std::shared_ptr<const EndpointRoute>> by_name;
  // Digest of every active key -> the workspace of its endpoint: a key used on another endpoint
  // of its own workspace gets 403 (TESTPLAN B5); on another workspace's endpoint, 401, as if
  // unknown (tenants learn nothing of each other).
  std::unordered_map<std::string, std::string> key_owner;
  // Digests of the keys of deleted endpoints (and of endpoints being deleted): such a key
  // gets 404 "not found", not 401, so a client learns its endpoint is gone.
  std::unordered_set<std::string> deleted_keys;
};

inline std::string serverless_deployment(const std::string& model_name) { return "serverless/" + model_name; }
inline std::string online_deployment(const std::string& endpoint, const std::string& name) {
  return "online/" + endpoint + "/" + name;
}

}  // namespace maas
