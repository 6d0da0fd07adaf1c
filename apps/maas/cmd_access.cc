// cmd_access.cc — access control from the command line (SPEC §5): `maas principal`, `maas token`,
// `maas role`, `maas role-assignment`, `maas audit`. Each is one management API call printed as
// a table, or as the API's JSON with --output json. Tokens are printed once, when created.
#include <cstdio>

#include "commands.h"
#include "platform_client.h"

namespace maas {
namespace {

void render_principals(const OJson& b) {
  Rows rows;
  for (const OJson& p : list_data(b)) rows.push_back({cell(p["name"]), cell(p["kind"]), cell(p["created_at"]), cell(p["description"])});
  print_table({"NAME", "KIND", "CREATED", "DESCRIPTION"}, rows);
}
void render_principal(const OJson& p) {
  render_principals(OJson{{"data", OJson::array({p})}});
  if (p.contains("token")) {
    std::printf("\ntoken (shown once; keep it safe): %s\n", cell(p["token"]["token"]).c_str());
  }
  if (p.contains("role_assignments") && !p["role_assignments"].empty()) {
    std::printf("\n");
    Rows rows;
    for (const OJson& a : p["role_assignments"]) rows.push_back({cell(a["id"]), cell(a["role"]), cell(a["scope"])});
    print_table({"ASSIGNMENT", "ROLE", "SCOPE"}, rows);
  }
}
void render_tokens(const OJson& b) {
  Rows rows;
  for (const OJson& t : list_data(b)) {
    rows.push_back({cell(t["id"]), cell(t["name"]), cell(t["prefix"]) + "...", cell(t["created_at"]), cell(t["expires_at"]),
                    cell(t["last_used_at"]), t["active"].get<bool>() ? "active" : "revoked"});
  }
  print_table({"ID", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATE"}, rows);
}
void render_new_token(const OJson& t) {
  std::printf("token %s (%s) for %s; shown once, keep it safe:\n%s\n", cell(t["id"]).c_str(), cell(t["name"]).c_str(),
              cell(t["principal"]).c_str(), cell(t["token"]).c_str());
}
void render_roles(const OJson& b) {
  Rows rows;
  for (const OJson& r : list_data(b)) {
    std::string actions, not_actions;
    for (const OJson& a : r["actions"]) actions += (actions.empty() ? "" : ", ") + a.get<std::string>();
    for (const OJson& a : r["not_actions"]) not_actions += (not_actions.empty() ? "" : ", ") + a.get<std::string>();
    rows.push_back({cell(r["name"]), r["builtin"].get<bool>() ? "built-in" : "custom", actions, not_actions});
  }
  print_table({"ROLE", "KIND", "ACTIONS", "NOT ACTIONS"}, rows);
}
void render_role(const OJson& r) {
  render_roles(OJson{{"data", OJson::array({r})}});
  if (!cell(r["description"]).empty()) std::printf("\n%s\n", cell(r["description"]).c_str());
}
void render_assignments(const OJson& b) {
  Rows rows;
  for (const OJson& a : list_data(b)) {
    rows.push_back({cell(a["id"]), cell(a["principal"]), cell(a["role"]), cell(a["scope"]), cell(a["created_by"])});
  }
  print_table({"ID", "PRINCIPAL", "ROLE", "SCOPE", "BY"}, rows);
}
void render_assignment(const OJson& a) { render_assignments(OJson{{"data", OJson::array({a})}}); }
void render_done(const OJson& b) {
  std::printf("%s %s\n", b.contains("revoked") ? "revoked" : "deleted", cell(b.contains("name") ? b["name"] : b["id"]).c_str());
}
void render_audit(const OJson& b) {
  Rows rows;
  for (const OJson& a : list_data(b)) {
    rows.push_back({cell(a["time"]), cell(a["principal"]), cell(a["method"]) + " " + cell(a["path"]), cell(a["action"]),
                    cell(a["status"]), cell(a["outcome"])});
  }
  print_table({"TIME", "PRINCIPAL", "CALL", "ACTION", "STATUS", "OUTCOME"}, rows);
}

// --scope, or --workspace-scope W [--endpoint E]: the scope of a role assignment.
std::string scope_of(const Args& a) {
  if (a.has("--scope")) return a.get("--scope");
  if (!a.has("--in-workspace")) return "/";
  std::string s = "/workspaces/" + a.get("--in-workspace");
  if (a.has("--endpoint")) s += "/serverlessEndpoints/" + a.get("--endpoint");
  return s;
}

OJson split_list(const std::string& s) {
  OJson out = OJson::array();
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string x = s.substr(i, j - i);
    while (!x.empty() && x.front() == ' ') x.erase(0, 1);
    while (!x.empty() && x.back() == ' ') x.pop_back();
    if (!x.empty()) out.push_back(x);
    i = j + 1;
  }
  return out;
}

std::string first(const Args& a) { return a.positional().empty() ? a.get("--name") : a.positional()[0]; }

}  // namespace

bool is_access_command(const std::string& c) {
  return c == "principal" || c == "token" || c == "role" || c == "role-assignment" || c == "audit";
}

int cmd_access(const std::string& command, const std::vector<std::string>& argv) {
  if (argv.empty()) return usage_error("maas " + command + " <verb> ... (see maas --help)");
  const std::string verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  std::set<std::string> flags = platform_value_flags();
  for (const char* f : {"--name", "--kind", "--description", "--principal", "--role", "--scope", "--in-workspace",
                        "--endpoint", "--actions", "--not-actions", "--expires-in-days", "--since"}) {
    flags.insert(f);
  }
  auto parsed = Args::parse(rest, flags, {});
  if (!parsed.ok()) return report_error(parsed.status().message(), 2);
  const Args& a = *parsed;
  const std::string name = first(a);
  if (command == "principal") {
    if (verb == "list") return run_and_print(a, "GET", "/api/principals", nullptr, render_principals);
    if (name.empty()) return usage_error("maas principal create|show|delete NAME");
    if (verb == "create") {
      OJson body{{"name", name}, {"kind", a.get("--kind", "user")}};
      if (a.has("--description")) body["description"] = a.get("--description");
      return run_and_print(a, "POST", "/api/principals", body, render_principal);
    }
    if (verb == "show") return run_and_print(a, "GET", "/api/principals/" + path_segment(name), nullptr, render_principal);
    if (verb == "delete") return run_and_print(a, "DELETE", "/api/principals/" + path_segment(name), nullptr, render_done);
    return usage_error("maas principal create|list|show|delete");
  }
  if (command == "token") {
    if (verb == "revoke") {
      if (name.empty()) return usage_error("maas token revoke TOKEN_ID");
      return run_and_print(a, "DELETE", "/api/tokens/" + path_segment(name), nullptr, render_done);
    }
    // Whose tokens: --principal, else the caller's own (from whoami).
    std::string who = a.get("--principal");
    if (who.empty()) {
      auto c = connect_from(a);
      if (!c.ok()) return report_error(c.status().message());
      auto me = api_call(*c, "GET", "/api/whoami");
      if (!me.ok()) return report_error(me.status().message());
      if (me->status != 200) return report_error(me->error);
      who = me->body.value("name", "");
    }
    const std::string base = "/api/principals/" + path_segment(who) + "/tokens";
    if (verb == "list") return run_and_print(a, "GET", base, nullptr, render_tokens);
    if (verb == "create") {
      OJson body = OJson::object();
      if (!name.empty()) body["name"] = name;
      if (a.has("--expires-in-days")) {
        auto d = a.get_int("--expires-in-days", 0, 1, 3650);
        if (!d.ok()) return report_error(d.status().message(), 2);
        body["expires_in_days"] = *d;
      }
      return run_and_print(a, "POST", base, body, render_new_token);
    }
    return usage_error("maas token create|list|revoke");
  }
  if (command == "role") {
    if (verb == "list") return run_and_print(a, "GET", "/api/roles", nullptr, render_roles);
    if (name.empty()) return usage_error("maas role create|show|delete NAME");
    if (verb == "create") {
      if (!a.has("--actions")) return usage_error("maas role create NAME --actions A,B,... [--not-actions C,...] [--description TEXT]");
      OJson body{{"name", name}, {"actions", split_list(a.get("--actions"))}, {"not_actions", split_list(a.get("--not-actions"))}};
      if (a.has("--description")) body["description"] = a.get("--description");
      return run_and_print(a, "POST", "/api/roles", body, render_role);
    }
    if (verb == "show") return run_and_print(a, "GET", "/api/roles/" + path_segment(name), nullptr, render_role);
    if (verb == "delete") return run_and_print(a, "DELETE", "/api/roles/" + path_segment(name), nullptr, render_done);
    return usage_error("maas role create|list|show|delete");
  }
  if (command == "role-assignment") {
    if (verb == "list") {
      std::string q;
      if (a.has("--principal")) q.append(q.empty() ? "?" : "&").append("principal=").append(path_segment(a.get("--principal")));
      if (a.has("--scope") || a.has("--in-workspace")) q.append(q.empty() ? "?" : "&").append("scope=").append(path_segment(scope_of(a)));
      return run_and_print(a, "GET", "/api/role-assignments" + q, nullptr, render_assignments);
    }
    if (verb == "create") {
      if (!a.has("--principal") || !a.has("--role")) {
        return usage_error("maas role-assignment create --principal P --role R [--scope S | --in-workspace W [--endpoint E]]");
      }
      OJson body{{"principal", a.get("--principal")}, {"role", a.get("--role")}, {"scope", scope_of(a)}};
      return run_and_print(a, "POST", "/api/role-assignments", body, render_assignment);
    }
    if (verb == "delete") {
      if (name.empty()) return usage_error("maas role-assignment delete ASSIGNMENT_ID");
      return run_and_print(a, "DELETE", "/api/role-assignments/" + path_segment(name), nullptr, render_done);
    }
    return usage_error("maas role-assignment create|list|delete");
  }
  if (command == "audit" && verb == "show") {
    std::string q;
    if (a.has("--since")) q.append("?since=").append(path_segment(a.get("--since")));
    if (a.has("--principal")) q.append(q.empty() ? "?" : "&").append("principal=").append(path_segment(a.get("--principal")));
    return run_and_print(a, "GET", "/api/audit" + q, nullptr, render_audit);
  }
  return usage_error("maas " + command + " ...");
}

}  // namespace maas
