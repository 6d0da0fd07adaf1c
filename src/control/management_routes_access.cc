// management_routes_access.cc — handlers for access control: principals and their tokens,
// roles, role assignments, and the audit log.
#include "control/management_api.h"
#include "control/secrets.h"

namespace maas {
namespace {

OJson principal_json(const Principal& p) {
  return OJson{{"id", p.id}, {"name", p.name}, {"kind", p.kind}, {"description", p.description},
               {"created_at", iso_time(p.created_at)}};
}

OJson token_json(const ApiToken& t) {
  return OJson{{"id", t.id}, {"principal", t.principal_name}, {"name", t.name}, {"prefix", t.prefix},
               {"created_at", iso_time(t.created_at)}, {"expires_at", iso_time(t.expires_at)},
               {"last_used_at", iso_time(t.last_used_at)}, {"revoked_at", iso_time(t.revoked_at)},
               {"active", t.revoked_at == 0}};
}

OJson role_json(const Role& r) {
  return OJson{{"id", r.id}, {"name", r.name}, {"description", r.description}, {"builtin", r.builtin},
               {"actions", r.actions}, {"not_actions", r.not_actions}};
}

OJson assignment_json(const RoleAssignment& a) {
  return OJson{{"id", a.id}, {"principal", a.principal_name}, {"role", a.role_name}, {"scope", a.scope},
               {"created_by", a.created_by}, {"created_at", iso_time(a.created_at)}};
}

OJson list_of(OJson items) { return OJson{{"object", "list"}, {"data", std::move(items)}}; }

Status validate_principal_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return invalid_argument("name must be 1 to 64 characters");
  if (!std::isalpha(static_cast<unsigned char>(name[0]))) return invalid_argument("name must start with a letter");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@') {
      return invalid_argument("name may contain only letters, digits, '-', '_', '.' and '@'");
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> action_list(const nlohmann::json& body, const char* field) {
  std::vector<std::string> out;
  auto it = body.find(field);
  if (it == body.end()) return out;
  if (!it->is_array() || it->size() > 200) return invalid_argument(std::string(field) + " must be an array of actions");
  for (const auto& a : *it) {
    if (!a.is_string()) return invalid_argument(std::string(field) + " must be an array of strings");
    RETURN_IF_ERROR(validate_action(a.get<std::string>()));
    out.push_back(a.get<std::string>());
  }
  return out;
}

// A new token for a principal; `expires_in_days` 0 = never.
StatusOr<OJson> issue_token(Store& store, const Principal& p, const std::string& name, int64_t expires_in_days) {
  NewToken t = new_api_token();
  const int64_t expires = expires_in_days > 0 ? store.now_ms() + expires_in_days * 86400000 : 0;
  ASSIGN_OR_RETURN(ApiToken saved, store.add_token(p.id, name.empty() ? "token" : name, t.digest, t.prefix, expires));
  saved.principal_name = p.name;
  OJson j = token_json(saved);
  j["token"] = t.token;  // shown once
  return j;
}

StatusOr<std::pair<std::string, int64_t>> token_fields(const nlohmann::json& body) {
  std::string name;
  int64_t days = 0;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "name" && it.key() != "expires_in_days") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: name, expires_in_days)");
    }
  }
  if (auto n = body.find("name"); n != body.end()) {
    if (!n->is_string() || n->get<std::string>().size() > 64) return invalid_argument("name must be a string of at most 64 characters");
    name = *n;
  }
  if (auto d = body.find("expires_in_days"); d != body.end()) {
    if (!d->is_number_integer() || d->get<int64_t>() < 1 || d->get<int64_t>() > 3650) {
      return invalid_argument("expires_in_days must be an integer from 1 to 3650");
    }
    days = *d;
  }
  return std::make_pair(name, days);
}

}  // namespace

StatusOr<ManagementReply> ManagementApi::list_principals(const ManagementContext&) {
  ASSIGN_OR_RETURN(auto all, store_.list_principals());
  OJson items = OJson::array();
  for (const Principal& p : all) items.push_back(principal_json(p));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_principal(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "name" && it.key() != "kind" && it.key() != "description") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: name, kind, description)");
    }
  }
  auto name = c.body.find("name");
  if (name == c.body.end() || !name->is_string()) return invalid_argument("name is required and must be a string");
  RETURN_IF_ERROR(validate_principal_name(*name));
  std::string kind = "user";
  if (auto k = c.body.find("kind"); k != c.body.end()) {
    if (!k->is_string() || (*k != "user" && *k != "service_principal")) {
      return invalid_argument("kind must be 'user' or 'service_principal'");
    }
    kind = *k;
  }
  ASSIGN_OR_RETURN(Principal p, store_.create_principal(*name, kind, false));
  ASSIGN_OR_RETURN(OJson token, issue_token(store_, p, "initial", 0));
  OJson j = principal_json(p);
  j["token"] = token;
  return ManagementReply{201, std::move(j)};
}

StatusOr<ManagementReply> ManagementApi::show_principal(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Principal p, store_.principal(c.param("principal")));
  OJson j = principal_json(p);
  ASSIGN_OR_RETURN(auto assignments, store_.list_assignments(p.id, ""));
  OJson roles = OJson::array();
  for (const RoleAssignment& a : assignments) roles.push_back(assignment_json(a));
  j["role_assignments"] = std::move(roles);
  return ManagementReply{200, std::move(j)};
}

StatusOr<ManagementReply> ManagementApi::delete_principal(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Principal p, store_.principal(c.param("principal")));
  if (p.id == c.principal.id) return failed_precondition("a principal cannot delete itself");
  RETURN_IF_ERROR(store_.delete_principal(p.name));
  return ManagementReply{200, OJson{{"name", p.name}, {"deleted", true}}};
}

StatusOr<ManagementReply> ManagementApi::list_tokens(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Principal p, store_.principal(c.param("principal")));
  RETURN_IF_ERROR(check_self_or(c, p, "authorization/tokens/read"));
  ASSIGN_OR_RETURN(auto all, store_.list_tokens(p.id));
  OJson items = OJson::array();
  for (const ApiToken& t : all) items.push_back(token_json(t));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_token(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Principal p, store_.principal(c.param("principal")));
  RETURN_IF_ERROR(check_self_or(c, p, "authorization/tokens/write"));
  ASSIGN_OR_RETURN(auto fields, token_fields(c.body));
  ASSIGN_OR_RETURN(OJson j, issue_token(store_, p, fields.first, fields.second));
  return ManagementReply{201, std::move(j)};
}

StatusOr<ManagementReply> ManagementApi::revoke_token(const ManagementContext& c) {
  ASSIGN_OR_RETURN(ApiToken t, store_.token(c.param("token")));
  ASSIGN_OR_RETURN(Principal owner, store_.principal_by_id(t.principal_id));
  RETURN_IF_ERROR(check_self_or(c, owner, "authorization/tokens/delete"));
  RETURN_IF_ERROR(store_.revoke_token(t.id));
  return ManagementReply{200, OJson{{"id", t.id}, {"revoked", true}}};
}

StatusOr<ManagementReply> ManagementApi::list_roles(const ManagementContext&) {
  ASSIGN_OR_RETURN(auto all, store_.list_roles());
  OJson items = OJson::array();
  for (const Role& r : all) items.push_back(role_json(r));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_role(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "name" && it.key() != "description" && it.key() != "actions" && it.key() != "not_actions") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) +
                              "' (allowed: name, description, actions, not_actions)");
    }
  }
  auto name = c.body.find("name");
  if (name == c.body.end() || !name->is_string()) return invalid_argument("name is required and must be a string");
  RETURN_IF_ERROR(validate_principal_name(*name));
  Role r;
  r.name = *name;
  if (auto d = c.body.find("description"); d != c.body.end() && d->is_string()) r.description = *d;
  ASSIGN_OR_RETURN(r.actions, action_list(c.body, "actions"));
  ASSIGN_OR_RETURN(r.not_actions, action_list(c.body, "not_actions"));
  if (r.actions.empty()) return invalid_argument("actions must name at least one action");
  ASSIGN_OR_RETURN(Role created, store_.create_role(r));
  return ManagementReply{201, role_json(created)};
}

StatusOr<ManagementReply> ManagementApi::show_role(const ManagementContext& c) {
  ASSIGN_OR_RETURN(Role r, store_.role(c.param("role")));
  return ManagementReply{200, role_json(r)};
}

StatusOr<ManagementReply> ManagementApi::delete_role(const ManagementContext& c) {
  RETURN_IF_ERROR(store_.delete_role(c.param("role")));
  return ManagementReply{200, OJson{{"name", c.param("role")}, {"deleted", true}}};
}

StatusOr<ManagementReply> ManagementApi::list_assignments(const ManagementContext& c) {
  std::string principal_id;
  if (!c.query("principal").empty()) {
    ASSIGN_OR_RETURN(Principal p, store_.principal(c.query("principal")));
    principal_id = p.id;
  }
  ASSIGN_OR_RETURN(auto all, store_.list_assignments(principal_id, c.query("scope")));
  OJson items = OJson::array();
  for (const RoleAssignment& a : all) items.push_back(assignment_json(a));
  return ManagementReply{200, list_of(std::move(items))};
}

StatusOr<ManagementReply> ManagementApi::create_assignment(const ManagementContext& c) {
  for (auto it = c.body.begin(); it != c.body.end(); ++it) {
    if (it.key() != "principal" && it.key() != "role" && it.key() != "scope") {
      return invalid_argument("unknown field '" + it.key().substr(0, 64) + "' (allowed: principal, role, scope)");
    }
  }
  std::string fields[3];
  const char* names[3] = {"principal", "role", "scope"};
  for (int i = 0; i < 3; ++i) {
    auto f = c.body.find(names[i]);
    if (f == c.body.end() || !f->is_string()) return invalid_argument(std::string(names[i]) + " is required and must be a string");
    fields[i] = *f;
  }
  RETURN_IF_ERROR(validate_scope(fields[2]));
  // Checked at the scope being granted: an Owner of a workspace may assign roles inside it.
  RETURN_IF_ERROR(authorizer_.check(c.principal, "authorization/roleAssignments/write", fields[2]));
  if (fields[2] != "/") {
    const std::string ws = fields[2].substr(12, fields[2].find('/', 12) - 12);
    RETURN_IF_ERROR(store_.workspace(ws).status());
  }
  ASSIGN_OR_RETURN(Principal p, store_.principal(fields[0]));
  ASSIGN_OR_RETURN(Role r, store_.role(fields[1]));
  ASSIGN_OR_RETURN(RoleAssignment a, store_.create_assignment(p.id, r.id, fields[2], c.principal.name));
  return ManagementReply{201, assignment_json(a)};
}

StatusOr<ManagementReply> ManagementApi::delete_assignment(const ManagementContext& c) {
  ASSIGN_OR_RETURN(auto all, store_.list_assignments("", ""));
  for (const RoleAssignment& a : all) {
    if (a.id != c.param("assignment")) continue;
    RETURN_IF_ERROR(authorizer_.check(c.principal, "authorization/roleAssignments/delete", a.scope));
    RETURN_IF_ERROR(store_.delete_assignment(a.id));
    return ManagementReply{200, OJson{{"id", a.id}, {"deleted", true}}};
  }
  return not_found("role assignment '" + c.param("assignment").substr(0, 64) + "' not found");
}

StatusOr<ManagementReply> ManagementApi::show_audit(const ManagementContext& c) {
  int64_t since = 0;
  if (!c.query("since").empty()) {
    ASSIGN_OR_RETURN(since, parse_time(c.query("since"), store_.now_ms()));
  }
  ASSIGN_OR_RETURN(auto records, store_.audit(since, c.query("principal"), 100000));
  OJson items = OJson::array();
  for (const AuditRecord& a : records) {
    items.push_back(OJson{{"seq", a.seq}, {"time", iso_time(a.time)}, {"principal", a.principal_name},
                          {"action", a.action}, {"scope", a.scope}, {"method", a.method}, {"path", a.path},
                          {"status", a.status}, {"outcome", a.outcome}, {"request_id", a.request_id},
                          {"detail", a.detail}});
  }
  return ManagementReply{200, list_of(std::move(items))};
}

}  // namespace maas
