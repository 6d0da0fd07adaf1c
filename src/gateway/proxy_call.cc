// proxy_call.cc — forwarding one inference request and relaying its answer.
#include "gateway/proxy_call.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "base/log.h"

namespace maas::gateway {
namespace {

// Headers of a worker's complete response that the client should see.
bool passes(const std::string& name) {
  static const char* kPass[] = {"content-type", "x-ms-error-code", "retry-after", "retry-after-ms", "allow"};
  for (const char* p : kPass) {
    if (name.size() == std::strlen(p) && std::equal(name.begin(), name.end(), p, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return true;
    }
  }
  return false;
}

// Usage and the first finish_reason of a non-streamed completion body.
void read_usage(const std::string& body, int64_t* prompt, int64_t* completion, std::string* finish) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return;
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    *prompt = u->value("prompt_tokens", int64_t{0});
    *completion = u->value("completion_tokens", int64_t{0});
  }
  if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty() && (*c)[0].is_object()) {
    auto f = (*c)[0].find("finish_reason");
    if (f != (*c)[0].end() && f->is_string()) *finish = f->get<std::string>();
  }
}

}  // namespace

std::vector<http::Header> ProxyCall::response_headers() const {
  std::vector<http::Header> h;
  for (const auto& [n, v] : decision.headers) h.push_back({n, v});
  if (!deployment_name.empty()) h.push_back({"azureml-model-deployment", deployment_name});
  return h;
}

void ProxyCall::send() {
  auto self = shared_from_this();
  http::ClientHandlers h;
  h.on_head = [self](http::ClientResponseHead&& head) { self->on_head(std::move(head)); };
  h.on_data = [self](std::string&& d) { self->on_data(std::move(d)); };
  h.on_complete = [self](Status s) { self->on_complete(std::move(s)); };
  http::ClientRequest r = request;
  r.port = lease->instance().port();
  r.headers.push_back({"authorization", "Bearer " + lease->instance().key()});
  call = client->start(std::move(r), std::move(h));
}

void ProxyCall::start(http::HttpClient& c, http::ClientRequest upstream) {
  route->inflight->fetch_add(1);
  auto self = shared_from_this();
  {
    std::lock_guard<std::mutex> lock(mu);
    client = &c;
    request = std::move(upstream);
    send();
  }
  // Outside the lock: if the client is already gone the callback runs here, at once.
  std::weak_ptr<ProxyCall> weak = self;
  responder->on_close([weak] {
    if (auto p = weak.lock()) p->on_client_gone();
  });
}

void ProxyCall::on_head(http::ClientResponseHead&& head) {
  std::lock_guard<std::mutex> lock(mu);
  upstream_status = head.status;
  const std::string* ct = head.header("content-type");
  const bool sse = head.status == 200 && ct != nullptr && ct->rfind("text/event-stream", 0) == 0;
  if (sse && relay && !client_gone) {
    std::vector<http::Header> h = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"},
                                   {"x-accel-buffering", "no"}};
    for (const http::Header& x : response_headers()) h.push_back(x);
    responder->start_stream(200, std::move(h));
    streaming = true;
    return;
  }
  for (const http::Header& x : head.headers) {
    if (passes(x.name)) upstream_headers.push_back(x);
  }
}

void ProxyCall::on_data(std::string&& data) {
  std::lock_guard<std::mutex> lock(mu);
  if (client_gone) return;
  if (!streaming) {
    if (body.size() + data.size() > gateway->options_.max_buffered_body) {
      call->cancel();
      return;
    }
    body += data;
    return;
  }
  std::string out = relay->feed(data);
  if (out.empty()) return;
  if (collector && collected_stream.size() < (1u << 20)) collected_stream += out;
  responder->write(std::move(out));
  if (responder->unsent_bytes() > gateway->options_.pause_above_bytes) {
    call->pause();
    std::weak_ptr<http::ClientCall> weak = call;
    responder->on_drain(gateway->options_.resume_below_bytes, [weak] {
      if (auto c = weak.lock()) c->resume();
    });
  }
}

void ProxyCall::on_client_gone() {
  std::shared_ptr<http::ClientCall> c;
  {
    std::lock_guard<std::mutex> lock(mu);
    client_gone = true;
    c = call;
  }
  if (c) c->cancel();  // closes the upstream connection: the worker cancels the request
}

void ProxyCall::on_complete(Status status) {
  std::lock_guard<std::mutex> lock(mu);
  if (finalized) return;
  if (client_gone) {
    gateway->counters.cancelled++;
    const StreamUsage u = relay ? relay->usage() : StreamUsage{};
    finalize(499, "cancelled", u.prompt_tokens, u.completion_tokens);
    return;
  }
  if (streaming) {
    const StreamUsage& u = relay->usage();
    if (status.ok() && relay->saw_done() && !relay->saw_error()) {
      deferred = "data: [DONE]\n\n";
      const std::string& f = relay->finish_reason();
      finalize(200, f.empty() ? "stop" : f, u.prompt_tokens, u.completion_tokens);
      return;
    }
    if (!relay->saw_error()) {
      api::ApiError e = api::server_error();
      e.message = "The model instance failed during the response.";
      e.code = "bad_gateway";
      deferred = "data: " + api::error_body_json(e) + "\n\n";
    }
    deferred += "data: [DONE]\n\n";
    finalize(502, "error", u.prompt_tokens, u.completion_tokens);
    return;
  }
  const bool unreachable = status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDataLoss;
  if (unreachable && upstream_status == 0 && retries_left > 0 && pool) {
    // The instance could not be reached, or its connection broke before any byte of an answer
    // (it died): another instance takes the request. Inference has no side effect to repeat,
    // and the client still gets exactly one answer and one usage record.
    --retries_left;
    const uint16_t failed_port = lease->instance().port();
    std::unique_ptr<InstanceLease> next = pool->acquire();
    if (next && next->instance().port() != failed_port && next->instance().port() != 0) {
      lease = std::move(next);
      send();
      return;
    }
  }
  if (!status.ok()) {
    api::ApiError e;
    if (status.code() == StatusCode::kUnavailable) {
      e = api::service_unavailable("The model instance is not reachable; try again shortly.", 1000);
    } else if (status.code() == StatusCode::kDeadlineExceeded) {
      e = api::server_error();
      e.http_status = 504;
      e.message = "The model instance did not answer in time.";
      e.code = "gateway_timeout";
    } else {
      e = api::server_error();
      e.http_status = 502;
      e.message = "The model instance failed during the response.";
      e.code = "bad_gateway";
    }
    api::HttpErrorResponse r = api::render_api_error(e, azure);
    deferred_status = r.status;
    for (const auto& [n, v] : r.headers) deferred_headers.push_back({n, v});
    for (const http::Header& x : response_headers()) deferred_headers.push_back(x);
    deferred = r.body;
    finalize(r.status, "error", 0, 0);
    return;
  }
  int64_t prompt = 0, completion = 0;
  std::string finish;
  if (upstream_status == 200) {
    read_usage(body, &prompt, &completion, &finish);
    const SafetyVerdict v = content_safety ? gateway->safety_.check_completion(body) : SafetyVerdict{};
    if (!v.allowed) LOG_WARN("content safety flagged a completion (%s); the filter is not enforced yet", v.category.c_str());
  }
  deferred_status = upstream_status;
  deferred_headers = upstream_headers;
  for (const http::Header& x : response_headers()) deferred_headers.push_back(x);
  deferred = std::move(body);
  finalize(upstream_status, upstream_status == 200 ? (finish.empty() ? "stop" : finish) : "rejected", prompt, completion);
}

void ProxyCall::finalize(int status, const std::string& outcome, int64_t prompt_tokens, int64_t completion_tokens) {
  finalized = true;
  record.status = status;
  record.outcome = outcome;
  record.prompt_tokens = prompt_tokens;
  record.completion_tokens = completion_tokens;
  record.ended_at = gateway->clock_.now_unix_ms();
  if (route->limiter) route->limiter->reconcile(decision, prompt_tokens + completion_tokens);
  if (collector) collect(status);
  gateway->count_status(status);
  lease.reset();  // the instance is free for the next request
  const auto upstream_done = std::chrono::steady_clock::now();
  auto self = shared_from_this();
  gateway->meter_.finish(record, [self, upstream_done](Status) {
    self->gateway->record_wait_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - upstream_done).count());
    self->deliver();
  });
  std::weak_ptr<ProxyCall> weak = self;
  gateway->timer_.after(gateway->options_.record_wait_ms, [weak] {
    if (auto p = weak.lock(); p && !p->delivered.load()) {
      LOG_ERROR("usage record %s not durable after the wait; answering anyway (it stays queued)", p->record.id.c_str());
      p->deliver();
    }
  });
}

// One JSON line: the request as the client sent it and the response it got.
void ProxyCall::collect(int status) {
  nlohmann::json line;
  line["time"] = record.started_at;
  line["request_id"] = record.request_id;
  line["endpoint"] = record.endpoint_name;
  line["deployment"] = record.deployment;
  line["route"] = record.route;
  line["status"] = status;
  nlohmann::json request = nlohmann::json::parse(collected_request, nullptr, false);
  line["request"] = request.is_discarded() ? nlohmann::json(collected_request) : request;
  if (streaming) {
    nlohmann::json events = nlohmann::json::array();
    size_t pos = 0;
    while (pos < collected_stream.size()) {
      size_t end = collected_stream.find("\n\n", pos);
      if (end == std::string::npos) end = collected_stream.size();
      std::string_view ev(collected_stream.data() + pos, end - pos);
      if (ev.rfind("data: ", 0) == 0) ev.remove_prefix(6);
      nlohmann::json j = nlohmann::json::parse(ev, nullptr, false);
      events.push_back(j.is_discarded() ? nlohmann::json(std::string(ev)) : j);
      pos = end + 2;
    }
    line["response"] = {{"events", events}};
  } else {
    nlohmann::json response = nlohmann::json::parse(deferred, nullptr, false);
    line["response"] = response.is_discarded() ? nlohmann::json(deferred) : response;
  }
  line["usage"] = {{"prompt_tokens", record.prompt_tokens}, {"completion_tokens", record.completion_tokens}};
  collector->append(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ProxyCall::deliver() {
  if (delivered.exchange(true)) return;
  std::lock_guard<std::mutex> lock(mu);
  route->inflight->fetch_sub(1);
  if (client_gone) return;
  if (streaming) {
    if (!deferred.empty()) responder->write(std::move(deferred));
    responder->end_stream();
    return;
  }
  responder->send(deferred_status, std::move(deferred_headers), std::move(deferred));
}

}  // namespace maas::gateway
