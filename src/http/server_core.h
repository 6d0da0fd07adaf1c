// server_core.h — state shared by the Server, its connections and their responders (internal).
//
// Ownership: Server::Impl owns the ServerCore; the registry owns every open Connection (a
// connection removes itself when it closes); responders hold only weak references plus the
// Gate. Thread safety: options and handler are immutable after construction; the registry is
// guarded by mu; the Gate lets responders on other threads post to a strand only while the
// io_context is alive (shared lock to post, exclusive lock to close).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "http/http.h"

namespace maas::http {

class Connection;

struct Gate {
  std::shared_mutex mu;
  bool open = true;  // guarded by mu
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, Handler handler)
      : options(std::move(options)), handler(std::move(handler)) {}

  const ServerOptions options;
  const Handler handler;
  boost::asio::io_context ioc;
  const std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  // Registry of open connections, counted per client address. add() returns false when stop
  // began; the caller checks has_room_for(ip) first (one accept handler adds, so it holds).
  bool add(uint64_t id, std::shared_ptr<Connection> connection, const std::string& ip);
  bool has_room_for(const std::string& ip) const;  // below max_connections_per_ip
  void remove(uint64_t id);
  size_t size() const { return n_connections_.load(std::memory_order_relaxed); }
  // Marks the core as closing and returns the open connections (for stop()).
  std::vector<std::shared_ptr<Connection>> begin_close();
  // Waits until the registry is empty or the timeout passes; true if empty.
  bool wait_empty(int timeout_ms);
  void clear();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;                                                 // guarded by mu_
  struct Entry {
    std::shared_ptr<Connection> connection;
    std::string ip;
  };
  std::unordered_map<uint64_t, Entry> connections_;  // guarded by mu_
  std::unordered_map<std::string, size_t> per_ip_;   // open connections per address; guarded by mu_
  std::atomic<size_t> n_connections_{0};
};

}  // namespace maas::http
