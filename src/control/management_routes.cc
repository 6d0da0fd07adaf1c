// management_routes.cc — handlers of the management API: workspaces, models, offerings,
// marketplace subscriptions, usage, instances.
#include <set>

#include "control/catalog.h"
#include "control/management_api.h"

namespace maas {
namespace {

// Reads an optional string field; a present field of another type is an error naming it.
StatusOr<std::string> string_field(const nlohmann::json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return invalid_argument(std::string(name) + " is required");
    return std::string();
  }
  if (!it->is_string()) return invalid_argument(std::string(name) + " must be a string");
  return it->get<std::string>();
}

Status only_fields(const nlohmann::json& body, std::set<std::string> allowed) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (allowed.count(it.key()) == 0) {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: " + [&] {
        std::string s;
        for (const auto& a : allowed) s += (s.empty() ? "" : ", ") + a;
        return s;
      }() + ")");
    }
  }
  return Status::Ok();
}

ManagementReply reply(OJson body, int status = 200) { return ManagementReply{status, std::move(body)}; }

OJson list_of(OJson items) { return OJson{{"object", "list"}, {"data", std::move(items)}}; }

OJson workspace_json(const Workspace& w) {
  return OJson{{"id", w.id}, {"name", w.name}, {"region", w.region}, {"created_at", iso_time(w.created_at)}};
}

}  // namespace

StatusOr<Workspace> ManagementApi::workspace_of(const ManagementContext& c) {
  return store_.workspace(c.param("workspace"));
}

StatusOr<ManagementReply> ManagementApi::whoami(const ManagementContext& c) {
  ASSIGN_OR_RETURN(auto assignments, store_.list_assignments(c.principal.id, ""));
  OJson roles = OJson::array();
  for (const RoleAssignment& a : assignments) roles.push_back(OJson{{"role", a.role_name}, {"scope", a.scope}});
  return reply(OJson{{"id", c.principal.id}, {"name", c.principal.name}, {"kind", c.principal.kind},
                     {"role_assignments", std::move(roles)}});
}

// ---- workspaces --------------------------------------------------------------------------

StatusOr<ManagementReply> ManagementApi::list_workspaces(const ManagementContext& c) {
  ASSIGN_OR_RETURN(auto all, store_.list_workspaces());
  OJson items = OJson::array();
  for (const Workspace& w : all) {
    if (authorizer_.can_see(c.principal, "/workspaces/" + w.name)) items.push_back(workspace_json(w));
  }
  return reply(list_of(std::move(items)));
}

StatusOr<ManagementReply> ManagementApi::create_workspace(const ManagementContext& c) {
  RETURN_IF_ERROR(only_fields(c.body, {"name", "region"}));
  ASSIGN_OR_RETURN(std::string name, string_field(c.body, "name", true));
  ASSIGN_OR_RETURN(std::string region, string_field(c.body, "region", false));
  ASSIGN_OR_RETURN(Workspace w, platform_.create_workspace(name, region));
  return reply(workspace_json(w), 201);
}

StatusOr<ManagementReply> ManagementApi::show_workspace(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  return reply(workspace_json(w));
}

// ---- models and offerings ----------------------------------------------------------------

StatusOr<ManagementReply> ManagementApi::list_models(const ManagementContext&) {
  ASSIGN_OR_RETURN(auto models, store_.list_models());
  ASSIGN_OR_RETURN(auto offerings, store_.list_offerings());
  OJson items = OJson::array();
  for (const Model& m : models) {
    const Offering* o = nullptr;
    for (const Offering& x : offerings) {
      if (x.model_name == m.name) o = &x;
    }
    items.push_back(model_json(m, o));
  }
  return reply(list_of(std::move(items)));
}

StatusOr<ManagementReply> ManagementApi::show_model(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Model m, store_.model(c.param("model")));
  auto o = store_.offering_for_model(m.name);
  return reply(model_json(m, o.ok() ? &*o : nullptr));
}

StatusOr<ManagementReply> ManagementApi::register_model(const ManagementContext& c) {
  RETURN_IF_ERROR(only_fields(c.body, {"name", "path", "custom", "price_input_per_1k", "price_output_per_1k"}));
  ASSIGN_OR_RETURN(std::string name, string_field(c.body, "name", true));
  ASSIGN_OR_RETURN(std::string path, string_field(c.body, "path", true));
  bool custom = false;
  if (auto it = c.body.find("custom"); it != c.body.end()) {
    if (!it->is_boolean()) return invalid_argument("custom must be a boolean");
    custom = it->get<bool>();
  }
  int64_t prices[2] = {0, 0};
  const char* price_fields[2] = {"price_input_per_1k", "price_output_per_1k"};
  for (int i = 0; i < 2; ++i) {
    auto it = c.body.find(price_fields[i]);
    if (it == c.body.end()) continue;
    if (!it->is_number()) return invalid_argument(std::string(price_fields[i]) + " must be a number");
    ASSIGN_OR_RETURN(prices[i], micro_from_usd(it->get<double>()));
  }
  ASSIGN_OR_RETURN(Model m, platform_.register_model(name, path, custom, prices[0], prices[1]));
  auto o = store_.offering_for_model(m.name);
  return reply(model_json(m, o.ok() ? &*o : nullptr), 201);
}

StatusOr<ManagementReply> ManagementApi::update_model(const ManagementContext& c) {
  RETURN_IF_ERROR(only_fields(c.body, {"serverless_instances"}));
  auto it = c.body.find("serverless_instances");
  if (it == c.body.end() || !it->is_number_integer()) return invalid_argument("serverless_instances must be an integer");
  const int64_t n = it->is_number_unsigned() && it->get<uint64_t>() > 1000 ? 1000 : it->get<int64_t>();
  ASSIGN_OR_RETURN(Model m, platform_.set_serverless_instances(c.param("model"), static_cast<int32_t>(n)));
  auto o = store_.offering_for_model(m.name);
  return reply(model_json(m, o.ok() ? &*o : nullptr));
}

StatusOr<ManagementReply> ManagementApi::delete_model(const ManagementContext& c) {
  RETURN_IF_ERROR(platform_.remove_model(c.param("model")));
  return reply(OJson{{"name", c.param("model")}, {"deleted", true}});
}

StatusOr<ManagementReply> ManagementApi::list_offerings(const ManagementContext&) {
  ASSIGN_OR_RETURN(auto all, store_.list_offerings());
  OJson items = OJson::array();
  for (const Offering& o : all) items.push_back(offering_json(o));
  return reply(list_of(std::move(items)));
}

StatusOr<ManagementReply> ManagementApi::show_offering(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Offering o, store_.offering(c.param("offering")));
  return reply(offering_json(o));
}

StatusOr<ManagementReply> ManagementApi::update_offering(const ManagementContext& c) {
  RETURN_IF_ERROR(only_fields(c.body, {"price_input_per_1k", "price_output_per_1k"}));
  ASSIGN_OR_RETURN(Offering o, store_.offering(c.param("offering")));
  int64_t in = o.price_input_micro, out = o.price_output_micro;
  for (auto [field, target] : {std::pair<const char*, int64_t*>{"price_input_per_1k", &in}, {"price_output_per_1k", &out}}) {
    auto it = c.body.find(field);
    if (it == c.body.end()) continue;
    if (!it->is_number()) return invalid_argument(std::string(field) + " must be a number");
    ASSIGN_OR_RETURN(*target, micro_from_usd(it->get<double>()));
  }
  RETURN_IF_ERROR(platform_.set_offering_prices(o.id, in, out));
  ASSIGN_OR_RETURN(Offering updated, store_.offering(o.id));
  return reply(offering_json(updated));
}

// ---- marketplace subscriptions -----------------------------------------------------------

StatusOr<ManagementReply> ManagementApi::list_subscriptions(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(auto all, store_.list_subscriptions(w.id));
  OJson items = OJson::array();
  for (const Subscription& s : all) items.push_back(subscription_json(s, w.name));
  return reply(list_of(std::move(items)));
}

StatusOr<ManagementReply> ManagementApi::create_subscription(const ManagementContext& c) {
  RETURN_IF_ERROR(only_fields(c.body, {"name", "model", "offering"}));
  ASSIGN_OR_RETURN(std::string name, string_field(c.body, "name", false));
  ASSIGN_OR_RETURN(std::string model, string_field(c.body, "model", false));
  ASSIGN_OR_RETURN(std::string offering, string_field(c.body, "offering", false));
  if (model.empty() && offering.empty()) return invalid_argument("model is required (or offering)");
  ASSIGN_OR_RETURN(Subscription s, platform_.subscribe(c.param("workspace"), name, offering.empty() ? model : offering));
  ASSIGN_OR_RETURN(Offering o, store_.offering(s.offering_id));
  OJson j = subscription_json(s, c.param("workspace"));
  j["terms"] = o.terms;
  j["price_input_per_1k"] = usd_per_1k(o.price_input_micro);
  j["price_output_per_1k"] = usd_per_1k(o.price_output_micro);
  return reply(std::move(j), 201);
}

StatusOr<ManagementReply> ManagementApi::show_subscription(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  ASSIGN_OR_RETURN(Subscription s, store_.subscription(w.id, c.param("name")));
  return reply(subscription_json(s, w.name));
}

StatusOr<ManagementReply> ManagementApi::delete_subscription(const ManagementContext& c) {
  RETURN_IF_ERROR(platform_.unsubscribe(c.param("workspace"), c.param("name")));
  return reply(OJson{{"name", c.param("name")}, {"deleted", true}});
}

// ---- usage -------------------------------------------------------------------------------

// The usage query of a workspace from ?since=&until=&endpoint=.
StatusOr<UsageQuery> ManagementApi::usage_query(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Workspace w, workspace_of(c));
  UsageQuery q;
  q.workspace_id = w.id;
  const int64_t now = store_.now_ms();
  if (!c.query("since").empty()) {
    ASSIGN_OR_RETURN(q.since_ms, parse_time(c.query("since"), now));
  }
  if (!c.query("until").empty()) {
    ASSIGN_OR_RETURN(q.until_ms, parse_time(c.query("until"), now));
  }
  q.endpoint_name = c.query("endpoint");
  return q;
}

StatusOr<ManagementReply> ManagementApi::usage_report(const ManagementContext& c) {
  ASSIGN_OR_RETURN(UsageQuery q, usage_query(c));
  const std::string by = c.query("by").empty() ? "day" : c.query("by");
  if (by != "day" && by != "endpoint" && by != "meter") return invalid_argument("by must be day, endpoint or meter");
  ASSIGN_OR_RETURN(auto rows, store_.usage_report(q, by));
  OJson items = OJson::array();
  int64_t requests = 0, prompt = 0, completion = 0, cost = 0;
  for (const UsageRow& r : rows) {
    OJson j{{"key", r.key}};
    if (by == "meter") {
      j["offering"] = r.offering_id;
      j["meter"] = r.meter;
      j["quantity"] = r.quantity;
    } else {
      j["requests"] = r.requests;
      j["prompt_tokens"] = r.prompt_tokens;
      j["completion_tokens"] = r.completion_tokens;
      requests += r.requests;
      prompt += r.prompt_tokens;
      completion += r.completion_tokens;
    }
    j["cost_nano_usd"] = r.cost_nano_usd;
    j["cost_usd"] = static_cast<double>(r.cost_nano_usd) / 1e9;
    cost += r.cost_nano_usd;
    items.push_back(std::move(j));
  }
  if (by == "meter") {  // requests and tokens from the per-day view, so totals are complete
    ASSIGN_OR_RETURN(auto days, store_.usage_report(q, "day"));
    for (const UsageRow& r : days) {
      requests += r.requests;
      prompt += r.prompt_tokens;
      completion += r.completion_tokens;
    }
  }
  // Managed compute: instance-hours, a meter per instance type (cost at the type's hourly price).
  ASSIGN_OR_RETURN(auto hours, store_.instance_hours_report(q, by));
  OJson hour_rows = OJson::array();
  for (const Store::InstanceHoursRow& h : hours) {
    hour_rows.push_back(OJson{{"key", by == "meter" ? "instance_hours/" + h.instance_type : h.key},
                              {"instance_type", h.instance_type}, {"hours", static_cast<double>(h.instance_ms) / 3600000.0},
                              {"cost_nano_usd", h.cost_nano_usd}, {"cost_usd", static_cast<double>(h.cost_nano_usd) / 1e9}});
    cost += h.cost_nano_usd;
  }
  OJson totals{{"requests", requests}, {"prompt_tokens", prompt}, {"completion_tokens", completion},
               {"cost_nano_usd", cost}, {"cost_usd", static_cast<double>(cost) / 1e9}};
  return reply(OJson{{"workspace", c.param("workspace")}, {"by", by}, {"since", iso_time(q.since_ms)}, {"currency", "USD"},
                     {"data", std::move(items)}, {"instance_hours", std::move(hour_rows)},
                     {"totals", std::move(totals)}});
}

StatusOr<ManagementReply> ManagementApi::usage_records(const ManagementContext& c) {
  ASSIGN_OR_RETURN(UsageQuery q, usage_query(c));
  int64_t limit = 1000;
  if (!c.query("limit").empty()) {
    const std::string l = c.query("limit");
    if (l.size() > 6 || l.find_first_not_of("0123456789") != std::string::npos) return invalid_argument("limit must be 1 to 100000");
    limit = std::stoll(l);
    if (limit < 1 || limit > 100000) return invalid_argument("limit must be 1 to 100000");
  }
  ASSIGN_OR_RETURN(auto records, store_.usage_records(q, limit));
  OJson items = OJson::array();
  for (const UsageRecord& r : records) {
    items.push_back(OJson{{"id", r.id}, {"request_id", r.request_id}, {"endpoint", r.endpoint_name},
                          {"deployment", r.deployment}, {"model", r.model_name}, {"offering", r.offering_id},
                          {"key", r.key_slot}, {"route", r.route}, {"prompt_tokens", r.prompt_tokens},
                          {"completion_tokens", r.completion_tokens}, {"status", r.status}, {"outcome", r.outcome},
                          {"cost_nano_usd", r.prompt_tokens * r.price_input_micro + r.completion_tokens * r.price_output_micro},
                          {"started_at", iso_time(r.started_at)}, {"ended_at", iso_time(r.ended_at)}});
  }
  return reply(list_of(std::move(items)));
}

// ---- instances ---------------------------------------------------------------------------

StatusOr<ManagementReply> ManagementApi::list_instances(const ManagementContext&) {
  OJson items = OJson::array();
  for (const InstanceInfo& i : supervisor_.instances()) {
    items.push_back(OJson{{"deployment", i.deployment}, {"index", i.index}, {"pid", i.pid}, {"port", i.port},
                          {"state", instance_state_name(i.state)}, {"restarts", i.restarts},
                          {"outstanding_requests", i.outstanding}, {"last_error", i.last_error},
                          {"log", i.log_path}, {"started_at", iso_time(i.started_at_ms)}});
  }
  return reply(list_of(std::move(items)));
}

}  // namespace maas
