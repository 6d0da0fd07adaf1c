// platform_capacity.cc — what a managed-compute instance may use: its instance type's cores,
// memory and KV cache (instance_spec), the workspace's quota and the machine's capacity
// (check_capacity, quota, set_quota).
#include <algorithm>

#include "control/instance_types.h"
#include "control/platform.h"

namespace maas {
namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr const char* kOvercommitSetting = "capacity.allow_overcommit";

}  // namespace

StatusOr<InstanceSpec> Platform::instance_spec(const OnlineDeployment& d) {
  auto type = find_instance_type(d.instance_type);
  if (!type) return invalid_argument("instance_type '" + d.instance_type + "' does not exist (see maas instance-type list)");
  if (type->gpus > 0) {
    return failed_precondition("instance_type '" + d.instance_type +
                               "' needs a GPU, and this build of maas has no GPU backend yet");
  }
  ASSIGN_OR_RETURN(ModelFileInfo info, check_model_file(d.model_path));
  // Weights + a KV cache of at least one full context must fit the type's memory; the cache gets
  // what is left (up to the worker's default size), at the bytes per token of the KV element type
  // the model check reports (the worker's default) and the instance is told to use.
  const int64_t ctx = std::min<int64_t>(info.context_length, 4096);
  const int64_t per_block = std::max<int64_t>(1, info.kv_bytes_per_token * 16);
  const int64_t budget = type->memory_mib * kMiB - info.bytes - 512 * kMiB;
  const int64_t fit_blocks = budget > 0 ? budget / per_block : 0;
  if (fit_blocks * 16 < ctx) {
    return failed_precondition("model '" + d.model_name + "' does not fit instance_type '" + d.instance_type + "' (" +
                               std::to_string(type->memory_mib) + " MiB): it needs " +
                               std::to_string((info.bytes + 512 * kMiB + ctx * info.kv_bytes_per_token) / kMiB) +
                               " MiB for its weights and one " + std::to_string(ctx) + "-token context");
  }
  const int64_t default_blocks = (64 * ctx / 4 + 15) / 16;
  InstanceSpec spec;
  spec.model_path = d.model_path;
  spec.served_name = d.model_name;
  spec.pin_cores = type->cores;
  spec.n_threads = type->cores;
  spec.extra_args = {"--kv-blocks", std::to_string(std::min(default_blocks, fit_blocks)), "--kv-cache-dtype",
                     info.kv_cache_dtype, "--request-timeout",
                     std::to_string(std::max(1, (d.request_timeout_ms + 999) / 1000))};
  for (std::string& a : weights_cache_args(d.model_sha256)) spec.extra_args.push_back(std::move(a));
  return spec;
}

Status Platform::check_capacity(const OnlineEndpoint& e, const OnlineDeployment& d, int old_cores, int64_t old_memory) {
  auto type = find_instance_type(d.instance_type);
  if (!type) return invalid_argument("instance_type '" + d.instance_type + "' does not exist (see maas instance-type list)");
  const int need_cores = type->cores * d.instance_count - old_cores;
  const int64_t need_memory = type->memory_mib * d.instance_count - old_memory;
  if (need_cores <= 0 && need_memory <= 0) return Status::Ok();
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace_by_id(e.workspace_id));
  ASSIGN_OR_RETURN(QuotaReport q, quota(ws.name));
  if (!e.shared_quota) {
    const Quota& cores = q.quotas[0];
    if (need_cores > cores.limit - cores.used) {
      return failed_precondition("quota exceeded for workspace '" + ws.name + "' in region '" + ws.region + "': the "
                                 "deployment needs " + std::to_string(need_cores) + " more cores, " +
                                 std::to_string(std::max<int64_t>(0, cores.limit - cores.used)) + " available (limit " +
                                 std::to_string(cores.limit) + ", used " + std::to_string(cores.used) +
                                 "); an administrator can raise it: maas quota set --cores N");
    }
  }
  if (!q.allow_overcommit) {
    if (q.allocated_cores + need_cores > q.capacity_cores) {
      return failed_precondition("the region's capacity is exceeded: the deployment needs " +
                                 std::to_string(need_cores) + " more cores, " +
                                 std::to_string(std::max(0, q.capacity_cores - q.allocated_cores)) +
                                 " free on this machine (" + std::to_string(q.capacity_cores) + " cores, " +
                                 std::to_string(q.allocated_cores) + " allocated); an administrator can allow "
                                 "over-commit: maas quota set --allow-overcommit true");
    }
    if (q.allocated_memory_mib + need_memory > q.capacity_memory_mib) {
      return failed_precondition("the region's capacity is exceeded: the deployment needs " +
                                 std::to_string(need_memory) + " MiB more memory, " +
                                 std::to_string(std::max<int64_t>(0, q.capacity_memory_mib - q.allocated_memory_mib)) +
                                 " MiB free on this machine; an administrator can allow over-commit");
    }
  }
  return Status::Ok();
}

// ---- quotas ------------------------------------------------------------------------------

StatusOr<QuotaReport> Platform::quota(const std::string& workspace) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  const MachineCapacity cap = machine_capacity();
  QuotaReport r;
  r.capacity_cores = cap.cores;
  r.capacity_memory_mib = cap.memory_mib;
  r.capacity_gpus = cap.gpus;
  ASSIGN_OR_RETURN(auto overcommit, store_.setting(kOvercommitSetting));
  r.allow_overcommit = overcommit.value_or(std::string()) == "true";
  ASSIGN_OR_RETURN(int64_t cores_limit, store_.quota_limit(ws.id, "cores", cap.cores));
  ASSIGN_OR_RETURN(int64_t gpus_limit, store_.quota_limit(ws.id, "gpus", cap.gpus));
  Quota cores{"cores", cores_limit, 0}, gpus{"gpus", gpus_limit, 0};
  ASSIGN_OR_RETURN(auto endpoints, store_.list_online_endpoints(""));
  for (const OnlineEndpoint& e : endpoints) {
    ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(e.id));
    for (const OnlineDeployment& d : deployments) {
      auto t = find_instance_type(d.instance_type);
      if (!t || d.state == "Failed") continue;
      r.allocated_cores += t->cores * d.instance_count;
      r.allocated_memory_mib += t->memory_mib * d.instance_count;
      if (e.workspace_id == ws.id && !e.shared_quota) {
        cores.used += t->cores * d.instance_count;
        gpus.used += t->gpus * d.instance_count;
      }
    }
  }
  r.quotas = {cores, gpus};
  return r;
}

Status Platform::set_quota(const std::string& workspace, std::optional<int64_t> cores, std::optional<int64_t> gpus,
                           std::optional<bool> allow_overcommit) {
  ASSIGN_OR_RETURN(Workspace ws, store_.workspace(workspace));
  if (cores && (*cores < 0 || *cores > 100000)) return invalid_argument("cores must be 0 to 100000");
  if (gpus && (*gpus < 0 || *gpus > 10000)) return invalid_argument("gpus must be 0 to 10000");
  if (cores) RETURN_IF_ERROR(store_.set_quota_limit(ws.id, "cores", *cores));
  if (gpus) RETURN_IF_ERROR(store_.set_quota_limit(ws.id, "gpus", *gpus));
  if (allow_overcommit) RETURN_IF_ERROR(store_.set_setting(kOvercommitSetting, *allow_overcommit ? "true" : "false"));
  return Status::Ok();
}

}  // namespace maas
