// resources.h — the control plane's resources as plain structs (SPEC §3): principals and their
// tokens, workspaces, the model catalog and its marketplace offerings, marketplace
// subscriptions, serverless endpoints, and usage records. The Store persists them; the
// management API renders them; the gateway routes with a snapshot of them.
//
// Times are unix milliseconds (0 = unset). Prices are integers in micro-USD per 1,000 tokens
// (300 = $0.0003 per 1K), so sums stay exact; a record's cost is tokens * price / 1000 micro-USD.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace maas {

struct Principal {
  std::string id, name;
  std::string kind;       // "user" | "service_principal"
  bool is_admin = false;  // the bootstrap administrator (it also holds Owner at "/")
  int64_t created_at = 0;
  std::string description;
};

// A role: the actions it allows and, among those, the ones it does not (wildcards "*").
struct Role {
  std::string id, name, description;
  bool builtin = false;
  std::vector<std::string> actions, not_actions;
  int64_t created_at = 0;
};

struct RoleAssignment {
  std::string id, principal_id, principal_name, role_id, role_name;
  std::string scope;  // "/", "/workspaces/<w>", "/workspaces/<w>/serverlessEndpoints/<e>"
  std::string created_by;
  int64_t created_at = 0;
};

struct AuditRecord {
  int64_t seq = 0;
  std::string id;
  int64_t time = 0;
  std::string principal_id, principal_name, action, scope, method, path;
  int status = 0;
  std::string outcome;  // "succeeded" | "denied" | "failed"
  std::string request_id;
  std::string detail;   // the error message of a refusal; never a secret
};

struct ApiToken {
  std::string id, principal_id, name;
  std::string principal_name;
  std::string prefix;  // first characters, for display; the token itself is never stored
  int64_t created_at = 0, expires_at = 0, last_used_at = 0, revoked_at = 0;
};

struct Workspace {
  std::string id, name, region;
  int64_t created_at = 0;
};

struct Model {
  std::string name;          // catalog id, e.g. "Meta-Llama-3.1-8B-Instruct"
  std::string display_name, publisher, family;
  std::string task;          // "chat-completions" | "text-generation"
  std::string license;       // license name, e.g. "llama3.1"
  int64_t parameters = 0;
  int32_t context_length = 0;
  std::string description;
  bool custom = false;       // added by a user (not the built-in catalog)
  std::string weights_path;  // "" when no local weights are registered
  std::string weights_sha256;
  int64_t weights_bytes = 0;
  int64_t weights_registered_at = 0;
  int32_t serverless_instances = 1;  // size of the platform's shared pool for this model
  int64_t created_at = 0;
};

struct Offering {
  std::string id;            // e.g. "meta-llama-3-1-8b-instruct-offer"
  std::string model_name, publisher, offer_id, plan_id, terms;
  int64_t price_input_micro = 0;   // micro-USD per 1K input tokens
  int64_t price_output_micro = 0;  // micro-USD per 1K output tokens
  int64_t updated_at = 0;
};

struct Subscription {
  std::string id, workspace_id, name, offering_id, model_name;
  std::string state;  // "Succeeded"
  int64_t terms_accepted_at = 0, created_at = 0;
};

enum class KeySlot { kPrimary, kSecondary };
const char* key_slot_name(KeySlot slot);  // "primary" | "secondary"

struct EndpointKey {
  std::string hash;    // sha256 hex of the key
  std::string prefix;  // first characters, for display
  std::string nonce;   // derivation input (the key = HMAC(master secret, id, slot, nonce))
};

struct ServerlessEndpoint {
  std::string id, workspace_id, name, region, model_name, offering_id;
  std::string state;           // "Creating" | "Succeeded" | "Failed" | "Deleting"
  std::string failure_reason;  // when Failed
  EndpointKey primary, secondary;
  int64_t requests_per_minute = 1000;
  int64_t tokens_per_minute = 200000;
  int64_t created_at = 0, updated_at = 0;
};

// A resource profile an instance runs with (SPEC §1 managed compute).
struct InstanceType {
  std::string name;              // "cpu-2c-8g"
  int cores = 0;
  int64_t memory_mib = 0;
  int gpus = 0;
  std::string gpu_model;         // "" for CPU types
  int64_t price_per_hour_micro = 0;  // micro-USD per instance-hour
};

// Traffic or mirror percentages by deployment name.
using TrafficMap = std::vector<std::pair<std::string, int>>;

struct OnlineEndpoint {
  std::string id, workspace_id, name, region;
  std::string auth_mode = "key";
  TrafficMap traffic, mirror_traffic;
  std::string state;             // "Creating" | "Succeeded" | "Failed" | "Deleting"
  std::string failure_reason;
  EndpointKey primary, secondary;
  bool shared_quota = false;     // outside the workspace quota; deleted at expires_at (168 h)
  int64_t expires_at = 0;
  int64_t created_at = 0, updated_at = 0;
};

struct OnlineDeployment {
  std::string id, endpoint_id, name, model_name;
  std::string model_path;        // the file served (the packaged copy with package_model)
  std::string model_sha256;
  std::string instance_type;
  int instance_count = 1;
  int request_timeout_ms = 90000;
  int max_concurrent_requests = 8;   // per instance; beyond: 429
  bool content_safety = true;
  bool data_collection = false;
  bool package_model = false;
  std::string state;             // "Creating" | "Updating" | "Succeeded" | "Failed"
  std::string failure_reason;
  int64_t created_at = 0, updated_at = 0;
};

struct Quota {
  std::string resource;          // "cores" | "gpus"
  int64_t limit = 0, used = 0;
};

struct UsageRecord {
  std::string id;          // unique per request (the gateway's), the idempotency key of the write
  std::string request_id;  // the client's x-request-id (or the generated one)
  std::string workspace_id, endpoint_id, endpoint_name, deployment, model_name, offering_id;
  std::string key_slot;    // "primary" | "secondary" (never the key)
  std::string route;       // "/v1/chat/completions", ...
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int status = 0;          // HTTP status the client got (0 while in progress)
  std::string outcome;     // "in_progress" | "stop" | "length" | "cancelled" | "error" | "rejected" | "incomplete"
  int64_t price_input_micro = 0, price_output_micro = 0;
  int64_t started_at = 0, ended_at = 0;
};

}  // namespace maas
