// client.cc — HttpClient: the I/O threads, the registry of calls in flight, request
// serialisation and the blocking fetch(). The call's state machine is in client_call.cc, the
// keep-alive pool in client_pool.cc.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "base/log.h"
#include "http/client.h"
#include "http/client_core.h"
#include "http/wire.h"

namespace maas::http {

namespace asio = boost::asio;

namespace {

constexpr int kCloseWaitMs = 10000;  // ~HttpClient: cancelled calls complete well within this

// Set on this client's I/O threads, so fetch() can refuse to block one of them.
thread_local const ClientCore* t_io_core = nullptr;

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Origin-form ("/..."), or "*" (OPTIONS); no spaces or control bytes.
bool is_valid_target(std::string_view t) {
  if (t.empty() || (t[0] != '/' && t != "*")) return false;
  for (unsigned char c : t) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  out.append("\r\n");
}

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (wire::iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

}  // namespace

const std::string* ClientResponseHead::header(std::string_view name) const { return find_header(headers, name); }
const std::string* ClientResponse::header(std::string_view name) const { return find_header(headers, name); }

std::string endpoint_name(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status serialize_request(const ClientRequest& r, std::string* out) {
  std::string where = endpoint_name(r.host, r.port);
  if (!is_token(r.method)) return invalid_argument("http client: bad method for " + where);
  if (!is_valid_target(r.target)) return invalid_argument("http client: bad target for " + where);
  if (r.port == 0 || r.host.empty() || r.host.find_first_of(" \r\n/") != std::string::npos) {
    return invalid_argument("http client: bad host or port " + where);
  }
  out->clear();
  out->reserve(256 + r.target.size() + r.body.size());
  out->append(r.method).append(" ").append(r.target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const Header& h : r.headers) {
    if (!is_token(h.name)) return invalid_argument("http client: bad header name for " + where);
    if (wire::iequals(h.name, "content-length") || wire::iequals(h.name, "transfer-encoding") ||
        wire::iequals(h.name, "connection")) {
      continue;
    }
    has_host = has_host || wire::iequals(h.name, "host");
    append_field(*out, h.name, h.value);
  }
  if (!has_host) append_field(*out, "host", where);
  bool expects_body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (!r.body.empty() || expects_body) append_field(*out, "content-length", std::to_string(r.body.size()));
  out->append("\r\n").append(r.body);
  return Status::Ok();
}

// ---- ClientCore registry ------------------------------------------------------------------

ClientCore::ClientCore(ClientOptions o)
    : options(std::move(o)), pool(ioc, options.max_idle_per_endpoint, options.idle_keepalive_ms) {}

bool ClientCore::add(std::shared_ptr<ClientCall> call) {
  std::lock_guard lock(mu_);
  if (closing_) return false;
  const ClientCall* key = call.get();
  calls_.emplace(key, std::move(call));
  return true;
}

void ClientCore::remove(const ClientCall* call) {
  std::shared_ptr<ClientCall> removed;  // released outside the lock
  std::lock_guard lock(mu_);
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  removed = std::move(it->second);
  calls_.erase(it);
  if (calls_.empty()) cv_.notify_all();
}

size_t ClientCore::size() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

std::vector<std::shared_ptr<ClientCall>> ClientCore::begin_close() {
  std::lock_guard lock(mu_);
  closing_ = true;
  std::vector<std::shared_ptr<ClientCall>> out;
  out.reserve(calls_.size());
  for (auto& [key, call] : calls_) out.push_back(call);
  return out;
}

bool ClientCore::wait_empty(int timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return calls_.empty(); });
}

// ---- HttpClient ---------------------------------------------------------------------------

struct HttpClient::Impl {
  explicit Impl(ClientOptions options) : core(std::move(options)), work(core.ioc.get_executor()) {}

  ClientCore core;  // first: destroyed last (owns the io_context)
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
};

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  int n = std::max(1, impl_->core.options.n_io_threads);
  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([core = &impl_->core] {
      t_io_core = core;
      core->ioc.run();
    });
  }
}

HttpClient::~HttpClient() {
  Impl& s = *impl_;
  for (auto& call : s.core.begin_close()) call->cancel();
  if (!s.core.wait_empty(kCloseWaitMs)) LOG_WARN("http client: calls still in flight at close; forcing");
  s.core.pool.close_all();
  s.work.reset();
  s.core.ioc.stop();  // what is left is cleanup; pending handlers are destroyed with the context
  for (std::thread& t : s.threads) t.join();
  std::unique_lock lock(s.core.gate->mu);
  s.core.gate->open = false;
}

std::shared_ptr<ClientCall> HttpClient::start(ClientRequest request, ClientHandlers handlers) {
  return start_call(impl_->core, std::move(request), std::move(handlers));
}

size_t HttpClient::n_idle_connections() const { return impl_->core.pool.size(); }

size_t HttpClient::n_calls_in_flight() const { return impl_->core.size(); }

StatusOr<ClientResponse> HttpClient::fetch(ClientRequest request) {
  if (t_io_core == &impl_->core) {
    return failed_precondition("http client: fetch() called on the client's own I/O thread");
  }
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    ClientResponse response;         // guarded by mu
    std::shared_ptr<ClientCall> call;  // guarded by mu
    std::optional<Status> status;    // guarded by mu: set once complete
    bool too_large = false;          // guarded by mu
  };
  auto state = std::make_shared<State>();
  const size_t max_body = impl_->core.options.max_response_body_bytes;
  const std::string where = endpoint_name(request.host, request.port);
  ClientHandlers handlers;
  handlers.on_head = [state](ClientResponseHead&& head) {
    std::lock_guard lock(state->mu);
    state->response.status = head.status;
    state->response.headers = std::move(head.headers);
  };
  handlers.on_data = [state, max_body](std::string&& data) {
    std::shared_ptr<ClientCall> call;
    {
      std::lock_guard lock(state->mu);
      if (state->too_large) return;
      if (state->response.body.size() + data.size() <= max_body) {
        state->response.body.append(data);
        return;
      }
      state->too_large = true;
      state->response.body.clear();
      call = state->call;
    }
    if (call) call->cancel();
  };
  handlers.on_complete = [state](Status status) {
    std::lock_guard lock(state->mu);
    state->status = std::move(status);
    state->cv.notify_all();
  };
  std::unique_lock lock(state->mu);  // on_data waits for the handle (briefly)
  state->call = start(std::move(request), std::move(handlers));
  state->cv.wait(lock, [&] { return state->status.has_value(); });
  state->call.reset();
  if (state->too_large) {
    return resource_exhausted("http client: response body from " + where + " exceeds " +
                              std::to_string(max_body) + " bytes");
  }
  if (!state->status->ok()) return *state->status;
  return std::move(state->response);
}

}  // namespace maas::http
