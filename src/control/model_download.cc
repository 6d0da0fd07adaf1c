// model_download.cc — one resumable, verified, atomic HTTP download over libcurl's easy API.
//
// The decisions are taken at the end of the final response's headers (on_headers_end): whether
// the body is appended (206), replaces the part (200), is not needed (416, or dest reused), or
// is an error — so a missing digest or an HTTP error costs no body bytes.
#include "control/model_download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "control/crypto.h"

namespace maas {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr long kMaxRedirects = 10;
constexpr auto kProgressInterval = std::chrono::milliseconds(100);

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_sha256_hex(std::string_view s) { return s.size() == 64 && is_hex(s); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// `"<64 hex>"` or `W/"<64 hex>"` -> lowercase digest; anything else -> "".
std::string digest_from_etag(std::string_view v) {
  v = trim(v);
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return is_sha256_hex(v) ? lowercase(v) : std::string();
}

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// "bytes START-END/TOTAL" (TOTAL may be "*": *total = 0).
bool parse_content_range(std::string_view v, uint64_t* start, uint64_t* total) {
  v = trim(v);
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  const size_t dash = v.find('-'), slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return false;
  uint64_t end = 0;
  if (!parse_u64(v.substr(0, dash), start) || !parse_u64(v.substr(dash + 1, slash - dash - 1), &end)) return false;
  const std::string_view t = v.substr(slash + 1);
  *total = 0;
  return t == "*" || parse_u64(t, total);
}

std::string errno_text() { return std::strerror(errno); }

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status hash_file_into(int fd, uint64_t size, Sha256* hash, const std::string& path) {
  std::string buf(1 << 20, '\0');
  uint64_t pos = 0;
  while (pos < size) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return internal_error("cannot read " + path + ": " + (n < 0 ? errno_text() : "short file"));
    hash->update(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status write_all(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return internal_error("cannot write " + path + ": " + errno_text());
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status fsync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return internal_error("cannot open directory " + dir + ": " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return internal_error("cannot fsync directory " + dir + ": " + errno_text());
  return Status::Ok();
}

Status http_error(long status, const std::string& url, bool token_sent) {
  const std::string code = "HTTP " + std::to_string(status);
  if (status == 404) {
    return not_found("not found at " + url + " (" + code + "): check the repository, file name and revision");
  }
  if (status == 401 || status == 403) {
    return Status(StatusCode::kPermissionDenied,
                  "access denied at " + url + " (" + code + "): a gated or private repository needs a valid access token" +
                      (token_sent ? " (the token sent was refused)" : " (no token was sent)"));
  }
  return unavailable("download of " + url + " failed: the server answered " + code);
}

// The state of one download; libcurl's callbacks get a pointer to it.
struct Transfer {
  const DownloadOptions* o = nullptr;
  std::string part_path;
  int fd = -1;
  std::unique_ptr<Sha256> hash = std::make_unique<Sha256>();
  uint64_t offset = 0;  // part bytes before this request (the Range start, if sent)
  uint64_t done = 0;    // bytes in the part now
  uint64_t total = 0;   // whole file size, 0 when unknown
  bool range_sent = false;
  bool resumed = false;
  bool token_sent = false;
  std::string existing_digest;  // dest_path's digest, when it exists and no digest was given

  // The response whose headers are being read (reset at each status line of the chain).
  long status = 0;
  bool has_location = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  std::string content_range;
  // Across the redirect chain.
  std::string linked_digest, etag_digest;

  enum class Outcome { kBody, kReuse, kRangeComplete, kFailed } outcome = Outcome::kBody;
  Status error;                  // kFailed: why
  std::string expected;          // the digest to verify against ("" when unverified)
  SteadyClock::time_point last_progress{};

  ~Transfer() {
    if (fd >= 0) ::close(fd);
  }

  // The final response's headers are complete; false stops the transfer.
  bool on_headers_end() {
    expected = !o->expected_sha256.empty() ? lowercase(o->expected_sha256)
               : !linked_digest.empty()    ? linked_digest
                                           : etag_digest;
    const bool usable = status == 200 || status == 206 || (status == 416 && range_sent);
    if (!usable) return fail(http_error(status, o->url, token_sent));
    if (o->expected_sha256.empty()) {
      if (!existing_digest.empty() && expected == existing_digest) return stop(Outcome::kReuse);
      if (expected.empty() && !o->allow_unverified) {
        return fail(failed_precondition(
            "no SHA-256 to verify " + o->url +
            " against: the server sent no X-Linked-Etag or ETag digest; give the expected SHA-256 (--sha256) or "
            "allow an unverified download (--allow-unverified)"));
      }
    }
    if (status == 416) return stop(Outcome::kRangeComplete);
    if (status == 206) return begin_append();
    return begin_fresh();
  }

  bool begin_append() {
    uint64_t start = 0, whole = 0;
    if (!range_sent) return fail(data_loss("server sent 206 Partial Content for " + o->url + " without a Range request"));
    if (!parse_content_range(content_range, &start, &whole) || start != offset) {
      return fail(data_loss("server answered a request for bytes " + std::to_string(offset) + "- of " + o->url +
                            " with Content-Range '" + content_range + "'"));
    }
    resumed = true;
    total = whole != 0 ? whole : (has_content_length ? offset + content_length : 0);
    return true;
  }

  bool begin_fresh() {
    if (offset > 0) {  // a 200 to a Range request: the server starts over, so do we
      if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
        return fail(internal_error("cannot truncate " + part_path + ": " + errno_text()));
      }
      hash = std::make_unique<Sha256>();
      offset = done = 0;
    }
    total = has_content_length ? content_length : 0;
    return true;
  }

  bool stop(Outcome why) {
    outcome = why;
    return false;
  }
  bool fail(Status s) {
    error = std::move(s);
    return stop(Outcome::kFailed);
  }

  void header_line(std::string_view line) {
    if (line.substr(0, 5) == "HTTP/") {
      const size_t sp = line.find(' ');
      uint64_t code = 0;
      status = (sp != std::string_view::npos && parse_u64(line.substr(sp + 1, 3), &code)) ? static_cast<long>(code) : 0;
      has_location = has_content_length = false;
      content_range.clear();
      return;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string name = lowercase(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "x-linked-etag" && linked_digest.empty()) linked_digest = digest_from_etag(value);
    else if (name == "etag" && etag_digest.empty()) etag_digest = digest_from_etag(value);
    else if (name == "location") has_location = true;
    else if (name == "content-range") content_range = std::string(value);
    else if (name == "content-length") has_content_length = parse_u64(value, &content_length);
  }

  void report_progress(bool force) {
    if (!o->progress) return;
    const auto now = SteadyClock::now();
    if (!force && now - last_progress < kProgressInterval) return;
    last_progress = now;
    o->progress(done, total);
  }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (trim(line).empty()) {  // end of one response's headers
    const bool interim = t->status < 200;
    const bool redirect = t->status >= 300 && t->status < 400 && t->has_location;
    if (!interim && !redirect && !t->on_headers_end()) return 0;
    return size * n;
  }
  t->header_line(line);
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->outcome != Transfer::Outcome::kBody) return 0;
  const size_t bytes = size * n;
  Status s = write_all(t->fd, data, bytes, t->part_path);
  if (!s.ok()) {
    t->fail(std::move(s));
    return 0;
  }
  t->hash->update(data, bytes);
  t->done += bytes;
  return bytes;
}

int on_xferinfo(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->o->cancelled && t->o->cancelled()) return 1;
  if (t->outcome == Transfer::Outcome::kBody && t->status != 0) t->report_progress(false);
  return 0;
}

Status validate(const DownloadOptions& o) {
  const std::string scheme = lowercase(std::string_view(o.url).substr(0, 8));
  if (scheme.rfind("http://", 0) != 0 && scheme.rfind("https://", 0) != 0) {
    return invalid_argument("not an http or https URL: '" + o.url + "'");
  }
  if (o.dest_path.empty()) return invalid_argument("no destination path for " + o.url);
  if (!o.expected_sha256.empty() && !is_sha256_hex(o.expected_sha256)) {
    return invalid_argument("expected SHA-256 must be 64 hex digits, got '" + o.expected_sha256 + "'");
  }
  if (o.connect_timeout_s <= 0 || o.low_speed_timeout_s <= 0) return invalid_argument("timeouts must be positive");
  return Status::Ok();
}

// Opens (creating) and locks dest.part, hashes what it holds and positions at its end.
Status open_part(Transfer* t) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(t->o->dest_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return internal_error("cannot create directory " + parent.string() + ": " + ec.message());
  t->fd = ::open(t->part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (t->fd < 0) return internal_error("cannot open " + t->part_path + ": " + errno_text());
  if (::flock(t->fd, LOCK_EX | LOCK_NB) != 0) {
    return failed_precondition("another download to " + t->o->dest_path + " is in progress (" + t->part_path + " is locked)");
  }
  struct stat st {};
  if (::fstat(t->fd, &st) != 0) return internal_error("cannot stat " + t->part_path + ": " + errno_text());
  t->offset = t->done = static_cast<uint64_t>(st.st_size);
  RETURN_IF_ERROR(hash_file_into(t->fd, t->offset, t->hash.get(), t->part_path));
  if (::lseek(t->fd, 0, SEEK_END) < 0) return internal_error("cannot seek " + t->part_path + ": " + errno_text());
  return Status::Ok();
}

// Verifies the part, then fsync + rename + fsync(dir). A wrong digest deletes the part.
StatusOr<DownloadResult> finish(Transfer* t) {
  const std::string sha = t->hash->hex();
  if (!t->expected.empty() && sha != t->expected) {
    ::close(t->fd);
    t->fd = -1;
    ::unlink(t->part_path.c_str());
    return data_loss("SHA-256 mismatch for " + t->o->url + ": expected " + t->expected + ", got " + sha + " (" +
                     std::to_string(t->done) + " bytes); the partial file was deleted");
  }
  if (::fsync(t->fd) != 0) return internal_error("cannot fsync " + t->part_path + ": " + errno_text());
  ::close(t->fd);
  t->fd = -1;
  if (::rename(t->part_path.c_str(), t->o->dest_path.c_str()) != 0) {
    return internal_error("cannot rename " + t->part_path + " to " + t->o->dest_path + ": " + errno_text());
  }
  RETURN_IF_ERROR(fsync_directory_of(t->o->dest_path));
  DownloadResult r;
  r.path = t->o->dest_path;
  r.sha256 = sha;
  r.bytes = t->done;
  r.resumed = t->resumed;
  return r;
}

Status transport_error(CURLcode rc, const char* errbuf, const Transfer& t) {
  const std::string what = "download of " + t.o->url + " failed: " + (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  const std::string kept =
      t.done > 0 ? "; " + std::to_string(t.done) + " bytes kept in " + t.part_path + ", run again to resume" : "";
  if (rc == CURLE_ABORTED_BY_CALLBACK) return cancelled("download of " + t.o->url + " cancelled" + kept);
  if (rc == CURLE_OPERATION_TIMEDOUT) return Status(StatusCode::kDeadlineExceeded, what + kept);
  if (rc == CURLE_TOO_MANY_REDIRECTS) return unavailable("download of " + t.o->url + " failed: more than 10 redirects");
  return unavailable(what + kept);
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

void configure(CURL* c, Transfer* t, curl_slist* headers, char* errbuf) {
  const DownloadOptions& o = *t->o;
  curl_easy_setopt(c, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms; the bitmask ones are deprecated
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(c, CURLOPT_USERAGENT, "maas-model-pull/1");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout_s));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_timeout_s));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // a proxy's "200 Connection established" is not ours
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
  if (t->offset > 0) {
    t->range_sent = true;
    curl_easy_setopt(c, CURLOPT_RANGE, (std::to_string(t->offset) + "-").c_str());  // copied by libcurl
  }
}

// An existing dest_path with the given digest: returned as is.
StatusOr<DownloadResult> reuse_result(const DownloadOptions& o, const std::string& sha) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(o.dest_path, ec);
  if (ec) return internal_error("cannot stat " + o.dest_path + ": " + ec.message());
  DownloadResult r;
  r.path = o.dest_path;
  r.sha256 = sha;
  r.bytes = size;
  r.reused = true;
  return r;
}

// What a finished curl_easy_perform() means for the download.
StatusOr<DownloadResult> conclude(Transfer* t, CURLcode rc, const char* errbuf) {
  switch (t->outcome) {
    case Transfer::Outcome::kFailed: return t->error;
    case Transfer::Outcome::kReuse: return reuse_result(*t->o, t->existing_digest);
    case Transfer::Outcome::kRangeComplete: t->resumed = true; return finish(t);
    case Transfer::Outcome::kBody: break;
  }
  if (rc != CURLE_OK) return transport_error(rc, errbuf, *t);
  if (t->total != 0 && t->done != t->total) {
    return unavailable("download of " + t->o->url + " ended at byte " + std::to_string(t->done) + " of " +
                       std::to_string(t->total) + "; run again to resume");
  }
  t->report_progress(true);
  return finish(t);
}

}  // namespace

std::string hf_resolve_url(std::string_view base_url, std::string_view repo, std::string_view file,
                           std::string_view revision) {
  auto encode = [](std::string_view s, bool keep_slash) {
    static const char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
        out += ch;
      } else {
        out += '%';
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
      }
    }
    return out;
  };
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return std::string(base_url) + "/" + std::string(repo) + "/resolve/" + encode(revision, false) + "/" +
         encode(file, true);
}

StatusOr<DownloadResult> download_file(const DownloadOptions& options) {
  RETURN_IF_ERROR(validate(options));
  Transfer t;
  t.o = &options;
  t.part_path = options.dest_path + ".part";
  std::error_code ec;
  if (std::filesystem::is_regular_file(options.dest_path, ec)) {
    ASSIGN_OR_RETURN(std::string existing, sha256_file_hex(options.dest_path));
    if (options.expected_sha256.empty()) t.existing_digest = existing;  // decided at the headers
    else if (existing == lowercase(options.expected_sha256)) return reuse_result(options, existing);
  }
  RETURN_IF_ERROR(open_part(&t));

  curl_init_once();
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return internal_error("curl_easy_init failed");
  HeaderList headers(nullptr, curl_slist_free_all);
  if (!options.bearer_token.empty()) {
    headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + options.bearer_token).c_str()));
    t.token_sent = true;
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  configure(curl.get(), &t, headers.get(), errbuf);
  const CURLcode rc = curl_easy_perform(curl.get());
  StatusOr<DownloadResult> result = conclude(&t, rc, errbuf);
  if (t.fd >= 0 && t.done == 0) ::unlink(t.part_path.c_str());  // no litter: an empty part helps no resume
  return result;
}

}  // namespace maas
