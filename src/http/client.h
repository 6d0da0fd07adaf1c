// client.h — an asynchronous HTTP/1.1 client (plain TCP) for the gateway's proxy, the
// supervisor's health probes and the CLI: keep-alive pooling per host:port, streamed bodies
// delivered piece by piece as they arrive, pause/resume for backpressure, cancellation.
//
// Life of a call: take an idle pooled connection to host:port or resolve + connect; write the
// request while already reading the response; on_head once; on_data for each piece of the
// de-chunked body, in order; on_complete exactly once, last. A connection goes back to the
// pool only when its response was read completely, both sides keep it alive, and nothing
// extra was received. A pooled connection that fails with EOF/reset before any response byte
// arrives (the server closed it while idle) is retried ONCE on a fresh connection; nothing
// else is retried (the request may have reached the server).
//
// Status given to on_complete (messages name host:port, never bodies or header values):
//   ok                   the whole response was received (any HTTP status, 4xx/5xx too)
//   kUnavailable         DNS failure, connect refused or unreachable: nothing reached the server
//   kDeadlineExceeded    connect_timeout_ms (resolve + connect), response_timeout_ms (request
//                        sent -> complete response head) or read_timeout_ms (gap between body
//                        bytes, not counted while paused)
//   kCancelled           cancel(), or the HttpClient was destroyed with the call in flight
//   kDataLoss            the connection closed or reset after the request was sent, the
//                        response was malformed, or its header exceeded 64 KiB (gateway: 502)
//   kInvalidArgument     the request cannot be sent (bad method, target, port 0, header name)
//   kResourceExhausted   fetch() only: the body exceeded max_response_body_bytes
//   kInternal            a handler threw (the call is closed)
//
// Framing: Content-Length, chunked and read-until-close bodies; responses to HEAD and
// 1xx(101)/204/304 have none; interim 1xx responses (100 Continue) are skipped.
//
// Thread safety: HttpClient and ClientCall methods may be called from any thread. Handlers
// run on the client's I/O threads, must not block, and the handlers of one call never run
// concurrently. ~HttpClient and fetch() must not be called from this client's I/O threads
// (fetch() returns kFailedPrecondition there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/http.h"

namespace maas::http {

struct ClientRequest {
  std::string method = "GET";
  std::string host = "127.0.0.1";    // IP literal or resolvable name
  uint16_t port = 0;
  std::string target = "/";          // origin-form, e.g. "/v1/chat/completions?x=1"
  // Sent in order. The client adds Host (unless given here) and Content-Length (when the body
  // is non-empty or the method is POST/PUT/PATCH), and drops the caller's content-length,
  // transfer-encoding and connection fields; CR/LF/NUL are removed from values.
  std::vector<Header> headers;
  std::string body;
  int connect_timeout_ms = 5000;
  int response_timeout_ms = 600000;  // from the request being sent to the complete response head
  int read_timeout_ms = 600000;      // longest gap between body bytes
};

struct ClientResponseHead {
  int status = 0;
  std::vector<Header> headers;  // as received, in order
  // Case-insensitive lookup of the first field with this name; nullptr if absent.
  const std::string* header(std::string_view name) const;
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;  // de-chunked
  const std::string* header(std::string_view name) const;
};

struct ClientHandlers {
  std::function<void(ClientResponseHead&& head)> on_head;  // once, before any data (may be empty)
  std::function<void(std::string&& data)> on_data;         // body bytes, de-chunked, in order (may be empty)
  std::function<void(Status status)> on_complete;          // exactly once, last; ok = whole body received
};

// Handle to one request in flight. The call lives until on_complete has run, whether or not
// the caller keeps this handle; the handlers are released right after on_complete (so they
// may capture the handle). A call paused forever stays until cancel() or ~HttpClient.
class ClientCall {
 public:
  virtual ~ClientCall() = default;
  // Closes the connection (the server sees the client gone); on_complete(kCancelled) unless
  // already completed. After cancel() returns no handler starts (one may be running).
  virtual void cancel() = 0;
  // Stops delivering and reading body bytes (backpressure); the read timeout is suspended
  // while paused. After pause() returns no on_data starts until resume() (a piece already
  // read is held). The head is still read and delivered.
  virtual void pause() = 0;
  virtual void resume() = 0;
};

struct ClientOptions {
  int n_io_threads = 1;
  size_t max_idle_per_endpoint = 64;  // keep-alive pool per host:port (oldest closed beyond)
  int idle_keepalive_ms = 20000;      // idle pooled connections are closed after this
  size_t max_response_body_bytes = 64 << 20;  // fetch() only
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  // Cancels every call in flight (their on_complete runs with kCancelled before this returns),
  // closes the pool and joins the I/O threads.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a call; never null. Errors arrive through on_complete, never on this thread.
  std::shared_ptr<ClientCall> start(ClientRequest request, ClientHandlers handlers);
  // Blocking: the whole response (any HTTP status) or the call's error status.
  StatusOr<ClientResponse> fetch(ClientRequest request);
  size_t n_idle_connections() const;  // pooled, over all endpoints
  size_t n_calls_in_flight() const;   // started and not yet completed

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maas::http
