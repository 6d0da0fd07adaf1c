// cmd_model_pull.cc — `maas model pull REPO FILE`: flags, environment defaults, the terminal
// progress bar and Ctrl-C handling around download_file() (contract in cmd_model_pull.h).
#include "cmd_model_pull.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "control/model_download.h"

namespace maas {
namespace {

const char kUsage[] =
    "usage: maas model pull REPO FILE [--revision main] [--base-url URL] [--sha256 HEX] [--out DIR]\n"
    "                       [--token-env HF_TOKEN] [--allow-unverified] [--output json]";

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_interrupt(int) { g_interrupted.store(true); }

// SIGINT/SIGTERM set g_interrupted for the duration (a second Ctrl-C kills as usual).
class InterruptScope {
 public:
  InterruptScope() {
    g_interrupted.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) n /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", n, units[u]);
  return buf;
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// One line on stderr redrawn with '\r': percentage, bytes, speed of this run, ETA.
class ProgressBar {
 public:
  void update(uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (!drawn_) start_ = now, base_ = done;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double speed = elapsed > 0.5 ? static_cast<double>(done - base_) / elapsed : 0;
    const std::string rate = speed > 0 ? human_bytes(speed) + "/s" : "-- MiB/s";
    if (total > 0) {
      const double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total);
      const std::string eta = speed > 0 ? clock_text(static_cast<double>(total - done) / speed) : "--:--";
      std::fprintf(stderr, "\r%5.1f%%  %s / %s  %s  ETA %s\033[K", pct, human_bytes(done).c_str(),
                   human_bytes(total).c_str(), rate.c_str(), eta.c_str());
    } else {
      std::fprintf(stderr, "\r%s  %s\033[K", human_bytes(done).c_str(), rate.c_str());
    }
    std::fflush(stderr);
  }
  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  bool drawn_ = false;
  uint64_t base_ = 0;
  std::chrono::steady_clock::time_point start_;
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? std::string(v) : fallback;
}

// REPO is "owner/name" (no "..", no leading '/'); FILE a relative path whose last part names it.
std::string check_names(const std::string& repo, const std::string& file) {
  auto bad_path = [](const std::string& p) {
    if (p.empty() || p.front() == '/' || p.back() == '/') return true;
    for (const auto& part : std::filesystem::path(p)) {
      if (part == ".." || part == ".") return true;
    }
    return false;
  };
  if (bad_path(repo)) return "REPO must look like owner/name, got '" + repo + "'";
  if (bad_path(file)) return "FILE must be a path inside the repository, got '" + file + "'";
  return "";
}

void print_result(const DownloadResult& r, bool json) {
  if (!json) {
    std::printf("%s\n", r.path.c_str());
    return;
  }
  nlohmann::ordered_json j;
  j["path"] = r.path;
  j["sha256"] = r.sha256;
  j["bytes"] = r.bytes;
  j["resumed"] = r.resumed;
  j["reused"] = r.reused;
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

int cmd_model_pull(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--revision", "--base-url", "--sha256", "--out", "--token-env", "--output"},
                          {"--allow-unverified", "--help", "-h"});
  if (!args.ok()) return report_error(args.status().message() + " (see maas model pull --help)", 2);
  if (args->has("--help") || args->has("-h")) {
    std::printf("%s\n", kUsage);
    return 0;
  }
  if (args->positional().size() != 2) {
    return report_error("expected REPO and FILE: maas model pull REPO FILE [options] (see --help)", 2);
  }
  const std::string output = args->get("--output", "text");
  if (output != "text" && output != "json") return report_error("--output must be text or json", 2);
  const std::string& repo = args->positional()[0];
  const std::string& file = args->positional()[1];
  if (std::string why = check_names(repo, file); !why.empty()) return report_error(why, 2);

  const std::string token_env = args->get("--token-env", "HF_TOKEN");
  DownloadOptions o;
  const std::string base = args->get("--base-url", env_or("MAAS_HF_BASE_URL", std::string(kDefaultHfBaseUrl)));
  o.url = hf_resolve_url(base, repo, file, args->get("--revision", "main"));
  const std::string out_dir = args->get("--out", env_or("MAAS_MODELS_DIR", "./models"));
  o.dest_path = (std::filesystem::path(out_dir) / std::filesystem::path(file).filename()).string();
  o.expected_sha256 = args->get("--sha256");
  o.allow_unverified = args->has("--allow-unverified");
  o.bearer_token = env_or(token_env.c_str(), "");

  ProgressBar bar;
  if (isatty(STDERR_FILENO)) o.progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
  InterruptScope interrupts;
  o.cancelled = [] { return g_interrupted.load(); };
  auto result = download_file(o);
  bar.finish();
  if (!result.ok()) {
    const Status& s = result.status();
    if (s.code() == StatusCode::kInvalidArgument) return report_error(s.message(), 2);
    if (s.code() == StatusCode::kCancelled) return report_error(s.message(), 130);
    if (s.code() == StatusCode::kPermissionDenied && o.bearer_token.empty()) {
      return report_error(s.message() + "; put one in $" + token_env + " (or name another variable with --token-env)");
    }
    return report_error(s.message());
  }
  print_result(*result, output == "json");
  return 0;
}

}  // namespace maas
