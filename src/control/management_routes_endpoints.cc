// management_routes_endpoints.cc — handlers for serverless endpoints and their keys.
#include "control/management_api.h"

namespace maas {
namespace {

StatusOr<std::optional<int64_t>> limit_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return std::optional<int64_t>();
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > (uint64_t{1} << 62))) {
    return invalid_argument(std::string(name) + " must be an integer");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace

OJson ManagementApi::endpoint_json(const ServerlessEndpoint& e) {
  OJson j;
  j["id"] = e.id;
  j["name"] = e.name;
  auto ws = store_.workspace_by_id(e.workspace_id);
  j["workspace"] = ws.ok() ? ws->name : e.workspace_id;
  j["region"] = e.region;
  j["model"] = e.model_name;
  j["offering"] = e.offering_id;
  j["state"] = e.state;
  j["failure_reason"] = e.failure_reason.empty() ? OJson(nullptr) : OJson(e.failure_reason);
  j["url"] = platform_.endpoint_url(e);
  j["openai_base_url"] = platform_.endpoint_url(e) + "/v1";
  const std::string host = platform_.endpoint_host(e);
  j["host"] = host.empty() ? OJson(nullptr) : OJson(host);
  j["auth_mode"] = "key";
  j["keys"] = {{"primary_prefix", e.primary.prefix}, {"secondary_prefix", e.secondary.prefix}};
  j["limits"] = {{"requests_per_minute", e.requests_per_minute}, {"tokens_per_minute", e.tokens_per_minute}};
  OJson state = OJson::object();
  for (const auto& [k, v] : platform_.rate_limit_state(e.id)) {
    const std::string name = k.substr(std::string("x-ratelimit-").size());  // "remaining-tokens", ...
    state[name] = v.find_first_not_of("0123456789") == std::string::npos ? OJson(std::stoll(v)) : OJson(v);
  }
  j["rate_limit_state"] = state;
  j["content_safety"] = {{"enabled", true}, {"categories", OJson::array({"hate", "sexual", "violence", "self_harm"})}};
  j["requests_in_flight"] = platform_.inflight(e.id);
  j["created_at"] = iso_time(e.created_at);
  j["updated_at"] = iso_time(e.updated_at);
  return j;
}

StatusOr<ManagementReply> ManagementApi::list_endpoints(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(auto all, store_.list_endpoints(w.id));
  OJson items = OJson::array();
  for (const ServerlessEndpoint& e : all) items.push_back(endpoint_json(e));
  return ManagementReply{200, OJson{{"object", "list"}, {"data", std::move(items)}}};
}

StatusOr<ManagementReply> ManagementApi::create_endpoint(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "name" && it.key() != "model") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: name, model)");
    }
  }
  auto name = c.body.find("name");
  if (name == c.body.end() || !name->is_string()) return invalid_argument("name is required and must be a string");
  auto model = c.body.find("model");
  if (model == c.body.end() || !model->is_string()) return invalid_argument("model is required and must be a string");
  ASSIGN_OR_RETURN(ServerlessEndpoint e, platform_.create_endpoint(c.param("workspace"), *name, *model));
  return ManagementReply{201, endpoint_json(e)};
}

StatusOr<ManagementReply> ManagementApi::show_endpoint(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(ServerlessEndpoint e, store_.endpoint(w.id, c.param("name")));
  return ManagementReply{200, endpoint_json(e)};
}

StatusOr<ManagementReply> ManagementApi::update_endpoint(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "requests_per_minute" && it.key() != "tokens_per_minute") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) +
                              "' (allowed: requests_per_minute, tokens_per_minute)");
    }
  }
  ASSIGN_OR_RETURN(auto rpm, limit_field(c.body, "requests_per_minute"));
  ASSIGN_OR_RETURN(auto tpm, limit_field(c.body, "tokens_per_minute"));
  ASSIGN_OR_RETURN(ServerlessEndpoint e, platform_.update_endpoint(c.param("workspace"), c.param("name"), rpm, tpm));
  return ManagementReply{200, endpoint_json(e)};
}

StatusOr<ManagementReply> ManagementApi::delete_endpoint(const ManagementContext& c) {
  RETURN_IF_ERROR(platform_.delete_endpoint(c.param("workspace"), c.param("name")));
  return ManagementReply{200, OJson{{"name", c.param("name")}, {"state", "Deleted"}}};
}

StatusOr<ManagementReply> ManagementApi::list_keys(const ManagementContext& c) {
  ASSIGN_OR_RETURN(EndpointKeys k, platform_.endpoint_keys(c.param("workspace"), c.param("name")));
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(ServerlessEndpoint e, store_.endpoint(w.id, c.param("name")));
  return ManagementReply{200, OJson{{"primaryKey", k.primary}, {"secondaryKey", k.secondary},
                                    {"url", platform_.endpoint_url(e)}}};
}

StatusOr<ManagementReply> ManagementApi::regenerate_keys(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "key_type") return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: key_type)");
  }
  auto kt = c.body.find("key_type");
  if (kt == c.body.end() || !kt->is_string() || (*kt != "primary" && *kt != "secondary")) {
    return invalid_argument("key_type must be 'primary' or 'secondary'");
  }
  const KeySlot slot = *kt == "primary" ? KeySlot::kPrimary : KeySlot::kSecondary;
  RETURN_IF_ERROR(platform_.regenerate_key(c.param("workspace"), c.param("name"), slot).status());
  ASSIGN_OR_RETURN(EndpointKeys k, platform_.endpoint_keys(c.param("workspace"), c.param("name")));
  return ManagementReply{200, OJson{{"primaryKey", k.primary}, {"secondaryKey", k.secondary}}};
}

}  // namespace maas
