// platform_client.cc — the CLI's connection to the management API.
#include "platform_client.h"

#include <cstdio>
#include <cstdlib>

#include "base/file_util.h"
#include "commands.h"
#include "http/client.h"

namespace maas {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string default_data_dir() {
  if (std::string d = env("MAAS_DATA_DIR"); !d.empty()) return d;
  if (std::string x = env("XDG_DATA_HOME"); !x.empty()) return x + "/maas";
  if (std::string h = env("HOME"); !h.empty()) return h + "/.local/share/maas";
  return "maas-data";
}

}  // namespace

const std::set<std::string>& platform_value_flags() {
  static const std::set<std::string> kFlags = {"--url", "--token", "--data-dir", "--workspace", "--output"};
  return kFlags;
}

StatusOr<PlatformConnection> connect_from(const Args& args) {
  std::string url = args.get("--url", env("MAAS_URL"));
  std::string token = args.get("--token", env("MAAS_TOKEN"));
  if (url.empty() || token.empty()) {
    const std::string dir = args.get("--data-dir", default_data_dir());
    auto text = read_file(dir + "/cli.json", 1 << 16);
    if (!text.ok()) {
      return failed_precondition("no platform to talk to: start `maas serve`, or pass --url and --token (or set "
                                 "MAAS_URL and MAAS_TOKEN), or --data-dir of a maas serve (no " + dir + "/cli.json)");
    }
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) return failed_precondition(dir + "/cli.json is not valid JSON");
    if (url.empty()) url = j.value("url", "");
    if (token.empty()) token = j.value("token", "");
  }
  if (token.empty()) return failed_precondition("no management token (--token, MAAS_TOKEN or cli.json)");
  if (url.rfind("http://", 0) != 0) return invalid_argument("--url must be http://HOST:PORT (got '" + url + "')");
  std::string rest = url.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  PlatformConnection c;
  c.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return invalid_argument("bad port in --url '" + url + "'");
  }
  c.port = static_cast<uint16_t>(std::stoi(port));
  c.token = token;
  c.workspace = args.get("--workspace", env("MAAS_WORKSPACE").empty() ? "default" : env("MAAS_WORKSPACE"));
  return c;
}

std::string path_segment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

StatusOr<ApiResult> api_call(const PlatformConnection& c, const std::string& method, const std::string& path,
                             const OJson& body) {
  static http::HttpClient* client = new http::HttpClient();  // lives for the process
  http::ClientRequest req;
  req.method = method;
  req.host = c.host;
  req.port = c.port;
  req.target = path;
  req.headers = {{"authorization", "Bearer " + c.token}, {"accept", "application/json"}};
  if (!body.is_null()) {
    req.headers.push_back({"content-type", "application/json"});
    req.body = body.dump();
  }
  req.connect_timeout_ms = 5000;
  req.response_timeout_ms = 180000;
  req.read_timeout_ms = 180000;
  auto r = client->fetch(std::move(req));
  if (!r.ok()) {
    return unavailable("cannot reach the platform at http://" + c.host + ":" + std::to_string(c.port) + " (" +
                       r.status().message() + ")");
  }
  ApiResult out;
  out.status = r->status;
  out.body = OJson::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  if (out.status >= 400) {
    if (out.body.is_object() && out.body.contains("error") && out.body["error"].is_object()) {
      out.error = out.body["error"].value("message", "");
      const std::string param = out.body["error"]["param"].is_string() ? out.body["error"]["param"].get<std::string>() : "";
      if (!param.empty() && out.error.find(param) == std::string::npos) out.error += " (" + param + ")";
    }
    if (out.error.empty()) out.error = "HTTP " + std::to_string(out.status);
  }
  return out;
}

std::string cell(const OJson& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.9g", v.get<double>());
    return buf;
  }
  return v.dump();
}

const OJson& list_data(const OJson& body) {
  static const OJson kEmpty = OJson::array();
  return body.contains("data") ? body["data"] : kEmpty;
}

int usage_error(const std::string& text) { return report_error("usage: " + text, 2); }

void print_table(const std::vector<std::string>& headers, const Rows& rows) {
  std::vector<size_t> w(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) w[i] = headers[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string& s = i < r.size() ? r[i] : "";
      out += s;
      if (i + 1 < w.size()) out += std::string(w[i] - s.size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& r : rows) line(r);
}

int run_and_print(const Args& args, const std::string& method, const std::string& path, const OJson& body,
                  void (*render)(const OJson& body)) {
  const std::string output = args.get("--output", "table");
  if (output != "table" && output != "json") return report_error("--output must be table or json", 2);
  auto c = connect_from(args);
  if (!c.ok()) return report_error(c.status().message(), c.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
  std::string p = path;
  if (size_t at = p.find("{ws}"); at != std::string::npos) p.replace(at, 4, path_segment(c->workspace));
  auto r = api_call(*c, method, p, body);
  if (!r.ok()) return report_error(r.status().message());
  if (r->status >= 400) return report_error(r->error);
  if (output == "json") {
    std::printf("%s\n", r->body.dump(2).c_str());
  } else {
    render(r->body);
  }
  return 0;
}

}  // namespace maas
