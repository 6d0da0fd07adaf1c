// cmd_platform_models.cc — `maas model list|show NAME|register|pull|update|rm`: the platform's
// model catalog. `register` attaches a local GGUF file to a catalog entry (or, with --custom,
// adds a model); the platform checks the file with the loader before accepting it. `pull`
// downloads a file (cmd_model_pull.h) and, with --name, registers it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cmd_model_pull.h"
#include "commands.h"
#include "platform_client.h"

namespace maas {
namespace {

std::string human_params(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof(buf), "%.1fB", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
  else std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(n));
  return buf;
}

void render_models(const OJson& b) {
  Rows rows;
  for (const OJson& m : b["data"]) {
    const OJson& o = m.contains("offering") ? m["offering"] : OJson::object();
    rows.push_back({cell(m["name"]), cell(m["publisher"]), human_params(m.value("parameters", int64_t{0})),
                    cell(m["context_length"]), cell(m["task"]), cell(m["license"]),
                    o.is_object() && o.contains("price_input_per_1k") ? cell(o["price_input_per_1k"]) : "",
                    o.is_object() && o.contains("price_output_per_1k") ? cell(o["price_output_per_1k"]) : "",
                    m["weights"].is_object() ? "yes" : "no"});
  }
  print_table({"MODEL", "PUBLISHER", "PARAMS", "CONTEXT", "TASK", "LICENSE", "USD/1K IN", "USD/1K OUT", "WEIGHTS"}, rows);
}

void render_model(const OJson& m) {
  std::printf("%-16s %s\n%-16s %s\n%-16s %s (%s)\n%-16s %s\n%-16s %s\n%-16s %s\n%-16s %s\n", "name", cell(m["name"]).c_str(),
              "display name", cell(m["display_name"]).c_str(), "publisher", cell(m["publisher"]).c_str(),
              cell(m["family"]).c_str(), "parameters", human_params(m.value("parameters", int64_t{0})).c_str(),
              "context length", cell(m["context_length"]).c_str(), "task", cell(m["task"]).c_str(), "license",
              cell(m["license"]).c_str());
  if (m["weights"].is_object()) {
    std::printf("%-16s %s (%s bytes, sha256 %s)\n", "weights", cell(m["weights"]["path"]).c_str(),
                cell(m["weights"]["bytes"]).c_str(), cell(m["weights"]["sha256"]).c_str());
  } else {
    std::printf("%-16s none: maas model pull REPO FILE --name %s, or maas model register %s --path FILE.gguf\n",
                "weights", cell(m["name"]).c_str(), cell(m["name"]).c_str());
  }
  std::printf("%-16s %s\n", "serverless pool", (cell(m["serverless_instances"]) + " instance(s)").c_str());
  if (m.contains("offering") && m["offering"].is_object()) {
    const OJson& o = m["offering"];
    std::printf("%-16s %s (plan %s): $%s per 1K input, $%s per 1K output tokens\n", "offering", cell(o["id"]).c_str(),
                cell(o["plan_id"]).c_str(), cell(o["price_input_per_1k"]).c_str(), cell(o["price_output_per_1k"]).c_str());
  }
  std::printf("%-16s %s\n", "description", cell(m["description"]).c_str());
}

void render_deleted(const OJson& b) { std::printf("removed %s\n", cell(b["name"]).c_str()); }

OJson register_body(const std::string& name, const std::string& path, const Args& a) {
  std::error_code ec;
  OJson body{{"name", name}, {"path", std::filesystem::absolute(path, ec).string()}};
  if (a.has("--custom")) body["custom"] = true;
  if (a.has("--price-input")) body["price_input_per_1k"] = a.get_double("--price-input", 0, 0, 1000).value();
  if (a.has("--price-output")) body["price_output_per_1k"] = a.get_double("--price-output", 0, 0, 1000).value();
  return body;
}

}  // namespace

int cmd_model_platform(const std::vector<std::string>& argv) {
  const std::string verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (verb == "pull") {
    // Download with cmd_model_pull, then register when --name is given.
    std::vector<std::string> pull_args, reg_args;
    for (size_t i = 0; i < rest.size(); ++i) {
      const std::string& s = rest[i];
      const bool platform_flag = s == "--name" || s == "--url" || s == "--token" || s == "--data-dir" ||
                                 s == "--workspace" || s == "--price-input" || s == "--price-output" || s == "--output";
      if (platform_flag && i + 1 < rest.size()) {
        reg_args.push_back(s);
        reg_args.push_back(rest[++i]);
      } else if (s == "--custom") {
        reg_args.push_back(s);
      } else {
        pull_args.push_back(s);
      }
    }
    bool has_name = false;
    for (const std::string& s : reg_args) has_name |= s == "--name";
    // Without --out, a platform's data directory holds the file (<data-dir>/models).
    bool has_out = false;
    for (const std::string& p : pull_args) has_out |= p == "--out" || p.rfind("--out=", 0) == 0;
    for (size_t i = 0; !has_out && i + 1 < reg_args.size(); ++i) {
      if (reg_args[i] != "--data-dir") continue;
      pull_args.push_back("--out");
      pull_args.push_back(reg_args[i + 1] + "/models");
      has_out = true;
    }
    if (!has_name) {  // only a download: --output belongs to it
      for (size_t i = 0; i + 1 < reg_args.size(); ++i) {
        if (reg_args[i] == "--output") pull_args.insert(pull_args.end(), {reg_args[i], reg_args[i + 1]});
      }
      return cmd_model_pull(pull_args);
    }
    // Capture the path: run the pull with JSON output into a temporary file descriptor.
    pull_args.push_back("--output");
    pull_args.push_back("json");
    std::fflush(stdout);
    char tmpl[] = "/tmp/maas-pull-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) return report_error("cannot create a temporary file");
    const int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    const int rc = cmd_model_pull(pull_args);
    std::fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    std::string out(1 << 16, '\0');
    const ssize_t n = pread(fd, out.data(), out.size(), 0);
    close(fd);
    unlink(tmpl);
    if (rc != 0) return rc;
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_object() || !j.contains("path")) return report_error("the download printed no path");
    auto a = Args::parse(reg_args, {"--name", "--url", "--token", "--data-dir", "--workspace", "--price-input",
                                    "--price-output", "--output"},
                         {"--custom"});
    if (!a.ok()) return report_error(a.status().message(), 2);
    std::fprintf(stderr, "downloaded %s (sha256 %s); registering as %s\n", j["path"].get<std::string>().c_str(),
                 j.value("sha256", "").c_str(), a->get("--name").c_str());
    return run_and_print(*a, "POST", "/api/models", register_body(a->get("--name"), j["path"], *a), render_model);
  }
  auto flags = platform_value_flags();
  for (const char* f : {"--path", "--price-input", "--price-output", "--serverless-instances", "--name"}) flags.insert(f);
  auto a = Args::parse(rest, flags, {"--custom", "--yes"});
  if (!a.ok()) return report_error(a.status().message(), 2);
  const std::string name = !a->positional().empty() ? a->positional()[0] : a->get("--name");
  if (verb == "list") return run_and_print(*a, "GET", "/api/models", nullptr, render_models);
  if (name.empty()) return usage_error("maas model " + verb + " NAME ...");
  const std::string one = "/api/models/" + path_segment(name);
  if (verb == "show") return run_and_print(*a, "GET", one, nullptr, render_model);
  if (verb == "register") {
    if (!a->has("--path")) return usage_error("maas model register NAME --path FILE.gguf [--custom]");
    for (const char* f : {"--price-input", "--price-output"}) {
      if (a->has(f) && !a->get_double(f, 0, 0, 1000).ok()) return report_error(std::string(f) + " must be 0 to 1000", 2);
    }
    return run_and_print(*a, "POST", "/api/models", register_body(name, a->get("--path"), *a), render_model);
  }
  if (verb == "update") {
    auto n = a->get_int("--serverless-instances", 0, 1, 64);
    if (!a->has("--serverless-instances") || !n.ok()) return usage_error("maas model update NAME --serverless-instances N (1-64)");
    return run_and_print(*a, "PATCH", one, OJson{{"serverless_instances", *n}}, render_model);
  }
  if (verb == "rm") return run_and_print(*a, "DELETE", one, nullptr, render_deleted);
  return usage_error("maas model list|show|register|pull|update|rm|check|generate");
}

}  // namespace maas
