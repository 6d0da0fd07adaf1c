// client_call.cc — one client call: pooled or fresh connection, the request written while the
// response is read, Beast's response parser with a buffer_body so each body piece reaches
// on_data as it arrives, deadlines, pause/resume, cancel and the one retry (see client.h).
//
// Every member function of CallImpl runs on the call's strand except cancel/pause/resume,
// which flip atomics and post. Handlers of socket operations are bound to the strand (the
// pooled socket itself is not tied to any call's strand) and hold a shared_ptr to the call.
#include <atomic>
#include <exception>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "base/log.h"
#include "http/client_core.h"

namespace maas::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::uint32_t kHeaderLimit = 64 << 10;
constexpr size_t kPieceBytes = 16 << 10;  // the most one on_data carries

bool is_connection_lost(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe;
}

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_version).category();
}

class CallImpl final : public ClientCall, public std::enable_shared_from_this<CallImpl> {
 public:
  CallImpl(ClientCore& core, ClientRequest request, ClientHandlers handlers)
      : core_(core),
        request_(std::move(request)),
        handlers_(std::move(handlers)),
        where_(endpoint_name(request_.host, request_.port)),
        strand_(asio::make_strand(core.ioc)),
        timer_(strand_) {}

  const asio::strand<asio::io_context::executor_type>& strand() const { return strand_; }
  void begin();
  // The client is closing and the call never started: on_complete(kCancelled) on this thread.
  void reject();
  void cancel() override;
  void pause() override;
  void resume() override;

 private:
  enum class Deadline { kNone, kConnect, kResponse, kRead };
  using Parser = bhttp::response_parser<bhttp::buffer_body>;

  // Wraps a handler so it runs on the strand and keeps the call alive.
  template <typename F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand_, [self = shared_from_this(), f = std::forward<F>(f)](auto&&... args) mutable {
      f(*self, std::forward<decltype(args)>(args)...);
    });
  }

  void connect_fresh();
  void connect_to(std::vector<tcp::endpoint> endpoints);
  void send();
  void read_head();
  void on_head_read(error_code ec);
  void read_body();
  void on_body_read(error_code ec);
  void flush();
  void kick();
  void fail_read(const error_code& ec);
  void finish(Status status);
  bool reusable(const Status& status) const;
  template <typename F>
  bool invoke(F&& f);
  void set_deadline(Deadline kind, int ms);
  void clear_deadline();
  void on_deadline(Deadline kind);

  ClientCore& core_;
  const ClientRequest request_;
  ClientHandlers handlers_;  // released after on_complete
  const std::string where_;  // "host:port"
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;

  std::atomic<bool> cancelled_{false};
  std::atomic<bool> paused_{false};

  std::string wire_request_;
  std::optional<tcp::resolver> resolver_;
  std::unique_ptr<tcp::socket> socket_;
  std::unique_ptr<tcp::socket> retired_;  // the pooled socket given up for the retry
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::string piece_;      // the buffer_body's storage (kPieceBytes once the head is read)
  std::string held_;       // body bytes read but not yet delivered (paused)
  int attempt_ = 0;        // bumps on the retry; stale write completions are ignored
  bool reused_ = false;    // socket_ came from the pool
  bool writing_ = false;   // the request write is in flight
  bool write_failed_ = false;
  bool reading_ = false;   // a body read is in flight
  bool head_seen_ = false;
  bool done_ = false;
  uint64_t deadline_gen_ = 0;
  Deadline deadline_ = Deadline::kNone;
};

// The handle callers hold: a weak reference, used only while the client's io_context lives.
class CallHandle final : public ClientCall {
 public:
  CallHandle(std::weak_ptr<CallImpl> call, std::shared_ptr<Gate> gate)
      : call_(std::move(call)), gate_(std::move(gate)) {}
  void cancel() override { with([](CallImpl& c) { c.cancel(); }); }
  void pause() override { with([](CallImpl& c) { c.pause(); }); }
  void resume() override { with([](CallImpl& c) { c.resume(); }); }

 private:
  template <typename F>
  void with(F&& f) {
    std::shared_lock lock(gate_->mu);
    if (!gate_->open) return;
    if (std::shared_ptr<CallImpl> call = call_.lock()) f(*call);
  }
  const std::weak_ptr<CallImpl> call_;
  const std::shared_ptr<Gate> gate_;
};

// ---- any thread ---------------------------------------------------------------------------

void CallImpl::cancel() {
  if (cancelled_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] { self->finish(cancelled("http client: call to " + self->where_ + " cancelled")); });
}

void CallImpl::pause() {
  if (paused_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] {
    if (self->paused_.load() && self->deadline_ == Deadline::kRead) self->clear_deadline();
  });
}

void CallImpl::resume() {
  if (!paused_.exchange(false)) return;
  asio::post(strand_, [self = shared_from_this()] { self->kick(); });
}

void CallImpl::reject() {
  done_ = true;
  cancelled_.store(true);
  ClientHandlers handlers = std::move(handlers_);
  if (handlers.on_complete) handlers.on_complete(cancelled("http client: closing; call to " + where_ + " not started"));
}

// ---- connecting and sending ---------------------------------------------------------------

void CallImpl::begin() {
  if (cancelled_.load()) return;  // the posted cancel finishes
  Status status = serialize_request(request_, &wire_request_);
  if (!status.ok()) {
    finish(std::move(status));
    return;
  }
  if (std::optional<tcp::socket> socket = core_.pool.take(where_)) {
    socket_ = std::make_unique<tcp::socket>(std::move(*socket));
    reused_ = true;
    send();
    return;
  }
  connect_fresh();
}

void CallImpl::connect_fresh() {
  reused_ = false;
  socket_ = std::make_unique<tcp::socket>(core_.ioc);
  set_deadline(Deadline::kConnect, request_.connect_timeout_ms);
  error_code ec;
  asio::ip::address address = asio::ip::make_address(request_.host, ec);
  if (!ec) {
    connect_to({tcp::endpoint(address, request_.port)});
    return;
  }
  resolver_.emplace(core_.ioc);
  resolver_->async_resolve(request_.host, std::to_string(request_.port),
                           on_strand([](CallImpl& c, error_code rec, tcp::resolver::results_type results) {
                             if (c.done_) return;
                             if (rec || results.empty()) {
                               c.finish(unavailable("http client: cannot resolve " + c.where_));
                               return;
                             }
                             c.connect_to(std::vector<tcp::endpoint>(results.begin(), results.end()));
                           }));
}

void CallImpl::connect_to(std::vector<tcp::endpoint> endpoints) {
  asio::async_connect(*socket_, endpoints, on_strand([](CallImpl& c, error_code ec, const tcp::endpoint&) {
                        if (c.done_) return;
                        if (ec) {
                          c.finish(unavailable("http client: connect to " + c.where_ + ": " + ec.message()));
                          return;
                        }
                        error_code ignored;
                        c.socket_->set_option(tcp::no_delay(true), ignored);
                        c.send();
                      }));
}

// Writes the request and reads the response at the same time, so a server that answers
// before reading the whole body (413) is heard.
void CallImpl::send() {
  set_deadline(Deadline::kResponse, request_.response_timeout_ms);
  writing_ = true;
  asio::async_write(*socket_, asio::buffer(wire_request_),
                    on_strand([attempt = attempt_](CallImpl& c, error_code ec, size_t) {
                      if (attempt != c.attempt_) return;
                      c.writing_ = false;
                      if (ec) c.write_failed_ = true;  // the read decides the outcome
                    }));
  read_head();
}

// ---- reading ------------------------------------------------------------------------------

void CallImpl::read_head() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(boost::none);
  if (request_.method == "HEAD") parser_->skip(true);
  bhttp::async_read_header(*socket_, buffer_, *parser_, on_strand([](CallImpl& c, error_code ec, size_t) {
                             c.on_head_read(ec);
                           }));
}

void CallImpl::on_head_read(error_code ec) {
  if (done_) return;
  if (ec) {
    fail_read(ec);
    return;
  }
  int status = parser_->get().result_int();
  if (status >= 100 && status < 200 && status != 101) {  // interim: the real head follows
    read_head();
    return;
  }
  clear_deadline();
  head_seen_ = true;
  if (handlers_.on_head) {
    ClientResponseHead head;
    head.status = status;
    for (const auto& field : parser_->get()) {
      head.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    if (!invoke([&] { handlers_.on_head(std::move(head)); })) return;
  }
  flush();
}

void CallImpl::read_body() {
  if (done_ || reading_ || paused_.load()) return;
  piece_.resize(kPieceBytes);
  auto& body = parser_->get().body();
  body.data = piece_.data();
  body.size = piece_.size();
  reading_ = true;
  set_deadline(Deadline::kRead, request_.read_timeout_ms);
  bhttp::async_read_some(*socket_, buffer_, *parser_, on_strand([](CallImpl& c, error_code ec, size_t) {
                           c.on_body_read(ec);
                         }));
}

void CallImpl::on_body_read(error_code ec) {
  reading_ = false;
  if (done_) return;
  if (deadline_ == Deadline::kRead) clear_deadline();
  if (ec == bhttp::error::need_buffer) ec = {};  // the piece is full: not an error
  if (ec) {
    fail_read(ec);
    return;
  }
  size_t n = piece_.size() - parser_->get().body().size;
  held_.append(piece_.data(), n);
  flush();
}

// Delivers held bytes unless paused, then completes or reads on.
void CallImpl::flush() {
  if (done_) return;
  if (!held_.empty()) {
    if (paused_.load()) return;
    std::string data;
    data.swap(held_);
    if (handlers_.on_data && !invoke([&] { handlers_.on_data(std::move(data)); })) return;
  }
  if (parser_->is_done()) {
    finish(Status::Ok());
    return;
  }
  read_body();
}

// After resume(): deliver what is held and read on, or restart the read deadline.
void CallImpl::kick() {
  if (done_ || !head_seen_ || paused_.load()) return;
  if (reading_) {
    if (deadline_ == Deadline::kNone) set_deadline(Deadline::kRead, request_.read_timeout_ms);
    return;
  }
  flush();
}

void CallImpl::fail_read(const error_code& ec) {
  bool nothing_back = !head_seen_ && !parser_->got_some() && buffer_.size() == 0;
  if (reused_ && nothing_back && is_connection_lost(ec)) {  // closed while idle: retry once
    LOG_DEBUG("http client: pooled connection to %s was closed; retrying", where_.c_str());
    ++attempt_;
    writing_ = false;
    write_failed_ = false;
    error_code ignored;
    socket_->close(ignored);
    retired_ = std::move(socket_);  // an aborted write may still refer to it
    buffer_.clear();
    parser_.reset();
    connect_fresh();
    return;
  }
  if (ec == bhttp::error::header_limit) {
    finish(data_loss("http client: response header from " + where_ + " too large"));
  } else if (is_connection_lost(ec)) {
    finish(data_loss("http client: connection to " + where_ + " closed before the response was complete"));
  } else if (is_parse_error(ec)) {
    finish(data_loss("http client: malformed response from " + where_));
  } else {
    finish(data_loss("http client: reading from " + where_ + ": " + ec.message()));
  }
}

// ---- completion ---------------------------------------------------------------------------

bool CallImpl::reusable(const Status& status) const {
  return status.ok() && parser_ && parser_->is_done() && parser_->keep_alive() &&
         parser_->get().result_int() != 101 && !writing_ && !write_failed_ && buffer_.size() == 0 &&
         socket_ && socket_->is_open();
}

void CallImpl::finish(Status status) {
  if (done_) return;
  done_ = true;
  clear_deadline();
  if (resolver_) resolver_->cancel();
  error_code ignored;
  if (reusable(status)) {
    core_.pool.put(where_, std::move(*socket_));
  } else if (socket_) {
    socket_->close(ignored);  // the server sees the client gone
  }
  if (retired_) retired_->close(ignored);
  parser_.reset();
  buffer_.clear();
  buffer_.shrink_to_fit();
  std::string().swap(piece_);
  std::string().swap(held_);
  ClientHandlers handlers = std::move(handlers_);
  handlers_ = {};
  // Out of the registry first, so n_calls_in_flight() is 0 once a fetch() returns; the
  // running handler holds this call (~HttpClient joins the threads after the registry empties).
  core_.remove(this);
  if (handlers.on_complete) {
    try {
      handlers.on_complete(std::move(status));
    } catch (...) {
      LOG_ERROR("http client: on_complete for %s threw", where_.c_str());
    }
  }
  handlers = {};  // may hold the last reference to the handle
}

// Runs a handler; false if the call is over afterwards (it threw, or cancel() was called).
template <typename F>
bool CallImpl::invoke(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    LOG_ERROR("http client: handler for %s threw: %s", where_.c_str(), e.what());
    finish(internal_error("http client: a handler for " + where_ + " threw"));
    return false;
  } catch (...) {
    LOG_ERROR("http client: handler for %s threw", where_.c_str());
    finish(internal_error("http client: a handler for " + where_ + " threw"));
    return false;
  }
  if (cancelled_.load()) {
    finish(cancelled("http client: call to " + where_ + " cancelled"));
    return false;
  }
  return !done_;
}

// ---- deadlines ----------------------------------------------------------------------------

void CallImpl::set_deadline(Deadline kind, int ms) {
  uint64_t gen = ++deadline_gen_;
  deadline_ = kind;
  timer_.expires_after(std::chrono::milliseconds(std::max(ms, 1)));
  timer_.async_wait([self = shared_from_this(), gen, kind](error_code ec) {
    if (ec || gen != self->deadline_gen_ || self->done_) return;
    self->deadline_ = Deadline::kNone;
    self->on_deadline(kind);
  });
}

void CallImpl::clear_deadline() {
  ++deadline_gen_;
  deadline_ = Deadline::kNone;
  timer_.cancel();
}

void CallImpl::on_deadline(Deadline kind) {
  switch (kind) {
    case Deadline::kConnect:
      finish({StatusCode::kDeadlineExceeded, "http client: connect to " + where_ + " timed out"});
      break;
    case Deadline::kResponse:
      finish({StatusCode::kDeadlineExceeded, "http client: no response head from " + where_ + " in time"});
      break;
    case Deadline::kRead:
      finish({StatusCode::kDeadlineExceeded, "http client: response body from " + where_ + " stalled"});
      break;
    case Deadline::kNone: break;
  }
}

}  // namespace

std::shared_ptr<ClientCall> start_call(ClientCore& core, ClientRequest request, ClientHandlers handlers) {
  auto call = std::make_shared<CallImpl>(core, std::move(request), std::move(handlers));
  auto handle = std::make_shared<CallHandle>(call, core.gate);
  if (!core.add(call)) {
    call->reject();
    return handle;
  }
  asio::post(call->strand(), [call] { call->begin(); });
  return handle;
}

}  // namespace maas::http
