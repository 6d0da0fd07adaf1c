// connection_respond.cc — writing side of a connection (response queue, write deadline) and
// the Responder that the handler and the engine thread drive from any thread.
#include "http/connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include "base/log.h"
#include "http/wire.h"

namespace maas::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr size_t kMaxGather = 64;  // buffers per async_write

bool asks_close(const std::vector<Header>& headers) {
  for (const Header& h : headers) {
    if (wire::iequals(h.name, "connection") && h.value.find("close") != std::string::npos) return true;
  }
  return false;
}
}  // namespace

// ---- Exchange ---------------------------------------------------------------------------

void Exchange::close_and_notify() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu);
    if (settled) return;
    settled = true;
    closed.store(true);
    callback = std::move(on_close);
    on_close = nullptr;
  }
  if (!callback) return;
  try {
    callback();
  } catch (...) {
    LOG_ERROR("http: on_close callback threw");
  }
}

void Exchange::complete() {
  std::function<void()> callback;  // destroyed outside the lock
  std::lock_guard lock(mu);
  settled = true;
  callback.swap(on_close);
}

void Exchange::set_on_close(std::function<void()> callback) {
  {
    std::lock_guard lock(mu);
    if (!settled) {
      on_close = std::move(callback);
      return;
    }
    if (!closed.load()) return;  // completed: never called
  }
  if (callback) callback();
}

void Exchange::set_on_drain(size_t low_watermark, std::function<void()> callback) {
  std::function<void()> dropped;  // a replaced callback, destroyed outside the lock
  {
    std::lock_guard lock(mu);
    dropped.swap(on_drain);
    if (!released && !closed.load() && unsent_bytes.load() > low_watermark) {
      drain_low = low_watermark;
      on_drain = std::move(callback);
      return;
    }
  }
  if (callback) callback();
}

void Exchange::notify_drain(bool release) {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu);
    if (release) released = true;
    if (!on_drain) return;
    if (!release && !closed.load() && unsent_bytes.load() > drain_low) return;
    callback.swap(on_drain);
  }
  try {
    callback();
  } catch (...) {
    LOG_ERROR("http: on_drain callback threw");
  }
}

// ---- Connection: responses --------------------------------------------------------------

bool Connection::current(uint64_t exchange) const {
  return phase_ == Phase::kHandling && exchange_ && exchange_->id == exchange;
}

void Connection::respond(uint64_t exchange, int status, std::vector<Header> headers, std::string body) {
  if (!current(exchange) || response_ != Response::kNone) return;
  if (asks_close(headers)) keep_alive_ = false;
  bool no_body = status < 200 || status == 204 || status == 304;
  wire::Head head;
  head.status = status;
  head.headers = &headers;
  head.request_id = request_id_;
  head.framing = no_body ? wire::Framing::kNoBody : wire::Framing::kContentLength;
  head.content_length = body.size();
  head.close = !keep_alive_;
  response_ = Response::kComplete;
  exchange_->complete();
  enqueue(wire::serialize_head(head), 0);
  if (!head_only_ && !no_body && !body.empty()) enqueue(std::move(body), 0);
}

void Connection::begin_stream(uint64_t exchange, int status, std::vector<Header> headers) {
  if (!current(exchange) || response_ != Response::kNone) return;
  if (asks_close(headers) || !chunked_) keep_alive_ = false;
  wire::Head head;
  head.status = status;
  head.headers = &headers;
  head.request_id = request_id_;
  head.framing = chunked_ ? wire::Framing::kChunked : wire::Framing::kUntilClose;
  head.close = !keep_alive_;
  response_ = Response::kStreaming;
  enqueue(wire::serialize_head(head), 0);
}

void Connection::write_chunk(uint64_t exchange, std::string data) {
  if (!current(exchange) || response_ != Response::kStreaming) return;
  size_t n = data.size();
  if (head_only_) {
    exchange_->unsent_bytes.fetch_sub(n);
    exchange_->notify_drain();
    return;
  }
  enqueue(chunked_ ? wire::frame_chunk(data) : std::move(data), n);
}

void Connection::finish_stream(uint64_t exchange) {
  if (!current(exchange) || response_ != Response::kStreaming) return;
  response_ = Response::kComplete;
  exchange_->complete();
  if (chunked_ && !head_only_) {
    enqueue(std::string(wire::kLastChunk), 0);
  } else if (!writing_ && queue_.empty()) {
    after_drained();
  }
}

void Connection::abort_exchange(uint64_t exchange, const char* why) {
  if (current(exchange)) abort(why);
}

void Connection::enqueue(std::string bytes, size_t counted) {
  if (phase_ == Phase::kClosed) return;
  queue_.push_back({std::move(bytes), counted});
  do_write();
}

// Writes with async_write_some so that every partial write counts as progress: the write
// deadline fires only when the client accepts nothing for write_timeout_ms.
void Connection::do_write() {
  if (writing_ || queue_.empty() || phase_ == Phase::kClosed) return;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(std::min(queue_.size(), kMaxGather));
  for (auto it = queue_.begin(); it != queue_.end() && buffers.size() < kMaxGather; ++it) {
    size_t offset = buffers.empty() ? front_offset_ : 0;
    buffers.emplace_back(it->bytes.data() + offset, it->bytes.size() - offset);
  }
  writing_ = true;
  // The interim 100 Continue is covered by the request deadline.
  if (phase_ != Phase::kReading) set_deadline(Deadline::kWrite, core_.options.write_timeout_ms);
  // deque::push_back keeps element references valid, so enqueue() during the write is safe.
  socket_.async_write_some(buffers, [self = shared_from_this()](error_code ec, size_t n) {
    self->writing_ = false;
    if (self->phase_ == Phase::kClosed) return;
    if (ec) {
      self->abort("write failed");
      return;
    }
    self->on_written(n);
  });
}

void Connection::on_written(size_t n) {
  size_t counted = 0;
  while (!queue_.empty()) {
    Pending& front = queue_.front();
    size_t left = front.bytes.size() - front_offset_;
    if (n < left) {
      front_offset_ += n;
      break;
    }
    n -= left;
    counted += front.counted;
    queue_.pop_front();
    front_offset_ = 0;
  }
  if (counted > 0 && exchange_) {
    exchange_->unsent_bytes.fetch_sub(counted);
    exchange_->notify_drain();
  }
  if (!queue_.empty()) {
    do_write();
    return;
  }
  after_drained();
}

// Everything queued has been written.
void Connection::after_drained() {
  if (phase_ == Phase::kReading) return;  // 100 Continue sent; the request deadline runs on
  if (deadline_ == Deadline::kWrite) clear_deadline();
  if (phase_ == Phase::kClosing) {
    graceful_close();
  } else if (phase_ == Phase::kHandling && response_ == Response::kComplete) {
    next_request();
  }
}

// ---- Responder --------------------------------------------------------------------------

namespace {

class ResponderImpl final : public Responder {
 public:
  ResponderImpl(std::weak_ptr<Connection> connection, std::shared_ptr<Exchange> exchange,
                std::shared_ptr<Gate> gate, size_t max_unsent)
      : connection_(std::move(connection)),
        exchange_(std::move(exchange)),
        gate_(std::move(gate)),
        max_unsent_(max_unsent) {}

  ~ResponderImpl() override {
    int state = state_.load();
    if (state == kNone) {
      post([](Connection& c, uint64_t id) {
        LOG_ERROR("http: handler dropped a request without a response");
        c.respond(id, 500, {},
                  wire::error_json("no response was produced", "server_error", "internal_error"));
      });
    } else if (state == kStreaming) {
      post([](Connection& c, uint64_t id) { c.abort_exchange(id, "stream abandoned"); });
    }
  }

  void send(int status, std::vector<Header> headers, std::string body) override {
    if (!transition(kNone, kDone)) return;
    post([status, h = std::move(headers), b = std::move(body)](Connection& c, uint64_t id) mutable {
      c.respond(id, status, std::move(h), std::move(b));
    });
  }

  void start_stream(int status, std::vector<Header> headers) override {
    if (!transition(kNone, kStreaming)) return;
    post([status, h = std::move(headers)](Connection& c, uint64_t id) mutable {
      c.begin_stream(id, status, std::move(h));
    });
  }

  bool write(std::string data) override {
    if (state_.load() != kStreaming || exchange_->closed.load()) return false;
    if (data.empty()) return true;
    size_t n = data.size();
    size_t unsent = exchange_->unsent_bytes.fetch_add(n) + n;
    if (unsent > max_unsent_) {
      state_.store(kDone);
      post([](Connection& c, uint64_t id) { c.abort_exchange(id, "write buffer full"); });
      return false;
    }
    return post([d = std::move(data)](Connection& c, uint64_t id) mutable {
      c.write_chunk(id, std::move(d));
    });
  }

  void end_stream() override {
    if (!transition(kStreaming, kDone)) return;
    post([](Connection& c, uint64_t id) { c.finish_stream(id); });
  }

  bool closed() const override { return exchange_->closed.load(); }

  void on_close(std::function<void()> callback) override {
    exchange_->set_on_close(std::move(callback));
  }

  size_t unsent_bytes() const override { return exchange_->unsent_bytes.load(); }

  void on_drain(size_t low_watermark, std::function<void()> callback) override {
    exchange_->set_on_drain(low_watermark, std::move(callback));
  }

 private:
  enum { kNone, kStreaming, kDone };

  bool transition(int from, int to) { return state_.compare_exchange_strong(from, to); }

  // Posts fn(connection, exchange id) onto the connection's strand while the server lives.
  template <typename F>
  bool post(F&& fn) {
    std::shared_lock lock(gate_->mu);
    if (!gate_->open) return false;
    std::shared_ptr<Connection> c = connection_.lock();
    if (!c) return false;
    const Strand& strand = c->strand();
    asio::post(strand, [c, id = exchange_->id, fn = std::forward<F>(fn)]() mutable { fn(*c, id); });
    return true;
  }

  const std::weak_ptr<Connection> connection_;
  const std::shared_ptr<Exchange> exchange_;
  const std::shared_ptr<Gate> gate_;
  const size_t max_unsent_;
  std::atomic<int> state_{kNone};
};

}  // namespace

std::shared_ptr<Responder> make_responder(const std::shared_ptr<Connection>& connection,
                                          std::shared_ptr<Exchange> exchange, ServerCore& core) {
  return std::make_shared<ResponderImpl>(connection, std::move(exchange), core.gate,
                                         core.options.max_write_buffer_bytes);
}

}  // namespace maas::http
