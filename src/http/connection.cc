// connection.cc — reading side of a connection: readiness-driven reads (an idle connection
// holds no buffer), Beast's request parser with our limits, dispatch to the handler, deadlines
// and closing. The phases are described in connection.h.
#include "http/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <exception>

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>

#include "base/log.h"
#include "http/wire.h"

namespace maas::http {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using boost::system::error_code;

namespace {
constexpr size_t kReadChunk = 16 << 10;
constexpr size_t kMaxDiscard = 1 << 20;  // bytes read and dropped while closing
constexpr int kDrainMs = 1000;

void set_keepalive(asio::ip::tcp::socket& socket) {
  int fd = socket.native_handle();
  int on = 1, idle = 60, interval = 10, count = 3;  // half-open peers go after ~90 s
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}
}  // namespace

Connection::Connection(ServerCore& core, asio::ip::tcp::socket socket, uint64_t id)
    : core_(core),
      id_(id),
      strand_(socket.get_executor()),
      socket_(std::move(socket)),
      timer_(strand_) {}

Connection::~Connection() = default;

void Connection::start() {
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  set_keepalive(socket_);
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) {
    std::string ip = endpoint.address().to_string();
    remote_ = endpoint.address().is_v6() ? "[" + ip + "]" : ip;
    remote_ += ":" + std::to_string(endpoint.port());
  }
  set_deadline(Deadline::kIdle, core_.options.idle_timeout_ms);
  wait_readable();
}

void Connection::wait_readable() {
  if (waiting_ || paused_ || phase_ == Phase::kClosed) return;
  waiting_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    self->waiting_ = false;
    if (self->phase_ == Phase::kClosed || ec == asio::error::operation_aborted) return;
    if (ec) {
      self->abort("wait failed");
      return;
    }
    self->on_readable();
  });
}

void Connection::on_readable() {
  size_t cap = core_.options.max_header_bytes;
  size_t want = kReadChunk;
  if (phase_ == Phase::kHandling) want = std::min(want, cap - std::min(cap, buffer_.size()));
  if (want == 0) {
    paused_ = true;
    return;
  }
  error_code ec;
  size_t n = socket_.read_some(buffer_.prepare(want), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (ec) {  // EOF or reset: the client is gone
    if (phase_ == Phase::kHandling) {
      abort("client disconnected");
    } else if (phase_ == Phase::kClosing && ec == asio::error::eof) {
      peer_eof_ = true;  // a half-closed client still gets our error reply
    } else {
      close_socket();
    }
    return;
  }
  buffer_.commit(n);
  switch (phase_) {
    case Phase::kReading:
      if (deadline_ == Deadline::kIdle) set_deadline(Deadline::kRequest, core_.options.header_timeout_ms);
      process_input();
      break;
    case Phase::kHandling:
      if (buffer_.size() >= cap) paused_ = true;  // pipelined input waits for our response
      break;
    case Phase::kClosing:
    case Phase::kDraining:
      discarded_ += buffer_.size();
      buffer_.consume(buffer_.size());
      if (discarded_ > kMaxDiscard) {
        close_socket();
        return;
      }
      break;
    case Phase::kClosed: return;
  }
  wait_readable();
}

// Feeds buffered bytes to the parser until a request is complete, more bytes are needed, or
// an error was answered.
void Connection::process_input() {
  while (phase_ == Phase::kReading && buffer_.size() > 0) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(
          std::min<size_t>(core_.options.max_header_bytes, UINT32_MAX)));
      parser_->body_limit(static_cast<std::uint64_t>(core_.options.max_body_bytes));
      parser_->eager(true);
      header_checked_ = false;
      request_id_.clear();
    }
    error_code ec;
    size_t n = parser_->put(buffer_.data(), ec);
    buffer_.consume(n);
    if (ec && ec != beast_http::error::need_more) {
      if (ec == beast_http::error::header_limit) {
        reply_error(431, "request_header_fields_too_large", "request header fields too large");
      } else if (ec == beast_http::error::body_limit) {
        reply_error(413, "request_too_large", "request body too large");
      } else {
        reply_error(400, "invalid_http_request", "malformed HTTP request");
      }
      return;
    }
    if (parser_->is_header_done() && !header_checked_ && !check_header()) return;
    if (parser_->is_done()) {
      dispatch();
      return;
    }
    if (ec == beast_http::error::need_more || n == 0) return;
  }
}

// Checks applied once the header is complete, before the body is read. False if answered.
bool Connection::check_header() {
  header_checked_ = true;
  const auto& req = parser_->get();
  auto id = req.find("x-request-id");
  if (id != req.end() && wire::is_acceptable_request_id(id->value())) {
    request_id_ = std::string(id->value());
  } else {
    request_id_ = wire::generate_request_id();
  }
  size_t n_fields = 0;
  for (auto it = req.begin(); it != req.end(); ++it) ++n_fields;
  if (n_fields > core_.options.max_header_count) {
    reply_error(431, "request_header_fields_too_large", "too many request header fields");
    return false;
  }
  if (req.find(beast_http::field::content_length) != req.end() &&
      req.find(beast_http::field::transfer_encoding) != req.end()) {
    reply_error(400, "invalid_http_request", "both Content-Length and Transfer-Encoding");
    return false;
  }
  auto expect = req.find(beast_http::field::expect);
  if (expect != req.end() && wire::iequals(expect->value(), "100-continue") &&
      req.version() >= 11 && !parser_->is_done()) {
    enqueue(std::string(wire::kContinue), 0);
  }
  return true;
}

void Connection::dispatch() {
  clear_deadline();
  auto message = parser_->release();
  parser_.reset();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  auto target = wire::parse_target(request.target);
  if (!target) {
    reply_error(400, "invalid_http_request", "malformed request target");
    return;
  }
  request.path = std::move(target->path);
  request.query = std::move(target->query);
  for (const auto& field : message) {
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  request.body = std::move(message.body());
  request.request_id = request_id_;
  request.remote_address = remote_;
  keep_alive_ = message.version() >= 11 && message.keep_alive();
  chunked_ = message.version() >= 11;
  head_only_ = request.method == "HEAD";

  phase_ = Phase::kHandling;
  response_ = Response::kNone;
  exchange_ = std::make_shared<Exchange>(next_exchange_++);
  auto responder = make_responder(shared_from_this(), exchange_, core_);
  if (buffer_.size() >= core_.options.max_header_bytes) paused_ = true;
  wait_readable();  // keep a read pending to see the client go away
  try {
    core_.handler(std::move(request), responder);
  } catch (const std::exception& e) {
    LOG_ERROR("http: handler threw: %s", e.what());
    responder->send(500, {}, wire::error_json("internal error", "server_error", "internal_error"));
  } catch (...) {
    LOG_ERROR("http: handler threw a non-exception");
    responder->send(500, {}, wire::error_json("internal error", "server_error", "internal_error"));
  }
}

// Answers a transport error with a JSON body, then closes (lingering).
void Connection::reply_error(int status, std::string_view code, std::string_view message) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kDraining || phase_ == Phase::kClosed) return;
  if (request_id_.empty() && parser_) {
    const auto& fields = parser_->get();
    auto id = fields.find("x-request-id");
    if (id != fields.end() && wire::is_acceptable_request_id(id->value())) request_id_ = id->value();
  }
  if (request_id_.empty()) request_id_ = wire::generate_request_id();
  LOG_DEBUG("http: %s %d %.*s", remote_.c_str(), status, static_cast<int>(code.size()), code.data());
  phase_ = Phase::kClosing;
  parser_.reset();
  discarded_ += buffer_.size();
  buffer_.consume(buffer_.size());
  paused_ = false;
  clear_deadline();
  std::string body = wire::error_json(message, status >= 500 ? "server_error" : "invalid_request_error", code);
  wire::Head head;
  head.status = status;
  head.request_id = request_id_;
  head.content_length = body.size();
  head.close = true;
  std::string bytes = wire::serialize_head(head);
  bytes.append(body);
  response_ = Response::kComplete;
  keep_alive_ = false;
  enqueue(std::move(bytes), 0);
  wait_readable();
}

// After a complete response: the next request on a keep-alive connection, else close.
void Connection::next_request() {
  if (exchange_) exchange_->notify_drain(/*release=*/true);
  exchange_.reset();
  response_ = Response::kNone;
  if (!keep_alive_) {
    graceful_close();
    return;
  }
  phase_ = Phase::kReading;
  paused_ = false;
  if (buffer_.size() == 0) {
    buffer_.shrink_to_fit();  // idle connections hold no buffer
    set_deadline(Deadline::kIdle, core_.options.idle_timeout_ms);
  } else {
    set_deadline(Deadline::kRequest, core_.options.header_timeout_ms);
    process_input();
  }
  wait_readable();
}

void Connection::graceful_close() {
  if (phase_ == Phase::kClosed) return;
  if (peer_eof_) {
    close_socket();
    return;
  }
  phase_ = Phase::kDraining;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    close_socket();
    return;
  }
  buffer_.consume(buffer_.size());
  paused_ = false;
  set_deadline(Deadline::kDrain, kDrainMs);
  wait_readable();
}

void Connection::close_socket() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  clear_deadline();
  error_code ec;
  socket_.close(ec);
  if (!writing_) {  // an in-flight write still points into queue_; its handler sees kClosed
    queue_.clear();
    front_offset_ = 0;
  }
  parser_.reset();
  buffer_.consume(buffer_.size());
  core_.remove(id_);  // pending handlers still hold shared_ptrs to this
}

void Connection::abort(const char* why) {
  if (phase_ == Phase::kClosed) return;
  LOG_DEBUG("http: %s closed: %s", remote_.c_str(), why);
  std::shared_ptr<Exchange> exchange = std::move(exchange_);
  bool notify = exchange && response_ != Response::kComplete;
  close_socket();
  if (notify) exchange->close_and_notify();
  if (exchange) exchange->notify_drain(/*release=*/true);
}

void Connection::set_deadline(Deadline kind, int ms) {
  uint64_t gen = ++deadline_gen_;
  deadline_ = kind;
  timer_.expires_after(std::chrono::milliseconds(std::max(ms, 1)));
  timer_.async_wait([self = shared_from_this(), gen, kind](error_code ec) {
    if (ec || gen != self->deadline_gen_ || self->phase_ == Phase::kClosed) return;
    self->deadline_ = Deadline::kNone;
    self->on_deadline(kind);
  });
}

void Connection::clear_deadline() {
  ++deadline_gen_;
  deadline_ = Deadline::kNone;
  timer_.cancel();
}

void Connection::on_deadline(Deadline kind) {
  switch (kind) {
    case Deadline::kIdle:
    case Deadline::kDrain: close_socket(); break;
    case Deadline::kRequest:
      reply_error(408, "request_timeout", "request not received in time");
      break;
    case Deadline::kWrite: abort("write timeout"); break;
    case Deadline::kNone: break;
  }
}

}  // namespace maas::http
