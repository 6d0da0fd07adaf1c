// cmd_serve.cc — `maas serve [--data-dir D] [--host H] [--port P]`: the platform in one process:
// the management API (/api/...), the inference gateway (/endpoints/<name>/..., or by host name
// with --domain), the studio (the web interface at /, control/studio.h), and the supervisor of
// worker processes. The first start bootstraps the data directory (serve_bootstrap.h) and
// prints the administrator token once; every start prints the default endpoint's URL, key and
// a curl line, and writes <data-dir>/cli.json (URL and token, mode 0600) for the CLI. SIGTERM
// or SIGINT drains: new requests get 503, requests in flight finish (up to --drain-timeout),
// workers drain and stop, the usage ledger is flushed.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "args.h"
#include "base/file_util.h"
#include "base/log.h"
#include "commands.h"
#include "control/authorizer.h"
#include "control/catalog.h"
#include "control/management_api.h"
#include "control/metering.h"
#include "control/platform.h"
#include "control/process.h"
#include "control/secrets.h"
#include "control/store.h"
#include "control/studio.h"
#include "control/supervisor.h"
#include "gateway/gateway.h"
#include "http/http.h"
#include "serve_bootstrap.h"

namespace maas {
namespace {

namespace fs = std::filesystem;

std::string default_data_dir() {
  if (const char* d = std::getenv("MAAS_DATA_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/maas";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.local/share/maas";
  return "maas-data";
}

Status write_private_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot write " + tmp);
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return unavailable("cannot write " + path);
  return Status::Ok();
}

void send_json(http::Responder& res, int status, const std::string& body) {
  res.send(status, {{"content-type", "application/json"}}, body);
}

struct ServeFlags {
  std::string data_dir, host, domain, region, default_model;
  uint16_t port = 8080;
  int drain_timeout_s = 30, probe_interval_ms = 1000, rate_window_ms = 60000, worker_threads = 0;
  bool no_default_model = false, new_admin_token = false, test_clock = false;
};

StatusOr<ServeFlags> parse_flags(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args a, Args::parse(argv, {"--data-dir", "--host", "--port", "--domain", "--region", "--default-model",
                                              "--drain-timeout", "--probe-interval-ms", "--rate-window-ms",
                                              "--worker-threads"},
                                       {"--no-default-model", "--new-admin-token", "--test-clock"}));
  if (!a.positional().empty()) return invalid_argument("usage: maas serve [--data-dir D] [--host H] [--port P]");
  ServeFlags f;
  f.data_dir = a.get("--data-dir", default_data_dir());
  f.host = a.get("--host", "127.0.0.1");
  f.domain = a.get("--domain");
  f.region = a.get("--region", "local");
  f.default_model = a.get("--default-model");
  f.no_default_model = a.has("--no-default-model");
  f.new_admin_token = a.has("--new-admin-token");
  f.test_clock = a.has("--test-clock");
  ASSIGN_OR_RETURN(long long port, a.get_int("--port", 8080, 0, 65535));
  ASSIGN_OR_RETURN(long long drain, a.get_int("--drain-timeout", 30, 0, 3600));
  ASSIGN_OR_RETURN(long long probe, a.get_int("--probe-interval-ms", 1000, 50, 60000));
  ASSIGN_OR_RETURN(long long window, a.get_int("--rate-window-ms", 60000, 100, 3600000));
  ASSIGN_OR_RETURN(long long threads, a.get_int("--worker-threads", 0, 0, 1024));
  f.port = static_cast<uint16_t>(port);
  f.drain_timeout_s = static_cast<int>(drain);
  f.probe_interval_ms = static_cast<int>(probe);
  f.rate_window_ms = static_cast<int>(window);
  f.worker_threads = static_cast<int>(threads);
  return f;
}

// The embedded default model: the given file, or one generated into the data directory.
StatusOr<std::string> default_model_path(const ServeFlags& f) {
  if (f.no_default_model) return std::string();
  if (!f.default_model.empty()) return fs::absolute(f.default_model).string();
  const std::string path = fs::absolute(f.data_dir + "/models/maas-tiny-llama3.gguf").string();
  if (fs::exists(path)) return path;
  LOG_INFO("writing the embedded default model to %s", path.c_str());
  ASSIGN_OR_RETURN(Args a, Args::parse({"--out", path, "--preset", "tiny", "--type", "f16"},
                                       {"--out", "--preset", "--type"}, {}));
  RETURN_IF_ERROR(generate_model(a));
  return path;
}

void print_endpoint(Platform& platform, Store& store, const std::string& data_dir, const std::string& maas) {
  auto ws = store.workspace(kDefaultWorkspace);
  if (!ws.ok()) return;
  auto ep = store.endpoint(ws->id, kDefaultEndpoint);
  if (!ep.ok()) return;
  auto keys = platform.endpoint_keys(kDefaultWorkspace, kDefaultEndpoint);
  if (!keys.ok()) return;
  const std::string url = platform.endpoint_url(*ep);
  std::printf("\nserverless endpoint '%s' (model %s): %s%s%s\n", ep->name.c_str(), ep->model_name.c_str(),
              ep->state.c_str(), ep->failure_reason.empty() ? "" : ": ", ep->failure_reason.c_str());
  std::printf("  URL:  %s\n  key:  %s\n\n", url.c_str(), keys->primary.c_str());
  std::printf("  curl %s/v1/chat/completions \\\n", url.c_str());
  std::printf("    -H \"Authorization: Bearer %s\" -H \"Content-Type: application/json\" \\\n", keys->primary.c_str());
  std::printf("    -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"max_tokens\":32}'\n\n");
  std::printf("  # any OpenAI client: base_url=%s/v1 api_key=<key>\n", url.c_str());
  std::printf("  # Azure AI Inference clients: endpoint %s, header api-key\n", url.c_str());
  std::printf("  # manage it: %s serverless-endpoint list --data-dir %s\n\n", maas.c_str(), data_dir.c_str());
}

}  // namespace

int cmd_serve(const std::vector<std::string>& argv) {
  auto flags = parse_flags(argv);
  if (!flags.ok()) return report_error(flags.status().message(), 2);
  const ServeFlags& f = *flags;

  sigset_t stop_signals = block_stop_signals();

  std::error_code ec;
  fs::create_directories(f.data_dir + "/logs", ec);
  fs::create_directories(f.data_dir + "/models", ec);
  fs::create_directories(f.data_dir + "/weights-cache", ec);
  ::chmod(f.data_dir.c_str(), 0700);
  const std::string data_dir = fs::absolute(f.data_dir).string();
  const int lock_fd = ::open((data_dir + "/serve.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return report_error("another maas serve is using " + data_dir + " (or it cannot be locked)");
  }
  auto maas_binary = self_executable();
  if (!maas_binary.ok()) return report_error(maas_binary.status().message());
  auto master = MasterSecret::load_or_create(data_dir + "/master.key");
  if (!master.ok()) return report_error(master.status().message());
  const std::string db_path = data_dir + "/maas.db";
  auto db = open_sqlite({db_path});
  if (!db.ok()) return report_error(db.status().message());
  // Time: the system's, or (tests) one that POST /api/debug/clock moves forward.
  OffsetClock test_clock;
  const Clock& clock = f.test_clock ? static_cast<const Clock&>(test_clock) : SystemClock::instance();
  if (f.test_clock) LOG_WARN("--test-clock: the platform's clock can be moved by POST /api/debug/clock");
  auto store = Store::open(std::move(*db), clock);
  if (!store.ok()) return report_error(store.status().message());
  auto meter_db = open_sqlite({db_path});
  if (!meter_db.ok()) return report_error(meter_db.status().message());
  auto meter = Meter::open(std::move(*meter_db), clock);
  if (!meter.ok()) return report_error(meter.status().message());
  LOG_INFO("store: %s (journal_mode=wal, synchronous=full)", db_path.c_str());

  SupervisorOptions so;
  so.worker_binary = *maas_binary;
  so.log_dir = data_dir + "/logs";
  so.probe_interval_ms = f.probe_interval_ms;
  so.drain_timeout_s = f.drain_timeout_s;
  Supervisor supervisor(so);
  PlatformOptions po;
  po.data_dir = data_dir;
  po.weights_cache_dir = data_dir + "/weights-cache";
  po.region = f.region;
  po.domain = f.domain;
  po.maas_binary = *maas_binary;
  po.rate_window_ms = f.rate_window_ms;
  po.drain_timeout_ms = f.drain_timeout_s * 1000;
  Platform platform(**store, *master, supervisor, clock, po);
  gateway::PassThroughSafety safety;
  gateway::GatewayOptions go;
  go.domain = f.domain;
  gateway::Gateway gateway(go, [&platform] { return platform.routes(); }, **meter, safety, clock);
  RbacAuthorizer authorizer(**store);
  ManagementApi management(platform, **store, supervisor, authorizer);
  if (f.test_clock) management.set_test_clock(&test_clock);
  const StudioServer studio(studio_assets());
  std::atomic<bool> draining{false};

  http::ServerOptions ho;
  ho.host = f.host;
  ho.port = f.port;
  ho.n_io_threads = 2;
  http::Server server(ho, [&](http::Request&& req, std::shared_ptr<http::Responder> res) {
    if (req.path == "/health" || req.path == "/health/live") return send_json(*res, 200, R"({"status":"ok"})");
    if (req.path == "/health/ready") {
      const bool ok = !draining.load() && (*meter)->healthy();
      return send_json(*res, ok ? 200 : 503, ok ? R"({"status":"ok"})" : R"({"status":"unavailable"})");
    }
    if (draining.load()) {
      api::HttpErrorResponse r = api::render_api_error(api::service_unavailable("the platform is shutting down", 1000), false);
      std::vector<http::Header> h;
      for (auto& [n, v] : r.headers) h.push_back({n, v});
      return res->send(r.status, std::move(h), r.body);
    }
    if (req.path.rfind("/api/", 0) == 0 || req.path == "/api") return management.handle(std::move(req), std::move(res));
    if (gateway.handle(req, res)) return;
    if (req.path == "/metrics" && req.method == "GET") {
      // Platform metrics need a management token allowed to read them.
      const std::string* auth = req.header("authorization");
      auto who = auth != nullptr && auth->size() > 7 ? (*store)->principal_by_token_hash(secret_digest(auth->substr(7)))
                                                     : StatusOr<Principal>(unauthenticated("no token"));
      if (!who.ok() || !authorizer.check(*who, "platform/metrics/read", "/").ok()) {
        api::HttpErrorResponse r = api::render_api_error(api::unauthenticated(), false);
        return send_json(*res, r.status, r.body);
      }
      return res->send(200, {{"content-type", "text/plain; version=0.0.4"}}, gateway.render_metrics());
    }
    if (studio.handle(req, *res)) return;
    api::HttpErrorResponse r = api::render_api_error(api::route_not_found(req.path), false);
    std::vector<http::Header> h;
    for (auto& [n, v] : r.headers) h.push_back({n, v});
    res->send(r.status, std::move(h), r.body);
  });
  if (Status s = server.start(); !s.ok()) return report_error(s.message());
  const std::string url = "http://" + (f.host == "0.0.0.0" ? std::string("127.0.0.1") : f.host) + ":" +
                          std::to_string(server.port());
  platform.set_public_url(url);
  if (Status s = platform.start(); !s.ok()) return report_error(s.message());

  auto model_path = default_model_path(f);
  if (!model_path.ok()) return report_error("default model: " + model_path.status().message());
  BootstrapOptions bo;
  bo.region = f.region;
  bo.default_model_path = *model_path;
  bo.new_admin_token = f.new_admin_token;
  auto boot = bootstrap(**store, platform, bo);
  if (!boot.ok()) return report_error("bootstrap: " + boot.status().message());

  // The CLI's connection file: the URL of this start and the administrator token.
  const std::string cli_path = data_dir + "/cli.json";
  nlohmann::json cli = nlohmann::json::object();
  if (auto old = read_file(cli_path, 1 << 16); old.ok()) {
    cli = nlohmann::json::parse(*old, nullptr, false);
    if (!cli.is_object()) cli = nlohmann::json::object();
  }
  cli["url"] = url;
  if (!boot->admin_token.empty()) cli["token"] = boot->admin_token;
  if (Status s = write_private_file(cli_path, cli.dump(2) + "\n"); !s.ok()) LOG_WARN("%s", s.message().c_str());

  // Wait (bounded) for the default endpoint's first instance and its state, so the printed
  // curl line works and the state shown is the one it has.
  for (int i = 0; i < 1200; ++i) {
    auto routes = platform.routes();
    auto it = routes->by_name.find(kDefaultEndpoint);
    if (it == routes->by_name.end() || !it->second->pool) break;
    const PoolStatus st = it->second->pool->status();
    if ((st.n_ready > 0 && it->second->state != "Creating") || st.failed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("maas platform listening on %s (data directory %s)\n", url.c_str(), data_dir.c_str());
  std::printf("studio: %s/ (sign in with a management token)\n", url.c_str());
  if (!boot->admin_token.empty()) {
    std::printf("administrator token (shown once; the CLI reads it from %s): %s\n", cli_path.c_str(),
                boot->admin_token.c_str());
  }
  print_endpoint(platform, **store, data_dir, *maas_binary);
  std::fflush(stdout);

  // Housekeeping: instance-hour heartbeats, shared-quota endpoints past their 168 hours.
  std::atomic<bool> stop_housekeeping{false};
  std::thread housekeeping([&] {
    while (!stop_housekeeping.load()) {
      platform.tick();
      for (int i = 0; i < 20 && !stop_housekeeping.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  int sig = 0;
  sigwait(&stop_signals, &sig);
  stop_housekeeping.store(true);
  housekeeping.join();
  LOG_INFO("signal %d: draining", sig);
  draining.store(true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f.drain_timeout_s);
  for (;;) {
    int inflight = 0;
    for (const auto& [name, r] : platform.routes()->by_name) inflight += r->inflight->load();
    if (inflight == 0 || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  supervisor.stop(2000);
  if (!(*meter)->flush(10000)) LOG_ERROR("usage records still queued at shutdown");
  server.stop();
  LOG_INFO("stopped");
  ::close(lock_fd);
  return 0;
}

}  // namespace maas
