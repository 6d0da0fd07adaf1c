// client_core.h — state shared by the HttpClient, its calls and its idle pool (internal; only
// client*.cc include it, Asio stays out of client.h).
//
// Ownership: HttpClient::Impl owns the ClientCore. The registry holds every call until its
// on_complete has run; callers hold thin handles (weak reference + Gate), so no Asio object
// outlives the io_context. Thread safety: options are immutable; the registry and the pool
// each have their own mutex; the Gate lets handles post to a call's strand only while the
// io_context lives (shared lock to post, exclusive lock to close).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/client.h"
#include "http/server_core.h"  // Gate

namespace maas::http {

using ClientClock = std::chrono::steady_clock;

// Idle keep-alive connections per endpoint key ("host:port"), most recent last.
class IdlePool {
 public:
  IdlePool(boost::asio::io_context& ioc, size_t max_per_endpoint, int keepalive_ms);
  // A live idle connection (not expired, peer has not closed it) or nullopt; takes the most
  // recently returned one. Dead ones met on the way are closed.
  std::optional<boost::asio::ip::tcp::socket> take(const std::string& key);
  // Returns a connection with no operation pending; beyond max_per_endpoint the oldest idle
  // one for the key is closed. After close_all() the socket is closed at once.
  void put(const std::string& key, boost::asio::ip::tcp::socket socket);
  size_t size() const;
  void close_all();

 private:
  struct Idle {
    boost::asio::ip::tcp::socket socket;
    ClientClock::time_point since;
  };
  void arm_sweep();  // mu_ held
  void wait_sweep(ClientClock::time_point at);  // on the sweeper's strand
  void sweep();                                 // on the sweeper's strand

  const size_t max_per_endpoint_;
  const std::chrono::milliseconds keepalive_;
  boost::asio::steady_timer timer_;  // on its own strand
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;  // guarded by mu_
  size_t n_idle_ = 0;                                         // guarded by mu_
  bool sweep_armed_ = false;                                  // guarded by mu_
  bool closed_ = false;                                       // guarded by mu_
};

class ClientCore {
 public:
  explicit ClientCore(ClientOptions options);

  const ClientOptions options;
  boost::asio::io_context ioc;
  IdlePool pool;
  const std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  // Registry of calls in flight; add() returns false once close began.
  bool add(std::shared_ptr<ClientCall> call);
  void remove(const ClientCall* call);
  size_t size() const;
  // Marks the core as closing and returns the calls in flight.
  std::vector<std::shared_ptr<ClientCall>> begin_close();
  bool wait_empty(int timeout_ms);  // true if every call completed in time

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;                                                        // guarded by mu_
  std::unordered_map<const ClientCall*, std::shared_ptr<ClientCall>> calls_;  // guarded by mu_
};

// The request's bytes (request line, fields, body) for host:port, or kInvalidArgument.
Status serialize_request(const ClientRequest& request, std::string* out);
// "host:port" ("[::1]:port" for IPv6 literals): the pool key and the name in messages.
std::string endpoint_name(const std::string& host, uint16_t port);
// Starts one call on `core` (client_call.cc); the returned handle is what callers hold.
std::shared_ptr<ClientCall> start_call(ClientCore& core, ClientRequest request, ClientHandlers handlers);

}  // namespace maas::http
