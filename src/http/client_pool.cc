// client_pool.cc — the client's idle keep-alive connections per host:port, closed after
// idle_keepalive_ms by one sweeper timer that runs only while the pool is non-empty.
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/post.hpp>

#include "http/client_core.h"

namespace maas::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// True if the peer has neither closed the idle connection nor sent anything on it.
bool is_quiet(tcp::socket& socket) {
  char c;
  ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void close_quietly(tcp::socket& socket) {
  error_code ec;
  socket.close(ec);
}

}  // namespace

IdlePool::IdlePool(asio::io_context& ioc, size_t max_per_endpoint, int keepalive_ms)
    : max_per_endpoint_(max_per_endpoint),
      keepalive_(std::max(keepalive_ms, 1)),
      timer_(asio::make_strand(ioc)) {}

std::optional<tcp::socket> IdlePool::take(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  std::optional<tcp::socket> out;
  auto now = ClientClock::now();
  std::vector<Idle>& v = it->second;
  while (!v.empty() && !out) {
    Idle idle = std::move(v.back());
    v.pop_back();
    --n_idle_;
    if (now - idle.since < keepalive_ && is_quiet(idle.socket)) {
      out.emplace(std::move(idle.socket));
    } else {
      close_quietly(idle.socket);
    }
  }
  if (v.empty()) idle_.erase(it);
  return out;
}

void IdlePool::put(const std::string& key, tcp::socket socket) {
  std::lock_guard lock(mu_);
  if (closed_ || max_per_endpoint_ == 0) {
    close_quietly(socket);
    return;
  }
  std::vector<Idle>& v = idle_[key];
  v.push_back(Idle{std::move(socket), ClientClock::now()});
  ++n_idle_;
  if (v.size() > max_per_endpoint_) {
    close_quietly(v.front().socket);
    v.erase(v.begin());
    --n_idle_;
  }
  arm_sweep();
}

size_t IdlePool::size() const {
  std::lock_guard lock(mu_);
  return n_idle_;
}

void IdlePool::close_all() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [key, v] : idle_) {
    for (Idle& idle : v) close_quietly(idle.socket);
  }
  idle_.clear();
  n_idle_ = 0;
  asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

void IdlePool::arm_sweep() {
  if (sweep_armed_ || n_idle_ == 0) return;
  sweep_armed_ = true;
  asio::post(timer_.get_executor(), [this] { wait_sweep(ClientClock::now() + keepalive_); });
}

void IdlePool::wait_sweep(ClientClock::time_point at) {
  timer_.expires_at(at);
  timer_.async_wait([this](error_code ec) {
    if (ec) {  // cancelled by close_all()
      std::lock_guard lock(mu_);
      sweep_armed_ = false;
      return;
    }
    sweep();
  });
}

// Closes the expired connections and waits for the next expiry while any are left.
void IdlePool::sweep() {
  std::lock_guard lock(mu_);
  auto now = ClientClock::now();
  auto next = ClientClock::time_point::max();
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::vector<Idle>& v = it->second;
    size_t n_expired = 0;
    while (n_expired < v.size() && now - v[n_expired].since >= keepalive_) {
      close_quietly(v[n_expired].socket);
      ++n_expired;
    }
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n_expired));
    n_idle_ -= n_expired;
    if (v.empty()) {
      it = idle_.erase(it);
    } else {
      next = std::min(next, v.front().since + keepalive_);
      ++it;
    }
  }
  if (n_idle_ == 0 || closed_) {
    sweep_armed_ = false;
    return;
  }
  wait_sweep(next);
}

}  // namespace maas::http
