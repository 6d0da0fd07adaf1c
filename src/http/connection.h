// connection.h — one accepted TCP connection: the request reader, the response writer and the
// deadlines (internal; only connection*.cc and server.cc include it, Beast stays out of http.h).
//
// Life of a connection (phase_):
//   kReading   wait for bytes; idle deadline until the first byte of a request, then the
//              request deadline; bytes go through Beast's parser with the header/body limits.
//   kHandling  the handler has the request. A read stays pending to see EOF/RST (client gone
//              -> exchange closed, on_close fires, connection closed); extra bytes (pipelined
//              requests) are buffered up to max_header_bytes, then reading pauses. Response
//              bytes are queued and written with a write deadline.
//              Response complete + queue empty -> kReading (keep-alive) or graceful close.
//   kClosing   an error response (400/408/413/431) is being written; input is discarded.
//   kDraining  our side is shut down; read and discard until EOF (lingering close, so the
//              client is not reset before it reads our response), at most 1 s / 1 MiB.
//   kClosed    socket closed, removed from the registry.
// Thread safety: every member function runs on the connection's strand; Responder methods
// post onto it (see connection_respond.cc). The strand and socket outlive any posted work
// because each posted handler holds a shared_ptr.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/server_core.h"

namespace maas::http {

// The connection's strand (the accepted socket's executor).
using Strand = boost::asio::any_io_executor;

// State of one request/response exchange shared with its Responder (any thread).
struct Exchange {
  explicit Exchange(uint64_t id) : id(id) {}
  const uint64_t id;
  std::atomic<bool> closed{false};       // client gone or aborted before completion
  std::atomic<size_t> unsent_bytes{0};   // streamed bytes not yet written to the socket
  std::mutex mu;
  std::function<void()> on_close;        // guarded by mu
  bool settled = false;                  // guarded by mu: completed or closed
  std::function<void()> on_drain;        // guarded by mu
  size_t drain_low = 0;                  // guarded by mu: on_drain's low watermark
  bool released = false;                 // guarded by mu: the connection let go of it

  // Strand side: the client went away before completion; runs the callback once.
  void close_and_notify();
  // Strand side: the response is complete; drops the callback (breaks reference cycles).
  void complete();
  // Any thread: registers the callback or runs it now if already closed.
  void set_on_close(std::function<void()> callback);
  // Any thread: registers the drain callback or runs it now if drained enough or closed.
  void set_on_drain(size_t low_watermark, std::function<void()> callback);
  // Strand side, after unsent_bytes fell: runs the drain callback if its condition holds.
  // `release`: the connection lets go of the exchange (aborted, or the next request begins);
  // the callback runs now and later ones run at once.
  void notify_drain(bool release = false);
};

class Connection;
// The Responder handed to the handler for `exchange` (connection_respond.cc).
std::shared_ptr<Responder> make_responder(const std::shared_ptr<Connection>& connection,
                                          std::shared_ptr<Exchange> exchange, ServerCore& core);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, boost::asio::ip::tcp::socket socket, uint64_t id);
  ~Connection();

  const Strand& strand() const { return strand_; }
  uint64_t id() const { return id_; }

  void start();  // strand: begin reading
  void abort(const char* why);  // strand: close now, notify the exchange

  // Strand side of the Responder; calls for another exchange id are ignored.
  void respond(uint64_t exchange, int status, std::vector<Header> headers, std::string body);
  void begin_stream(uint64_t exchange, int status, std::vector<Header> headers);
  void write_chunk(uint64_t exchange, std::string data);
  void finish_stream(uint64_t exchange);
  void abort_exchange(uint64_t exchange, const char* why);

 private:
  enum class Phase { kReading, kHandling, kClosing, kDraining, kClosed };
  enum class Response { kNone, kStreaming, kComplete };
  enum class Deadline { kNone, kIdle, kRequest, kWrite, kDrain };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // Reading (connection.cc).
  void wait_readable();
  void on_readable();
  void process_input();
  bool check_header();
  void dispatch();
  void reply_error(int status, std::string_view code, std::string_view message);
  void next_request();
  void graceful_close();
  void close_socket();
  void set_deadline(Deadline kind, int ms);
  void clear_deadline();
  void on_deadline(Deadline kind);

  // Writing (connection_respond.cc).
  void enqueue(std::string bytes, size_t counted);
  void do_write();
  void on_written(size_t n);
  void after_drained();
  bool current(uint64_t exchange) const;

  ServerCore& core_;
  const uint64_t id_;
  Strand strand_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::string remote_;

  struct Pending {
    std::string bytes;
    size_t counted = 0;  // streamed payload bytes counted in Exchange::unsent_bytes
  };

  Phase phase_ = Phase::kReading;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  bool header_checked_ = false;
  bool waiting_ = false;         // an async_wait for readability is pending
  bool paused_ = false;          // reading paused: pipelined input buffer full
  size_t discarded_ = 0;         // bytes discarded in kClosing/kDraining
  bool peer_eof_ = false;        // the client half-closed while we wrote an error reply

  std::shared_ptr<Exchange> exchange_;  // the current exchange (kHandling)
  uint64_t next_exchange_ = 1;
  std::string request_id_;       // of the current request, for error replies
  Response response_ = Response::kNone;
  bool keep_alive_ = true;
  bool head_only_ = false;       // HEAD: no body bytes
  bool chunked_ = true;          // stream framing (false for HTTP/1.0: until close)

  std::deque<Pending> queue_;      // response bytes not yet written (front may be partial)
  size_t front_offset_ = 0;        // bytes of queue_.front() already written
  bool writing_ = false;           // an async_write_some is in progress

  uint64_t deadline_gen_ = 0;      // bumps on every set/clear; stale timer callbacks ignored
  Deadline deadline_ = Deadline::kNone;
};

}  // namespace maas::http
