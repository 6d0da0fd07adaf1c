// cmd_online.cc — managed compute from the command line (SPEC §5): `maas online-endpoint`,
// `maas online-deployment`, `maas instance-type list`, `maas quota show|set`. One management
// API call each, printed as a table, or as the API's JSON with --output json.
#include <cstdio>

#include "commands.h"
#include "platform_client.h"

namespace maas {
namespace {

std::string traffic_text(const OJson& t) {
  std::string s;
  for (auto it = t.begin(); it != t.end(); ++it) s.append(s.empty() ? "" : ",").append(it.key()).append("=").append(cell(it.value()));
  return s;
}

// "blue=90,green=10" -> {"blue":90,"green":10}; an empty string clears the map.
StatusOr<OJson> parse_traffic(const std::string& s) {
  OJson out = OJson::object();
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    const std::string part = s.substr(i, j - i);
    const size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || part.size() - eq > 4 ||
        part.find_first_not_of("0123456789", eq + 1) != std::string::npos || eq + 1 == part.size()) {
      return invalid_argument("traffic must look like blue=90,green=10 (got '" + part + "')");
    }
    out[part.substr(0, eq)] = std::stoi(part.substr(eq + 1));
    i = j + 1;
  }
  return out;
}

void render_types(const OJson& b) {
  Rows rows;
  for (const OJson& t : list_data(b)) {
    rows.push_back({cell(t["name"]), cell(t["cores"]), cell(t["memory_mib"]), cell(t["gpus"]), cell(t["price_per_hour"]),
                    t["available"].get<bool>() ? "yes" : "no", cell(t["note"])});
  }
  print_table({"INSTANCE TYPE", "CORES", "MEMORY MIB", "GPUS", "USD/HOUR", "AVAILABLE", "NOTE"}, rows);
}

void render_quota(const OJson& q) {
  Rows rows;
  for (const OJson& x : q["quotas"]) rows.push_back({cell(x["resource"]), cell(x["limit"]), cell(x["used"]), cell(x["free"])});
  print_table({"RESOURCE", "LIMIT", "USED", "FREE"}, rows);
  const OJson& c = q["region_capacity"];
  std::printf("\nregion capacity (this machine): %s cores (%s allocated), %s MiB (%s allocated), %s GPUs; over-commit %s\n",
              cell(c["cores"]).c_str(), cell(c["allocated_cores"]).c_str(), cell(c["memory_mib"]).c_str(),
              cell(c["allocated_memory_mib"]).c_str(), cell(c["gpus"]).c_str(),
              c.value("allow_overcommit", false) ? "allowed" : "refused");
}

void render_endpoints(const OJson& b) {
  Rows rows;
  for (const OJson& e : list_data(b)) {
    rows.push_back({cell(e["name"]), cell(e["state"]), cell(e["url"]), traffic_text(e["traffic"]),
                    traffic_text(e["mirror_traffic"]), e.value("shared_quota", false) ? cell(e["expires_at"]) : ""});
  }
  print_table({"NAME", "STATE", "URL", "TRAFFIC", "MIRROR", "EXPIRES"}, rows);
}
void render_endpoint(const OJson& e) {
  render_endpoints(OJson{{"data", OJson::array({e})}});
  if (e.contains("deployments") && !e["deployments"].empty()) {
    std::printf("\n");
    Rows rows;
    for (const OJson& d : e["deployments"]) {
      rows.push_back({cell(d["name"]), cell(d["model"]), cell(d["instance_type"]), cell(d["instance_count"]), cell(d["state"])});
    }
    print_table({"DEPLOYMENT", "MODEL", "INSTANCE TYPE", "COUNT", "STATE"}, rows);
  }
}
void render_keys(const OJson& k) {
  std::printf("primaryKey    %s\nsecondaryKey  %s\nurl           %s\n", cell(k["primaryKey"]).c_str(),
              cell(k["secondaryKey"]).c_str(), cell(k["url"]).c_str());
}
void render_done(const OJson& b) { std::printf("deleted %s\n", cell(b["name"]).c_str()); }

void render_deployments(const OJson& b) {
  Rows rows;
  for (const OJson& d : list_data(b)) {
    int ready = 0;
    for (const OJson& i : d["instances"]) ready += cell(i["state"]) == "Ready" && !i.value("outgoing", false) ? 1 : 0;
    rows.push_back({cell(d["name"]), cell(d["model"]), cell(d["instance_type"]),
                    std::to_string(ready) + "/" + cell(d["instance_count"]), cell(d["state"]),
                    d["failure_reason"].is_string() ? cell(d["failure_reason"]) : ""});
  }
  print_table({"DEPLOYMENT", "MODEL", "INSTANCE TYPE", "READY", "STATE", "REASON"}, rows);
}
void render_deployment(const OJson& d) {
  render_deployments(OJson{{"data", OJson::array({d})}});
  std::printf("\nrequest timeout %s ms, at most %s concurrent requests per instance, content safety %s, data "
              "collection %s%s\n",
              cell(d["request_timeout_ms"]).c_str(), cell(d["max_concurrent_requests"]).c_str(),
              d.value("content_safety", true) ? "on" : "off", d.value("data_collection", false) ? "on" : "off",
              d.value("package_model", false) ? ", packaged model" : "");
  Rows rows;
  for (const OJson& i : d["instances"]) {
    std::string cpus;
    for (const OJson& c : i["cpus"]) cpus.append(cpus.empty() ? "" : ",").append(cell(c));
    rows.push_back({cell(i["index"]) + (i.value("outgoing", false) ? " (outgoing)" : ""), cell(i["state"]), cell(i["pid"]),
                    cpus, cell(i["restarts"]), cell(i["last_error"])});
  }
  std::printf("\n");
  print_table({"INSTANCE", "STATE", "PID", "CPUS", "RESTARTS", "LAST ERROR"}, rows);
}
void render_logs(const OJson& l) { std::printf("%s", cell(l["log"]).c_str()); }

std::string first(const Args& a) { return a.positional().empty() ? a.get("--name") : a.positional()[0]; }

int endpoint_cmd(const std::string& verb, const Args& a) {
  const std::string base = "/api/workspaces/{ws}/online-endpoints";
  if (verb == "list") return run_and_print(a, "GET", base, nullptr, render_endpoints);
  const std::string name = first(a);
  if (name.empty()) return usage_error("maas online-endpoint " + verb + " NAME");
  const std::string one = base + "/" + path_segment(name);
  if (verb == "create") {
    OJson body{{"name", name}, {"auth_mode", a.get("--auth-mode", "key")}};
    if (a.has("--shared-quota")) body["shared_quota"] = true;
    return run_and_print(a, "POST", base, body, render_endpoint);
  }
  if (verb == "show") return run_and_print(a, "GET", one, nullptr, render_endpoint);
  if (verb == "update") {
    OJson body = OJson::object();
    for (auto [flag, field] : {std::pair<const char*, const char*>{"--traffic", "traffic"}, {"--mirror-traffic", "mirror_traffic"}}) {
      if (!a.has(flag)) continue;
      auto t = parse_traffic(a.get(flag));
      if (!t.ok()) return report_error(t.status().message(), 2);
      body[field] = *t;
    }
    if (body.empty()) return usage_error("maas online-endpoint update NAME --traffic blue=90,green=10 [--mirror-traffic green=20]");
    return run_and_print(a, "PATCH", one, body, render_endpoint);
  }
  if (verb == "get-credentials") return run_and_print(a, "POST", one + "/list-keys", OJson::object(), render_keys);
  if (verb == "regenerate-keys") {
    if (!a.has("--key-type")) return usage_error("maas online-endpoint regenerate-keys NAME --key-type primary|secondary");
    return run_and_print(a, "POST", one + "/regenerate-keys", OJson{{"key_type", a.get("--key-type")}}, render_keys);
  }
  if (verb == "delete") return run_and_print(a, "DELETE", one, nullptr, render_done);
  return usage_error("maas online-endpoint create|update|list|show|get-credentials|regenerate-keys|delete");
}

StatusOr<OJson> deployment_body(const Args& a) {
  OJson body = OJson::object();
  for (auto [flag, field] : {std::pair<const char*, const char*>{"--model", "model"}, {"--instance-type", "instance_type"}}) {
    if (a.has(flag)) body[field] = a.get(flag);
  }
  for (auto [flag, field, hi] : {std::tuple<const char*, const char*, long long>{"--instance-count", "instance_count", 64},
                                 {"--request-timeout-ms", "request_timeout_ms", 3600000},
                                 {"--max-concurrent-requests", "max_concurrent_requests", 1024}}) {
    if (!a.has(flag)) continue;
    ASSIGN_OR_RETURN(long long v, a.get_int(flag, 0, 1, hi));
    body[field] = v;
  }
  for (auto [flag, field] : {std::pair<const char*, const char*>{"--content-safety", "content_safety"},
                             {"--data-collection", "data_collection"}}) {
    if (!a.has(flag)) continue;
    const std::string v = a.get(flag);
    if (v != "on" && v != "off") return invalid_argument(std::string(flag) + " must be on or off");
    body[field] = v == "on";
  }
  if (a.has("--package-model")) body["package_model"] = true;
  return body;
}

int deployment_cmd(const std::string& verb, const Args& a) {
  if (!a.has("--endpoint")) return usage_error("maas online-deployment " + verb + " [NAME] --endpoint ENDPOINT ...");
  const std::string base = "/api/workspaces/{ws}/online-endpoints/" + path_segment(a.get("--endpoint")) + "/deployments";
  if (verb == "list") return run_and_print(a, "GET", base, nullptr, render_deployments);
  const std::string name = first(a);
  if (name.empty()) return usage_error("maas online-deployment " + verb + " NAME --endpoint ENDPOINT");
  const std::string one = base + "/" + path_segment(name);
  auto body = deployment_body(a);
  if (!body.ok()) return report_error(body.status().message(), 2);
  if (verb == "create") {
    if (!a.has("--model") || !a.has("--instance-type")) {
      return usage_error("maas online-deployment create NAME --endpoint E --model M --instance-type T [--instance-count N] ...");
    }
    (*body)["name"] = name;
    return run_and_print(a, "POST", base, *body, render_deployment);
  }
  if (verb == "update") {
    if (body->empty()) return usage_error("maas online-deployment update NAME --endpoint E [--instance-count N] [--model M] ...");
    return run_and_print(a, "PATCH", one, *body, render_deployment);
  }
  if (verb == "show") return run_and_print(a, "GET", one, nullptr, render_deployment);
  if (verb == "delete") return run_and_print(a, "DELETE", one, nullptr, render_done);
  if (verb == "get-logs") {
    std::string q = "?lines=" + a.get("--lines", "100");
    if (a.has("--instance")) q += "&instance=" + path_segment(a.get("--instance"));
    return run_and_print(a, "GET", one + "/logs" + q, nullptr, render_logs);
  }
  return usage_error("maas online-deployment create|update|list|show|get-logs|delete");
}

int quota_cmd(const std::string& verb, const Args& a) {
  const std::string path = "/api/workspaces/{ws}/quota";
  if (verb == "show") return run_and_print(a, "GET", path, nullptr, render_quota);
  if (verb == "set") {
    OJson body = OJson::object();
    for (auto [flag, field] : {std::pair<const char*, const char*>{"--cores", "cores"}, {"--gpus", "gpus"}}) {
      if (!a.has(flag)) continue;
      auto v = a.get_int(flag, 0, 0, 100000);
      if (!v.ok()) return report_error(v.status().message(), 2);
      body[field] = *v;
    }
    if (a.has("--allow-overcommit")) {
      const std::string v = a.get("--allow-overcommit");
      if (v != "true" && v != "false") return usage_error("maas quota set --allow-overcommit true|false");
      body["allow_overcommit"] = v == "true";
    }
    if (body.empty()) return usage_error("maas quota set [--workspace W] --cores N [--gpus N] [--allow-overcommit true|false]");
    return run_and_print(a, "PATCH", path, body, render_quota);
  }
  return usage_error("maas quota show|set");
}

}  // namespace

bool is_online_command(const std::string& c) {
  return c == "online-endpoint" || c == "online-deployment" || c == "instance-type" || c == "quota";
}

int cmd_online(const std::string& command, const std::vector<std::string>& argv) {
  if (argv.empty()) return usage_error("maas " + command + " <verb> ... (see maas --help)");
  const std::string verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  std::set<std::string> flags = platform_value_flags();
  for (const char* f : {"--name", "--auth-mode", "--traffic", "--mirror-traffic", "--key-type", "--endpoint", "--model",
                        "--instance-type", "--instance-count", "--request-timeout-ms", "--max-concurrent-requests",
                        "--content-safety", "--data-collection", "--lines", "--instance", "--cores", "--gpus",
                        "--allow-overcommit"}) {
    flags.insert(f);
  }
  auto a = Args::parse(rest, flags, {"--shared-quota", "--package-model"});
  if (!a.ok()) return report_error(a.status().message(), 2);
  if (command == "online-endpoint") return endpoint_cmd(verb, *a);
  if (command == "online-deployment") return deployment_cmd(verb, *a);
  if (command == "quota") return quota_cmd(verb, *a);
  if (command == "instance-type" && verb == "list") return run_and_print(*a, "GET", "/api/instance-types", nullptr, render_types);
  return usage_error("maas " + command + " ...");
}

}  // namespace maas
