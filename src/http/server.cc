// server.cc — the listener, the I/O threads, the connection registry and stop().
#include <sys/socket.h>

#include <future>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/log.h"
#include "http/connection.h"
#include "http/http.h"
#include "http/wire.h"

namespace maas::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// ---- ServerCore registry ----------------------------------------------------------------

bool ServerCore::add(uint64_t id, std::shared_ptr<Connection> connection, const std::string& ip) {
  std::lock_guard lock(mu_);
  if (closing_) return false;
  ++per_ip_[ip];
  connections_.emplace(id, Entry{std::move(connection), ip});
  n_connections_.store(connections_.size());
  return true;
}

bool ServerCore::has_room_for(const std::string& ip) const {
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(ip);
  return it == per_ip_.end() || it->second < options.max_connections_per_ip;
}

void ServerCore::remove(uint64_t id) {
  std::shared_ptr<Connection> removed;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  removed = std::move(it->second.connection);
  if (auto ip = per_ip_.find(it->second.ip); ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
  connections_.erase(it);
  n_connections_.store(connections_.size());
  if (connections_.empty()) cv_.notify_all();
}

std::vector<std::shared_ptr<Connection>> ServerCore::begin_close() {
  std::lock_guard lock(mu_);
  closing_ = true;
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(connections_.size());
  for (auto& [id, e] : connections_) out.push_back(e.connection);
  return out;
}

bool ServerCore::wait_empty(int timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return connections_.empty(); });
}

void ServerCore::clear() {
  std::unordered_map<uint64_t, Entry> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(connections_);
  per_ip_.clear();
  n_connections_.store(0);
}

// ---- Server -----------------------------------------------------------------------------

struct Server::Impl {
  Impl(ServerOptions options, Handler handler)
      : core(std::move(options), std::move(handler)),
        acceptor(asio::make_strand(core.ioc)),
        retry_timer(acceptor.get_executor()) {}

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void refuse(tcp::socket& socket);

  ServerCore core;  // first: destroyed last (owns the io_context)
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;  // backs off accept after EMFILE and friends
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  uint64_t next_id = 1;  // accept handler only
  bool started = false;
  bool stopped = false;
};

void Server::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(core.ioc), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or buffers: back off instead of spinning; other errors (a peer that
    // reset before accept) are per-connection.
    bool resource = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                    ec == asio::error::no_memory || ec.value() == ENFILE;
    if (resource) {
      LOG_WARN("http: accept: %s; retrying in 50 ms", ec.message().c_str());
      retry_timer.expires_after(std::chrono::milliseconds(50));
      retry_timer.async_wait([this](error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) do_accept();
      });
      return;
    }
    do_accept();
    return;
  }
  error_code ep_ec;
  const tcp::endpoint peer = socket.remote_endpoint(ep_ec);
  const std::string ip = ep_ec ? std::string() : peer.address().to_string();
  // Only this handler adds connections, so a room checked here is still there at add().
  if (core.size() >= core.options.max_connections || !core.has_room_for(ip)) {
    refuse(socket);
  } else {
    uint64_t id = next_id++;
    auto connection = std::make_shared<Connection>(core, std::move(socket), id);
    if (core.add(id, connection, ip)) {
      asio::post(connection->strand(), [connection] { connection->start(); });
    }
  }
  do_accept();
}

// Over the connection cap (global or per address): a best-effort 503 without reading the
// request, then close.
void Server::Impl::refuse(tcp::socket& socket) {
  LOG_DEBUG("http: connection refused: %zu open (cap %zu, %zu per address)", core.size(), core.options.max_connections,
            core.options.max_connections_per_ip);
  std::string body = wire::error_json("too many open connections", "server_error", "server_is_overloaded");
  std::string request_id = wire::generate_request_id();
  wire::Head head;
  head.status = 503;
  head.request_id = request_id;
  head.content_length = body.size();
  head.close = true;
  std::string bytes = wire::serialize_head(head) + body;
  ssize_t n = ::send(socket.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

Status Server::start() {
  Impl& s = *impl_;
  if (s.started) return failed_precondition("http server already started");
  const ServerOptions& o = s.core.options;
  error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(o.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, o.port);
  } else {
    tcp::resolver resolver(s.core.ioc);
    auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec || results.empty()) return invalid_argument("http: cannot resolve host '" + o.host + "'");
    endpoint = results.begin()->endpoint();
  }
  std::string where = o.host + ":" + std::to_string(o.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    s.acceptor.close(ignored);
    return unavailable("http: listen on " + where + ": " + ec.message());
  }
  s.port.store(s.acceptor.local_endpoint(ec).port());
  s.started = true;
  s.work.emplace(s.core.ioc.get_executor());
  asio::post(s.acceptor.get_executor(), [&s] { s.do_accept(); });
  int n_threads = std::max(1, o.n_io_threads);
  for (int i = 0; i < n_threads; ++i) {
    s.threads.emplace_back([&s] { s.core.ioc.run(); });
  }
  LOG_INFO("http: listening on %s:%u (%d I/O thread%s)", o.host.c_str(), s.port.load(), n_threads,
           n_threads == 1 ? "" : "s");
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->port.load(); }

size_t Server::n_connections() const { return impl_->core.size(); }

void Server::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  std::promise<void> listener_closed;
  asio::post(s.acceptor.get_executor(), [&s, &listener_closed] {
    error_code ec;
    s.acceptor.close(ec);
    s.retry_timer.cancel();
    listener_closed.set_value();
  });
  if (listener_closed.get_future().wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    LOG_WARN("http: listener did not close in time");
  }
  for (auto& c : s.core.begin_close()) {
    asio::post(c->strand(), [c] { c->abort("server stopping"); });
  }
  s.work.reset();
  if (!s.core.wait_empty(2000)) LOG_WARN("http: connections still open at stop; forcing");
  s.core.ioc.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  {
    std::unique_lock lock(s.core.gate->mu);
    s.core.gate->open = false;
  }
  s.core.clear();
}

}  // namespace maas::http
