// test_client.h — a small blocking HTTP/1.1 client over plain POSIX sockets, for the http
// tests only. Every read has a timeout (poll), so a server bug fails a test instead of hanging.
// Not thread-safe: one Client per thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace maas::http::testing {

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;                 // de-chunked
  std::vector<std::string> chunks;  // chunk payloads when chunked
  const std::string* header(std::string_view name) const;
};

class Client {
 public:
  // Connects to 127.0.0.1:port. rcvbuf > 0 sets SO_RCVBUF before connecting.
  explicit Client(uint16_t port, int rcvbuf = 0);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send(std::string_view data);
  // Reads one whole response (Content-Length, chunked, or until EOF). `head_only` for HEAD.
  bool read_response(Response* out, int timeout_ms = 5000, bool head_only = false);
  bool read_head(Response* out, int timeout_ms = 5000);
  // Reads the next chunk of a chunked body; false on the last (empty) chunk or failure.
  bool read_chunk(std::string* data, int timeout_ms = 5000);
  // True if the server closes (EOF or reset) within timeout_ms; received bytes are discarded.
  bool wait_closed(int timeout_ms);
  void close();

 private:
  bool fill(int timeout_ms);  // appends what recv returns; false on EOF, error or timeout
  bool read_line(std::string* line, int timeout_ms);
  bool read_exact(size_t n, std::string* out, int timeout_ms);

  int fd_ = -1;
  std::string buf_;
};

// "METHOD path HTTP/1.1\r\nhost: t\r\n<extra>content-length: n\r\n\r\n<body>".
std::string make_request(std::string_view method, std::string_view path, std::string_view body = "",
                         std::string_view extra_headers = "");

// ServerOptions on 127.0.0.1 with an ephemeral port.
inline ServerOptions test_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  return o;
}

// A handler that keeps every request and responder for the test to act on.
struct Captured {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Request> requests;                       // guarded by mu
  std::vector<std::shared_ptr<Responder>> responders;  // guarded by mu

  Handler handler() {
    return [this](Request&& request, std::shared_ptr<Responder> responder) {
      std::lock_guard lock(mu);
      requests.push_back(std::move(request));
      responders.push_back(std::move(responder));
      cv.notify_all();
    };
  }
  bool wait(size_t n, int timeout_ms = 5000) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return requests.size() >= n; });
  }
  std::shared_ptr<Responder> responder(size_t i) {
    std::lock_guard lock(mu);
    return responders.at(i);
  }
};

}  // namespace maas::http::testing
