// management_routes_online.cc — handlers for managed compute: instance types, quotas, online
// endpoints and their deployments (with logs and instances).
#include "control/instance_types.h"
#include "control/management_api.h"
#include "control/routing.h"

namespace maas {
namespace {

OJson list_of(OJson items) { return OJson{{"object", "list"}, {"data", std::move(items)}}; }

Status only(const nlohmann::json& body, std::initializer_list<const char*> allowed) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) {
      std::string names;
      for (const char* a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: " + names + ")");
    }
  }
  return Status::Ok();
}

StatusOr<std::optional<TrafficMap>> traffic_field(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end()) return std::optional<TrafficMap>();
  if (!it->is_object()) return invalid_argument(std::string(field) + " must be an object of deployment: percent");
  TrafficMap m;
  for (auto x = it->begin(); x != it->end(); ++x) {
    if (!x.value().is_number_integer()) return invalid_argument(std::string(field) + " percentages must be integers");
    const int64_t v = x.value().is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(x.value().get<uint64_t>(), 1000))
                                                     : x.value().get<int64_t>();
    m.emplace_back(x.key(), static_cast<int>(std::clamp<int64_t>(v, -1, 1000)));
  }
  return std::optional<TrafficMap>(m);
}

OJson traffic_json(const TrafficMap& m) {
  OJson j = OJson::object();
  for (const auto& [n, p] : m) j[n] = p;
  return j;
}

template <typename T>
StatusOr<std::optional<T>> opt_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return std::optional<T>();
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return invalid_argument(std::string(name) + " must be a boolean");
    return std::optional<T>(it->get<bool>());
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return invalid_argument(std::string(name) + " must be a string");
    return std::optional<T>(it->get<std::string>());
  } else {
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > (1ull << 31))) {
      return invalid_argument(std::string(name) + " must be an integer");
    }
    return std::optional<T>(static_cast<T>(it->get<int64_t>()));
  }
}

StatusOr<OnlineDeploymentSpec> deployment_spec(const nlohmann::json& b, bool create) {
  RETURN_IF_ERROR(only(b, {"name", "model", "instance_type", "instance_count", "request_timeout_ms",
                           "max_concurrent_requests", "content_safety", "data_collection", "package_model"}));
  OnlineDeploymentSpec s;
  ASSIGN_OR_RETURN(auto name, opt_field<std::string>(b, "name"));
  ASSIGN_OR_RETURN(auto model, opt_field<std::string>(b, "model"));
  ASSIGN_OR_RETURN(auto type, opt_field<std::string>(b, "instance_type"));
  if (create && !name) return invalid_argument("name is required");
  s.name = name.value_or("");
  s.model = model.value_or("");
  s.instance_type = type.value_or("");
  ASSIGN_OR_RETURN(s.instance_count, opt_field<int>(b, "instance_count"));
  ASSIGN_OR_RETURN(s.request_timeout_ms, opt_field<int>(b, "request_timeout_ms"));
  ASSIGN_OR_RETURN(s.max_concurrent_requests, opt_field<int>(b, "max_concurrent_requests"));
  ASSIGN_OR_RETURN(s.content_safety, opt_field<bool>(b, "content_safety"));
  ASSIGN_OR_RETURN(s.data_collection, opt_field<bool>(b, "data_collection"));
  ASSIGN_OR_RETURN(s.package_model, opt_field<bool>(b, "package_model"));
  if (!create && s.package_model) return invalid_argument("package_model is set when a deployment is created");
  return s;
}

}  // namespace

StatusOr<ManagementReply> ManagementApi::list_instance_types(const ManagementContext&) {
  const MachineCapacity cap = machine_capacity();
  OJson items = OJson::array();
  for (const InstanceType& t : instance_types()) {
    const bool available = t.gpus == 0 ? t.cores <= cap.cores && t.memory_mib <= cap.memory_mib : false;
    items.push_back(OJson{{"name", t.name}, {"cores", t.cores}, {"memory_mib", t.memory_mib}, {"gpus", t.gpus},
                          {"gpu_model", t.gpu_model}, {"price_per_hour", usd_per_1k(t.price_per_hour_micro)},
                          {"available", available},
                          {"note", t.gpus > 0 ? (cap.gpus > 0 ? "needs the CUDA backend (not in this build)"
                                                               : "this machine has no NVIDIA GPU")
                                              : (available ? "" : "larger than this machine")}});
  }
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::show_quota(const ManagementContext& c) {
  ASSIGN_OR_RETURN(QuotaReport q, platform_.quota(c.param("workspace")));
  OJson items = OJson::array();
  for (const Quota& x : q.quotas) {
    items.push_back(OJson{{"resource", x.resource}, {"limit", x.limit}, {"used", x.used},
                          {"free", std::max<int64_t>(0, x.limit - x.used)}});
  }
  return ManagementReply{
      200, OJson{{"workspace", c.param("workspace")},
                 {"quotas", std::move(items)},
                 {"region_capacity", {{"cores", q.capacity_cores}, {"memory_mib", q.capacity_memory_mib},
                                      {"gpus", q.capacity_gpus}, {"allocated_cores", q.allocated_cores},
                                      {"allocated_memory_mib", q.allocated_memory_mib},
                                      {"allow_overcommit", q.allow_overcommit}}}}};
}

StatusOr<ManagementReply> ManagementApi::set_quota(const ManagementContext& c) {
  RETURN_IF_ERROR(only(c.body, {"cores", "gpus", "allow_overcommit"}));
  ASSIGN_OR_RETURN(auto cores, opt_field<int64_t>(c.body, "cores"));
  ASSIGN_OR_RETURN(auto gpus, opt_field<int64_t>(c.body, "gpus"));
  ASSIGN_OR_RETURN(auto over, opt_field<bool>(c.body, "allow_overcommit"));
  if (over) RETURN_IF_ERROR(authorizer_.check(c.principal, "quotas/overcommit/write", "/"));
  RETURN_IF_ERROR(platform_.set_quota(c.param("workspace"), cores, gpus, over));
  return show_quota(c);
}

OJson ManagementApi::online_endpoint_json(const OnlineEndpoint& e) {
  OJson j;
  j["id"] = e.id;
  j["name"] = e.name;
  auto ws = store_.workspace_by_id(e.workspace_id);
  j["workspace"] = ws.ok() ? ws->name : e.workspace_id;
  j["region"] = e.region;
  j["kind"] = "online";
  j["auth_mode"] = e.auth_mode;
  j["state"] = e.state;
  j["url"] = platform_.endpoint_url(e.name);
  j["openai_base_url"] = platform_.endpoint_url(e.name) + "/v1";
  j["traffic"] = traffic_json(e.traffic);
  j["mirror_traffic"] = traffic_json(e.mirror_traffic);
  j["keys"] = {{"primary_prefix", e.primary.prefix}, {"secondary_prefix", e.secondary.prefix}};
  j["shared_quota"] = e.shared_quota;
  j["expires_at"] = iso_time(e.expires_at);
  j["requests_in_flight"] = platform_.inflight(e.id);
  j["created_at"] = iso_time(e.created_at);
  j["updated_at"] = iso_time(e.updated_at);
  return j;
}

OJson ManagementApi::deployment_json(const OnlineEndpoint& e, const OnlineDeployment& d) {
  OJson j;
  j["id"] = d.id;
  j["name"] = d.name;
  j["endpoint"] = e.name;
  j["model"] = d.model_name;
  j["model_path"] = d.model_path;
  j["model_sha256"] = d.model_sha256;
  j["instance_type"] = d.instance_type;
  j["instance_count"] = d.instance_count;
  j["request_timeout_ms"] = d.request_timeout_ms;
  j["max_concurrent_requests"] = d.max_concurrent_requests;
  j["content_safety"] = d.content_safety;
  j["data_collection"] = d.data_collection;
  j["package_model"] = d.package_model;
  j["state"] = d.state;
  j["failure_reason"] = d.failure_reason.empty() ? OJson(nullptr) : OJson(d.failure_reason);
  OJson instances = OJson::array();
  for (const InstanceInfo& i : platform_.deployment_instances(e.name, d.name)) {
    instances.push_back(OJson{{"index", i.index}, {"state", instance_state_name(i.state)}, {"pid", i.pid},
                              {"port", i.port}, {"cpus", i.cpus}, {"outgoing", i.outgoing}, {"restarts", i.restarts},
                              {"outstanding_requests", i.outstanding}, {"last_error", i.last_error}});
  }
  j["instances"] = std::move(instances);
  j["created_at"] = iso_time(d.created_at);
  j["updated_at"] = iso_time(d.updated_at);
  return j;
}

StatusOr<ManagementReply> ManagementApi::list_online_endpoints(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(auto all, store_.list_online_endpoints(w.id));
  OJson items = OJson::array();
  for (const OnlineEndpoint& e : all) items.push_back(online_endpoint_json(e));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_online_endpoint(const ManagementContext& c) {
  RETURN_IF_ERROR(only(c.body, {"name", "auth_mode", "shared_quota"}));
  ASSIGN_OR_RETURN(auto name, opt_field<std::string>(c.body, "name"));
  if (!name) return invalid_argument("name is required");
  ASSIGN_OR_RETURN(auto auth, opt_field<std::string>(c.body, "auth_mode"));
  ASSIGN_OR_RETURN(auto shared, opt_field<bool>(c.body, "shared_quota"));
  ASSIGN_OR_RETURN(OnlineEndpoint e, platform_.create_online_endpoint(c.param("workspace"), *name, auth.value_or("key"),
                                                                     shared.value_or(false)));
  return ManagementReply{201, online_endpoint_json(e)};
}

StatusOr<ManagementReply> ManagementApi::show_online_endpoint(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("name")));
  OJson j = online_endpoint_json(e);
  ASSIGN_OR_RETURN(auto deployments, store_.list_deployments(e.id));
  OJson ds = OJson::array();
  for (const OnlineDeployment& d : deployments) ds.push_back(OJson{{"name", d.name}, {"model", d.model_name},
                                                                   {"instance_type", d.instance_type},
                                                                   {"instance_count", d.instance_count},
                                                                   {"state", d.state}});
  j["deployments"] = std::move(ds);
  return ManagementReply{200, std::move(j)};
}

StatusOr<ManagementReply> ManagementApi::update_online_endpoint(const ManagementContext& c) {
  RETURN_IF_ERROR(only(c.body, {"traffic", "mirror_traffic"}));
  ASSIGN_OR_RETURN(auto traffic, traffic_field(c.body, "traffic"));
  ASSIGN_OR_RETURN(auto mirror, traffic_field(c.body, "mirror_traffic"));
  ASSIGN_OR_RETURN(OnlineEndpoint e, platform_.update_online_traffic(c.param("workspace"), c.param("name"), traffic, mirror));
  return ManagementReply{200, online_endpoint_json(e)};
}

StatusOr<ManagementReply> ManagementApi::delete_online_endpoint(const ManagementContext& c) {
  RETURN_IF_ERROR(platform_.delete_online_endpoint(c.param("workspace"), c.param("name")));
  return ManagementReply{200, OJson{{"name", c.param("name")}, {"state", "Deleted"}}};
}

StatusOr<ManagementReply> ManagementApi::online_list_keys(const ManagementContext& c) {
  ASSIGN_OR_RETURN(EndpointKeys k, platform_.online_endpoint_keys(c.param("workspace"), c.param("name")));
  return ManagementReply{200, OJson{{"primaryKey", k.primary}, {"secondaryKey", k.secondary},
                                    {"url", platform_.endpoint_url(c.param("name"))}}};
}

StatusOr<ManagementReply> ManagementApi::online_regenerate_keys(const ManagementContext& c) {
  RETURN_IF_ERROR(only(c.body, {"key_type"}));
  auto kt = c.body.find("key_type");
  if (kt == c.body.end() || !kt->is_string() || (*kt != "primary" && *kt != "secondary")) {
    return invalid_argument("key_type must be 'primary' or 'secondary'");
  }
  RETURN_IF_ERROR(platform_.regenerate_online_key(c.param("workspace"), c.param("name"),
                                                  *kt == "primary" ? KeySlot::kPrimary : KeySlot::kSecondary)
                      .status());
  return online_list_keys(c);
}

StatusOr<ManagementReply> ManagementApi::list_deployments(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("endpoint")));
  ASSIGN_OR_RETURN(auto all, store_.list_deployments(e.id));
  OJson items = OJson::array();
  for (const OnlineDeployment& d : all) items.push_back(deployment_json(e, d));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_deployment(const ManagementContext& c) {
  ASSIGN_OR_RETURN(OnlineDeploymentSpec spec, deployment_spec(c.body, true));
  ASSIGN_OR_RETURN(OnlineDeployment d, platform_.create_deployment(c.param("workspace"), c.param("endpoint"), spec));
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("endpoint")));
  return ManagementReply{201, deployment_json(e, d)};
}

StatusOr<ManagementReply> ManagementApi::show_deployment(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("endpoint")));
  ASSIGN_OR_RETURN(OnlineDeployment d, store_.deployment(e.id, c.param("name")));
  return ManagementReply{200, deployment_json(e, d)};
}

StatusOr<ManagementReply> ManagementApi::update_deployment(const ManagementContext& c) {
  ASSIGN_OR_RETURN(OnlineDeploymentSpec spec, deployment_spec(c.body, false));
  if (!spec.name.empty() && spec.name != c.param("name")) return invalid_argument("name cannot change");
  spec.name = c.param("name");
  ASSIGN_OR_RETURN(OnlineDeployment d, platform_.update_deployment(c.param("workspace"), c.param("endpoint"), spec));
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("endpoint")));
  return ManagementReply{200, deployment_json(e, d)};
}

StatusOr<ManagementReply> ManagementApi::delete_deployment(const ManagementContext& c) {
  RETURN_IF_ERROR(platform_.delete_deployment(c.param("workspace"), c.param("endpoint"), c.param("name")));
  return ManagementReply{200, OJson{{"name", c.param("name")}, {"deleted", true}}};
}

StatusOr<ManagementReply> ManagementApi::deployment_logs(const ManagementContext& c) {
  int instance = 0, lines = 100;
  for (auto [q, target, hi] : {std::tuple<const char*, int*, int>{"instance", &instance, 63}, {"lines", &lines, 10000}}) {
    const std::string v = c.query(q);
    if (v.empty()) continue;
    if (v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) > hi) {
      return invalid_argument(std::string(q) + " must be an integer from 0 to " + std::to_string(hi));
    }
    *target = std::stoi(v);
  }
  ASSIGN_OR_RETURN(std::string text, platform_.deployment_logs(c.param("workspace"), c.param("endpoint"),
                                                               c.param("name"), instance, std::max(1, lines)));
  return ManagementReply{200, OJson{{"deployment", c.param("name")}, {"instance", instance}, {"log", text}}};
}

StatusOr<ManagementReply> ManagementApi::deployment_metrics(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(OnlineEndpoint e, store_.online_endpoint(w.id, c.param("endpoint")));
  ASSIGN_OR_RETURN(OnlineDeployment d, store_.deployment(e.id, c.param("name")));
  const std::string q = c.query("instance");
  const int index = q.empty() || q.size() > 2 || q.find_first_not_of("0123456789") != std::string::npos ? 0 : std::stoi(q);
  std::shared_ptr<Instance> inst = supervisor_.instance(online_deployment(e.name, d.name), index);
  if (!inst || inst->port() == 0) return unavailable("instance " + std::to_string(index) + " is not running");
  http::ClientRequest req;
  req.port = inst->port();
  req.target = "/metrics";
  req.headers = {{"authorization", "Bearer " + inst->key()}};
  req.response_timeout_ms = 5000;
  req.read_timeout_ms = 5000;
  ASSIGN_OR_RETURN(http::ClientResponse r, client_.fetch(std::move(req)));
  if (r.status != 200) return unavailable("instance " + std::to_string(index) + " answered " + std::to_string(r.status));
  return ManagementReply{200, OJson{{"deployment", d.name}, {"instance", index}, {"metrics", r.body}}};
}

StatusOr<ManagementReply> ManagementApi::advance_clock(const ManagementContext& c) {
  if (test_clock_ == nullptr) return not_found("no test clock: start maas serve with --test-clock");
  RETURN_IF_ERROR(only(c.body, {"advance_ms"}));
  ASSIGN_OR_RETURN(auto ms, opt_field<int64_t>(c.body, "advance_ms"));
  if (!ms || *ms < 0) return invalid_argument("advance_ms must be a non-negative integer");
  test_clock_->advance_ms(*ms);
  platform_.tick();
  return ManagementReply{200, OJson{{"now", iso_time(test_clock_->now_unix_ms())}}};
}

}  // namespace maas
