// worker_inference.cc — the completions / chat routes (both route families) and tokenize.
//
// One request: parse + validate (src/api) → submit each prompt to the engine → the engine thread
// posts each output to the request's strand (output_executor.h) and goes on with its next step;
// there it is encoded as an SSE chunk (streaming) or accumulated into one body and written. A
// client that goes away cancels its engine requests (the HTTP layer's on_close), so its KV
// blocks are freed within one step, streaming or not.
#include <chrono>
#include <mutex>

#include <nlohmann/json.hpp>

#include "api/json_body.h"
#include "api/request_parser.h"
#include "api/response_builder.h"
#include "api/response_json.h"
#include "api/stream_encoder.h"
#include "http/content_type.h"
#include "worker/worker_server.h"

namespace maas {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

// One inference request in flight. Guarded by mu: outputs come from the request's strand, errors
// from HTTP threads.
struct WorkerServer::Inflight {
  std::mutex mu;
  WorkerServer* server = nullptr;
  std::shared_ptr<OutputExecutor::Strand> strand;  // where on_output runs, in order
  std::shared_ptr<http::Responder> res;
  api::ResponseOptions response;
  bool azure = false;
  std::unique_ptr<api::StreamEncoder> encoder;        // streaming
  std::unique_ptr<api::ResponseAccumulator> accumulator;  // non-streaming
  std::vector<std::string> engine_ids;
  bool started = false;   // SSE headers sent
  bool done = false;      // the response is complete; later outputs are ignored
  Clock::time_point start = Clock::now();
  Clock::time_point last_token{};
  bool first_token = true;

  void finish(int status) {  // mu held
    done = true;
    server->metrics_.count_request(status);
    server->metrics_.e2e.observe(seconds(Clock::now() - start));
    server->inflight_.fetch_sub(1);
  }
  void observe_tokens(const RequestOutput& out) {  // mu held
    bool any = false;
    for (const SequenceDelta& d : out.deltas) {
      any |= !d.text.empty() || !d.logprobs.empty();
      if (d.finish_reason) server->metrics_.count_finish(*d.finish_reason);
    }
    if (!any) return;
    Clock::time_point now = Clock::now();
    if (first_token) server->metrics_.ttft.observe(seconds(now - start));
    else server->metrics_.inter_token.observe(seconds(now - last_token));
    first_token = false;
    last_token = now;
  }
  void fail(const api::ApiError& err) {  // mu held
    if (done) return;
    if (started) {
      res->write(encoder->error(err));
      res->end_stream();
    } else {
      server->send_error(res, err, azure);
    }
    finish(err.http_status);
  }
  void on_output(size_t prompt, RequestOutput&& out) {
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    observe_tokens(out);
    if (encoder) {
      std::string data = encoder->encode(prompt, out);
      if (!started) {
        res->start_stream(200, http_headers(api::sse_headers()));
        started = true;
      }
      if (!data.empty()) res->write(std::move(data));
      if (encoder->done()) {
        res->end_stream();
        finish(200);
      }
      return;
    }
    accumulator->add(prompt, out);
    if (!accumulator->finished()) return;
    if (!accumulator->error().ok()) return fail(api::api_error_from_status(accumulator->error()));
    res->send(200, {{"content-type", "application/json"}}, accumulator->body());
    finish(200);
  }
};

void WorkerServer::handle_inference(http::Request&& req, std::shared_ptr<http::Responder> res, bool chat, bool azure) {
  if (draining_.load()) return send_error(res, api::service_unavailable("the server is shutting down", 1000), azure);
  if (!http::is_json_content_type(req)) return send_error(res, api::unsupported_media_type(), azure);
  api::ParseOptions po;
  po.tokenizer = tokenizer_.get();
  po.n_vocab = std::min(tokenizer_->n_vocab(), model_->config().n_vocab);
  po.n_ctx = options_.engine.n_ctx;
  po.model_name = options_.model_name;
  po.azure = azure;
  po.default_ignore_eos = options_.default_ignore_eos;
  po.max_piece_bytes = max_piece_bytes_;
  po.request_id = req.request_id;
  if (azure) {
    auto ep = api::parse_extra_parameters_header(req.header("extra-parameters"));
    if (!ep.ok()) return send_error(res, ep.error(), azure);
    po.extra_parameters = ep.value();
  }
  auto parsed = chat ? api::parse_chat_request(req.body, po, *renderer_) : api::parse_completion_request(req.body, po);
  if (!parsed.ok()) {
    metrics_.count_request(parsed.error().http_status);
    return send_error(res, parsed.error(), azure);
  }

  auto flight = std::make_shared<Inflight>();
  flight->server = this;
  flight->strand = outputs_->make_strand();
  flight->res = res;
  flight->azure = azure;
  flight->response = parsed->response;
  const size_t n_prompts = parsed->prompts.size();
  if (parsed->response.stream) {
    flight->encoder = std::make_unique<api::StreamEncoder>(parsed->response, *tokenizer_, n_prompts);
  } else {
    flight->accumulator = std::make_unique<api::ResponseAccumulator>(parsed->response, *tokenizer_, n_prompts);
  }
  for (const EngineRequest& r : parsed->prompts) flight->engine_ids.push_back(r.id);
  inflight_.fetch_add(1);
  // Cancel on disconnect. Captures the ids by value; the engine outlives every responder.
  res->on_close([this, ids = flight->engine_ids] {
    if (engine_) for (const std::string& id : ids) engine_->cancel(id);
  });

  const auto deadline = Clock::now() + std::chrono::seconds(options_.request_timeout_s);
  for (size_t i = 0; i < n_prompts; ++i) {
    EngineRequest er = std::move(parsed->prompts[i]);
    er.deadline = deadline;
    // The engine thread only moves the output onto the request's strand.
    Status s = engine_->submit(std::move(er), [flight, i](RequestOutput&& out) {
      flight->strand->post([flight, i, out = std::move(out)]() mutable { flight->on_output(i, std::move(out)); });
    });
    if (!s.ok()) {
      for (size_t j = 0; j < i; ++j) engine_->cancel(flight->engine_ids[j]);
      std::lock_guard<std::mutex> lock(flight->mu);
      flight->fail(api::api_error_from_status(s));
      return;
    }
  }
}

void WorkerServer::handle_tokenize(const http::Request& req, const std::shared_ptr<http::Responder>& res) {
  nlohmann::json body;
  if (api::ApiError e = api::parse_json_body(req.body, &body); !e.ok()) return send_error(res, e, false);
  auto prompt = body.find("prompt");
  if (prompt == body.end() || !prompt->is_string()) {
    return send_error(res, api::invalid_request("'prompt' must be a string", "prompt"), false);
  }
  bool add_special = true;
  if (auto a = body.find("add_special_tokens"); a != body.end()) {
    if (!a->is_boolean()) return send_error(res, api::invalid_request("'add_special_tokens' must be a boolean", "add_special_tokens"), false);
    add_special = a->get<bool>();
  }
  std::vector<int32_t> ids = tokenizer_->encode(prompt->get<std::string>(), add_special, false);
  nlohmann::ordered_json out = {{"tokens", ids}, {"count", ids.size()}, {"max_model_len", options_.engine.n_ctx}};
  send_json(res, 200, out.dump());
}

void WorkerServer::handle_detokenize(const http::Request& req, const std::shared_ptr<http::Responder>& res) {
  nlohmann::json body;
  if (api::ApiError e = api::parse_json_body(req.body, &body); !e.ok()) return send_error(res, e, false);
  auto tokens = body.find("tokens");
  if (tokens == body.end() || !tokens->is_array()) {
    return send_error(res, api::invalid_request("'tokens' must be an array of token ids", "tokens"), false);
  }
  std::vector<int32_t> ids;
  for (const auto& t : *tokens) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tokenizer_->n_vocab()) {
      return send_error(res, api::invalid_request("token ids must be integers in the vocabulary", "tokens"), false);
    }
    ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  api::OJson out = {{"prompt", tokenizer_->decode(ids, false)}};
  send_json(res, 200, api::dump_json(out));
}

}  // namespace maas
