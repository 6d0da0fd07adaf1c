// http.h — the HTTP/1.1 transport beneath the inference API: an asynchronous server that holds
// thousands of idle or streaming connections on one or two I/O threads.
//
// The layer owns framing, limits, timeouts and disconnect detection; it knows no routes. A
// complete request (headers + body) is handed to the Handler on an I/O thread together with a
// Responder; the handler answers through the Responder from any thread, at any later time.
//
// What the layer answers by itself (JSON bodies in OpenAI shape
// {"error":{"message","type":"invalid_request_error","param":null,"code"}}, then it closes):
//   400 `invalid_http_request`   malformed HTTP, bad target, both Content-Length and chunked
//   408 `request_timeout`        the request was not complete header_timeout_ms after its
//                                first byte (slowloris)
//   413 `request_too_large`      Content-Length above max_body_bytes (sent before the body is
//                                read) or a chunked body crossing it
//   431 `request_header_fields_too_large`  header bytes above max_header_bytes or more than
//                                max_header_count fields
//   503 `server_is_overloaded` (type server_error)  max_connections already open, or
//                                max_connections_per_ip from the client's address
// Every response, including these, carries `x-request-id`.
//
// Path normalisation (Request::path), so that routing and auth see one canonical spelling:
// the target's path is percent-decoded (%2F becomes '/'; bad escapes and %00 -> 400), empty
// segments ("//") and "." are dropped, ".." removes the previous segment (never above the
// root), and a trailing '/' is dropped ("/v1/models/" -> "/v1/models"; the root stays "/").
// Case is preserved (routes match case-sensitively). Absolute-form targets
// ("http://host/p?q") use their path; "OPTIONS *" gives path "*".
//
// Connections: HTTP/1.1 keep-alive (pipelined requests are answered in order), Connection:
// close, HTTP/1.0 (always closed after the response). `Expect: 100-continue` is answered with
// an interim 100 once the headers pass the limits. A client that half-closes (shutdown of its
// write side) while its request is being handled is treated as gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace maas::http {

struct Header {
  std::string name, value;
};

struct Request {
  std::string method;           // "GET", "POST", "OPTIONS", ... as sent (case-sensitive)
  std::string target;           // raw request target
  std::string path;             // percent-decoded, normalised as described above
  std::string query;            // raw query string (after '?', not decoded), may be empty
  std::vector<Header> headers;  // as received (names keep their case), in order
  std::string body;             // de-chunked body
  std::string request_id;       // client's x-request-id if 1..128 printable ASCII, else 32 hex
  std::string remote_address;   // "ip:port"
  // Case-insensitive lookup of the first field with this name; nullptr if absent.
  const std::string* header(std::string_view name) const;
};

// One per request. Every method is callable from ANY thread; the work is posted onto the
// connection's strand. Calls after the response is complete, after the client went away or
// after the Server stopped are ignored (write() returns false). Misuse (send twice, write
// before start_stream) is ignored too. If the last reference is dropped without a response,
// the layer answers 500 (or, mid-stream, closes the connection so the client sees a truncated
// response). Thread safety: all methods may be called concurrently.
class Responder {
 public:
  virtual ~Responder() = default;
  // The whole response with Content-Length. The layer owns framing: content-length,
  // transfer-encoding and connection headers from the caller are dropped (a caller's
  // "connection: close" still closes after the response). A caller's x-request-id replaces
  // the request's.
  virtual void send(int status, std::vector<Header> headers, std::string body) = 0;
  // Starts a chunked response (e.g. text/event-stream); then write()* and end_stream().
  virtual void start_stream(int status, std::vector<Header> headers) = 0;
  // Queues one chunk (empty data is a no-op). Returns false once the client is gone, the
  // stream was aborted, or the stream is not open. Buffering is bounded: if the unsent bytes
  // exceed ServerOptions::max_write_buffer_bytes the connection is aborted at once, and a
  // write that makes no progress for write_timeout_ms aborts it too (slow reader).
  virtual bool write(std::string data) = 0;
  virtual void end_stream() = 0;
  // True once the client disconnected (seen while the handler works, streaming or not: a read
  // stays pending on the socket) or the connection was aborted (timeout, stop()).
  virtual bool closed() const = 0;
  // Called once, on an I/O thread, if the client goes away (or the connection is aborted,
  // including by Server::stop) before the response is complete; never called otherwise and
  // released when the response completes. If that already happened, it runs at once on the
  // calling thread. Must not block.
  virtual void on_close(std::function<void()> callback) = 0;
  // Bytes passed to write() that are not yet written to the socket (framing not counted).
  virtual size_t unsent_bytes() const = 0;
  // Backpressure for a proxy: runs `callback` once, on an I/O thread, when the unsent bytes
  // fall to or below low_watermark, or when the exchange closes or aborts (check closed());
  // at once on the calling thread if already so. One pending callback per responder: a second
  // call replaces the first (which is dropped, not run). Must not block. Typical use:
  //   if (!r->write(data)) ...; if (r->unsent_bytes() > high) { call->pause();
  //     r->on_drain(low, [call] { call->resume(); }); }
  virtual void on_drain(size_t low_watermark, std::function<void()> callback) = 0;
};

// Called on an I/O thread for each complete request. Must return quickly (hand long work to
// another thread and answer through the responder). Exceptions are caught: 500.
using Handler = std::function<void(Request&& request, std::shared_ptr<Responder> responder)>;

struct ServerOptions {
  std::string host = "127.0.0.1";       // IPv4/IPv6 literal or a resolvable name
  uint16_t port = 8080;                 // 0 = ephemeral (see Server::port())
  size_t max_body_bytes = 16 << 20;     // -> 413
  size_t max_header_bytes = 64 << 10;   // request line + fields -> 431
  size_t max_header_count = 1000;       // number of fields -> 431
  int header_timeout_ms = 30000;        // whole request within this of its first byte -> 408
  int idle_timeout_ms = 60000;          // no byte of a next request (also a fresh connection)
  int write_timeout_ms = 60000;         // a pending write making no progress -> abort
  size_t max_write_buffer_bytes = 4 << 20;  // unsent streamed bytes before abort
  size_t max_connections = 10000;       // beyond: 503 and close
  size_t max_connections_per_ip = 2048;  // from one client address; beyond: 503 and close
  int n_io_threads = 1;
};

// Thread safety: start/stop/~Server from one controlling thread, never from an I/O thread or
// the handler; port() and n_connections() from any thread.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads; returns once listening. Errors: bad host,
  // port busy (kUnavailable), called twice (kFailedPrecondition).
  Status start();
  uint16_t port() const;  // the bound port (resolves port 0); 0 before start()
  // Closes the listener and every connection (pending on_close callbacks fire), joins the
  // I/O threads. Idempotent; returns promptly even if handlers never answered.
  void stop();
  size_t n_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maas::http
