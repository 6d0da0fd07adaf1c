// cmd_platform.cc — the platform's resource commands, mirroring the Azure ML CLI verbs
// (SPEC §5): workspace, marketplace-subscription, serverless-endpoint, offering, instance,
// usage. Each is one management API call (platform_client.h) printed as a table, or as the
// API's JSON with --output json.
#include <cstdio>

#include "commands.h"
#include "platform_client.h"

namespace maas {
namespace {

void render_workspaces(const OJson& b) {
  Rows rows;
  for (const OJson& w : list_data(b)) rows.push_back({cell(w["name"]), cell(w["region"]), cell(w["created_at"])});
  print_table({"NAME", "REGION", "CREATED"}, rows);
}
void render_workspace(const OJson& w) { render_workspaces(OJson{{"data", OJson::array({w})}}); }

void render_subscriptions(const OJson& b) {
  Rows rows;
  for (const OJson& s : list_data(b)) {
    rows.push_back({cell(s["name"]), cell(s["model"]), cell(s["offering"]), cell(s["state"]), cell(s["created_at"])});
  }
  print_table({"NAME", "MODEL", "OFFERING", "STATE", "CREATED"}, rows);
}
void render_subscription(const OJson& s) {
  render_subscriptions(OJson{{"data", OJson::array({s})}});
  if (s.contains("terms")) {
    std::printf("\nprice: $%s per 1K input tokens, $%s per 1K output tokens\nterms accepted: %s\n",
                cell(s["price_input_per_1k"]).c_str(), cell(s["price_output_per_1k"]).c_str(), cell(s["terms"]).c_str());
  }
}

void render_endpoints(const OJson& b) {
  Rows rows;
  for (const OJson& e : list_data(b)) {
    rows.push_back({cell(e["name"]), cell(e["model"]), cell(e["state"]), cell(e["url"]),
                    cell(e["limits"]["requests_per_minute"]), cell(e["limits"]["tokens_per_minute"])});
  }
  print_table({"NAME", "MODEL", "STATE", "URL", "RPM", "TPM"}, rows);
}
void render_endpoint(const OJson& e) {
  const std::vector<std::pair<const char*, std::string>> fields = {
      {"name", cell(e["name"])},
      {"workspace", cell(e["workspace"])},
      {"region", cell(e["region"])},
      {"model", cell(e["model"])},
      {"offering", cell(e["offering"])},
      {"state", cell(e["state"]) + (e["failure_reason"].is_string() ? ": " + cell(e["failure_reason"]) : "")},
      {"url", cell(e["url"])},
      {"openai base url", cell(e["openai_base_url"])},
      {"host", cell(e["host"])},
      {"auth mode", cell(e["auth_mode"])},
      {"keys", "primary " + cell(e["keys"]["primary_prefix"]) + "..., secondary " + cell(e["keys"]["secondary_prefix"]) +
                   "... (maas serverless-endpoint get-credentials " + cell(e["name"]) + ")"},
      {"requests per minute", cell(e["limits"]["requests_per_minute"])},
      {"tokens per minute", cell(e["limits"]["tokens_per_minute"])},
      {"content safety", "on (hate, sexual, violence, self_harm)"},
      {"created", cell(e["created_at"])},
  };
  for (const auto& [k, v] : fields) {
    if (!v.empty()) std::printf("%-20s %s\n", k, v.c_str());
  }
}
void render_keys(const OJson& k) {
  std::printf("primaryKey    %s\nsecondaryKey  %s\n", cell(k["primaryKey"]).c_str(), cell(k["secondaryKey"]).c_str());
  if (k.contains("url")) std::printf("url           %s\n", cell(k["url"]).c_str());
}
void render_deleted(const OJson& b) { std::printf("deleted %s\n", cell(b["name"]).c_str()); }

void render_offerings(const OJson& b) {
  Rows rows;
  for (const OJson& o : list_data(b)) {
    rows.push_back({cell(o["id"]), cell(o["model"]), cell(o["publisher"]), cell(o["price_input_per_1k"]),
                    cell(o["price_output_per_1k"])});
  }
  print_table({"OFFERING", "MODEL", "PUBLISHER", "USD/1K IN", "USD/1K OUT"}, rows);
}
void render_offering(const OJson& o) {
  render_offerings(OJson{{"data", OJson::array({o})}});
  std::printf("\nplan %s, offer %s\nterms: %s\n", cell(o["plan_id"]).c_str(), cell(o["offer_id"]).c_str(),
              cell(o["terms"]).c_str());
}

void render_instances(const OJson& b) {
  Rows rows;
  for (const OJson& i : list_data(b)) {
    rows.push_back({cell(i["deployment"]), cell(i["index"]), cell(i["state"]), cell(i["pid"]), cell(i["port"]),
                    cell(i["restarts"]), cell(i["outstanding_requests"]), cell(i["last_error"])});
  }
  print_table({"DEPLOYMENT", "#", "STATE", "PID", "PORT", "RESTARTS", "IN FLIGHT", "LAST ERROR"}, rows);
}

void render_usage(const OJson& b) {
  Rows rows;
  const bool meter = b.value("by", "") == "meter";
  for (const OJson& r : list_data(b)) {
    char cost[32];
    std::snprintf(cost, sizeof(cost), "%.6f", r.value("cost_usd", 0.0));
    if (meter) {
      rows.push_back({cell(r["offering"]), cell(r["meter"]), cell(r["quantity"]), cost});
    } else {
      rows.push_back({cell(r["key"]), cell(r["requests"]), cell(r["prompt_tokens"]), cell(r["completion_tokens"]), cost});
    }
  }
  const OJson& t = b["totals"];
  char total[32];
  std::snprintf(total, sizeof(total), "%.6f", t.value("cost_usd", 0.0));
  if (meter) {
    print_table({"OFFERING", "METER", "QUANTITY", "COST USD"}, rows);
  } else {
    rows.push_back({"total", cell(t["requests"]), cell(t["prompt_tokens"]), cell(t["completion_tokens"]), total});
    print_table({b.value("by", "") == "endpoint" ? "ENDPOINT" : "DAY", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS",
                 "COST USD"},
                rows);
  }
  if (b.contains("instance_hours") && !b["instance_hours"].empty()) {
    Rows hours;
    for (const OJson& h : b["instance_hours"]) {
      char hrs[32], cost[32];
      std::snprintf(hrs, sizeof(hrs), "%.4f", h.value("hours", 0.0));
      std::snprintf(cost, sizeof(cost), "%.6f", h.value("cost_usd", 0.0));
      hours.push_back({cell(h["key"]), cell(h["instance_type"]), hrs, cost});
    }
    std::printf("\n");
    print_table({meter ? "METER" : (b.value("by", "") == "endpoint" ? "ENDPOINT" : "DAY"), "INSTANCE TYPE",
                 "INSTANCE-HOURS", "COST USD"},
                hours);
  }
  if (meter) std::printf("total: %s requests, %s prompt + %s completion tokens, %s USD\n", cell(t["requests"]).c_str(),
                         cell(t["prompt_tokens"]).c_str(), cell(t["completion_tokens"]).c_str(), total);
}

void render_records(const OJson& b) {
  Rows rows;
  for (const OJson& r : list_data(b)) {
    rows.push_back({cell(r["started_at"]), cell(r["endpoint"]), cell(r["request_id"]), cell(r["key"]), cell(r["status"]),
                    cell(r["outcome"]), cell(r["prompt_tokens"]), cell(r["completion_tokens"])});
  }
  print_table({"STARTED", "ENDPOINT", "REQUEST ID", "KEY", "STATUS", "OUTCOME", "PROMPT", "COMPLETION"}, rows);
}

std::set<std::string> with_platform(std::set<std::string> flags) {
  for (const std::string& f : platform_value_flags()) flags.insert(f);
  return flags;
}

// One positional NAME, from the position or from --name.
std::string name_of(const Args& a) {
  if (!a.positional().empty()) return a.positional()[0];
  return a.get("--name");
}

int workspace_cmd(const std::string& verb, const Args& a) {
  if (verb == "list") return run_and_print(a, "GET", "/api/workspaces", nullptr, render_workspaces);
  const std::string name = name_of(a);
  if (name.empty()) return usage_error("maas workspace create|show NAME");
  if (verb == "show") return run_and_print(a, "GET", "/api/workspaces/" + path_segment(name), nullptr, render_workspace);
  if (verb == "create") {
    OJson body{{"name", name}};
    if (a.has("--region")) body["region"] = a.get("--region");
    return run_and_print(a, "POST", "/api/workspaces", body, render_workspace);
  }
  return usage_error("maas workspace create|list|show");
}

int subscription_cmd(const std::string& verb, const Args& a) {
  const std::string base = "/api/workspaces/{ws}/marketplace-subscriptions";
  if (verb == "list") return run_and_print(a, "GET", base, nullptr, render_subscriptions);
  if (verb == "create") {
    OJson body = OJson::object();
    if (!name_of(a).empty()) body["name"] = name_of(a);
    if (a.has("--model")) body["model"] = a.get("--model");
    if (a.has("--offering")) body["offering"] = a.get("--offering");
    if (!a.has("--model") && !a.has("--offering")) {
      return usage_error("maas marketplace-subscription create [NAME] --model MODEL (or --offering ID)");
    }
    return run_and_print(a, "POST", base, body, render_subscription);
  }
  const std::string name = name_of(a);
  if (name.empty()) return usage_error("maas marketplace-subscription show|delete NAME");
  if (verb == "show") return run_and_print(a, "GET", base + "/" + path_segment(name), nullptr, render_subscription);
  if (verb == "delete") return run_and_print(a, "DELETE", base + "/" + path_segment(name), nullptr, render_deleted);
  return usage_error("maas marketplace-subscription create|list|show|delete");
}

int endpoint_cmd(const std::string& verb, const Args& a) {
  const std::string base = "/api/workspaces/{ws}/serverless-endpoints";
  if (verb == "list") return run_and_print(a, "GET", base, nullptr, render_endpoints);
  const std::string name = name_of(a);
  if (name.empty()) return usage_error("maas serverless-endpoint " + verb + " NAME");
  const std::string one = base + "/" + path_segment(name);
  if (verb == "create") {
    if (!a.has("--model")) return usage_error("maas serverless-endpoint create NAME --model MODEL");
    return run_and_print(a, "POST", base, OJson{{"name", name}, {"model", a.get("--model")}}, render_endpoint);
  }
  if (verb == "show") return run_and_print(a, "GET", one, nullptr, render_endpoint);
  if (verb == "get-credentials") return run_and_print(a, "POST", one + "/list-keys", OJson::object(), render_keys);
  if (verb == "delete") return run_and_print(a, "DELETE", one, nullptr, render_deleted);
  if (verb == "regenerate-keys") {
    const std::string kt = a.get("--key-type");
    if (kt.empty()) return usage_error("maas serverless-endpoint regenerate-keys NAME --key-type primary|secondary");
    return run_and_print(a, "POST", one + "/regenerate-keys", OJson{{"key_type", kt}}, render_keys);
  }
  if (verb == "update") {
    OJson body = OJson::object();
    for (auto [flag, field] : {std::pair<const char*, const char*>{"--requests-per-minute", "requests_per_minute"},
                               {"--tokens-per-minute", "tokens_per_minute"}}) {
      if (!a.has(flag)) continue;
      auto v = a.get_int(flag, 0, 1, 10000000000LL);
      if (!v.ok()) return report_error(v.status().message(), 2);
      body[field] = *v;
    }
    if (body.empty()) return usage_error("maas serverless-endpoint update NAME --requests-per-minute N --tokens-per-minute N");
    return run_and_print(a, "PATCH", one, body, render_endpoint);
  }
  return usage_error("maas serverless-endpoint create|list|show|update|get-credentials|regenerate-keys|delete");
}

int offering_cmd(const std::string& verb, const Args& a) {
  if (verb == "list") return run_and_print(a, "GET", "/api/offerings", nullptr, render_offerings);
  const std::string id = name_of(a);
  if (id.empty()) return usage_error("maas offering show|update ID");
  if (verb == "show") return run_and_print(a, "GET", "/api/offerings/" + path_segment(id), nullptr, render_offering);
  if (verb == "update") {
    OJson body = OJson::object();
    for (auto [flag, field] : {std::pair<const char*, const char*>{"--price-input", "price_input_per_1k"},
                               {"--price-output", "price_output_per_1k"}}) {
      if (!a.has(flag)) continue;
      auto v = a.get_double(flag, 0, 0, 1000);
      if (!v.ok()) return report_error(v.status().message(), 2);
      body[field] = *v;
    }
    if (body.empty()) return usage_error("maas offering update ID --price-input USD_PER_1K --price-output USD_PER_1K");
    return run_and_print(a, "PATCH", "/api/offerings/" + path_segment(id), body, render_offering);
  }
  return usage_error("maas offering list|show|update");
}

int usage_cmd(const std::string& verb, const Args& a) {
  if (verb != "show") return usage_error("maas usage show [--by day|endpoint|meter] [--since 24h|YYYY-MM-DD] [--records]");
  std::string q;
  for (auto [flag, param] : {std::pair<const char*, const char*>{"--by", "by"}, {"--since", "since"},
                             {"--until", "until"}, {"--endpoint", "endpoint"}, {"--limit", "limit"}}) {
    if (!a.has(flag)) continue;
    q.append(q.empty() ? "?" : "&").append(param).append("=").append(path_segment(a.get(flag)));
  }
  if (a.has("--records")) return run_and_print(a, "GET", "/api/workspaces/{ws}/usage/records" + q, nullptr, render_records);
  return run_and_print(a, "GET", "/api/workspaces/{ws}/usage" + q, nullptr, render_usage);
}

}  // namespace

bool is_platform_command(const std::string& c) {
  return c == "workspace" || c == "marketplace-subscription" || c == "serverless-endpoint" || c == "offering" ||
         c == "instance" || c == "usage";
}

int cmd_platform(const std::string& command, const std::vector<std::string>& argv) {
  if (argv.empty()) return usage_error("maas " + command + " <verb> ... (see maas --help)");
  const std::string verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  auto a = Args::parse(rest,
                       with_platform({"--name", "--region", "--model", "--offering", "--key-type", "--requests-per-minute",
                                      "--tokens-per-minute", "--price-input", "--price-output", "--by", "--since",
                                      "--until", "--endpoint", "--limit"}),
                       {"--records", "--yes"});
  if (!a.ok()) return report_error(a.status().message(), 2);
  if (command == "workspace") return workspace_cmd(verb, *a);
  if (command == "marketplace-subscription") return subscription_cmd(verb, *a);
  if (command == "serverless-endpoint") return endpoint_cmd(verb, *a);
  if (command == "offering") return offering_cmd(verb, *a);
  if (command == "usage") return usage_cmd(verb, *a);
  if (command == "instance" && verb == "list") return run_and_print(*a, "GET", "/api/instances", nullptr, render_instances);
  return usage_error("maas " + command + " ...");
}

}  // namespace maas
