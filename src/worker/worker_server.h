// worker_server.h — `maas worker`: one model's inference server (an instance of a deployment,
// or a llama-server / vLLM replacement on its own).
//
// Owns the HTTP server, the model, its tokenizer and chat template, and the engine. The HTTP
// server starts first so liveness answers while the model loads (readiness and inference answer
// 503 until it is ready, and again while draining). Routes: SPEC §2. Every route but the health
// checks needs one of the configured keys (Authorization: Bearer, or api-key), compared in
// constant time. Thread safety: handlers run on the HTTP I/O threads; engine outputs are posted
// by the engine thread to each request's strand of the output executor, where they are encoded;
// shared state is atomic or guarded as annotated.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "chat/chat_render.h"
#include "engine/engine.h"
#include "engine/loaded_model.h"
#include "http/http.h"
#include "model/model.h"
#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "worker/output_executor.h"
#include "worker/worker_metrics.h"

namespace maas {

struct WorkerOptions {
  std::string model_path;
  std::string model_name;              // served name; default: general.name or the file name
  std::string chat_template;           // override: built-in name or Jinja file (engine/loaded_model.h)
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::vector<std::string> api_keys;   // empty: no auth
  EngineOptions engine;                // n_ctx requested; the loader clamps it once (loaded_model.h)
  LoadOptions load;                    // device, threads, shared weights cache (model/load_options.h)
  int request_timeout_s = 600;         // per request, queued + running
  int drain_timeout_s = 30;            // SIGTERM: running streams may finish for this long
  bool default_ignore_eos = false;
};

class WorkerServer {
 public:
  explicit WorkerServer(WorkerOptions options);
  ~WorkerServer();

  // Starts listening (liveness answers from here on). Unavailable if the port is taken.
  Status start_http();
  uint16_t port() const;
  // Loads the model and starts the engine; readiness turns 200 when this returns ok.
  Status load();
  // Readiness fails, new inference requests get 503, running ones finish (up to the drain
  // timeout), then the HTTP server stops.
  void drain_and_stop();

 private:
  Status size_device_kv_cache(KvType kv_type);  // load(): n_kv_blocks from the device's free memory
  struct Inflight;
  void handle(http::Request&& req, std::shared_ptr<http::Responder> res);
  bool authorized(const http::Request& req) const;
  void handle_inference(http::Request&& req, std::shared_ptr<http::Responder> res, bool chat, bool azure);
  void handle_tokenize(const http::Request& req, const std::shared_ptr<http::Responder>& res);
  void handle_detokenize(const http::Request& req, const std::shared_ptr<http::Responder>& res);
  void send_json(const std::shared_ptr<http::Responder>& res, int status, const std::string& body);
  void send_error(const std::shared_ptr<http::Responder>& res, const api::ApiError& err, bool azure);
  std::string info_json() const;
  std::string models_json() const;

  WorkerOptions options_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> template_;
  std::unique_ptr<ChatRenderer> renderer_;
  // Encodes engine outputs off the engine thread; declared before engine_ so that it outlives
  // the engine (whose shutdown posts every request's final output here).
  std::unique_ptr<OutputExecutor> outputs_;
  std::unique_ptr<Engine> engine_;
  WorkerMetrics metrics_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int> inflight_{0};  // inference requests not yet answered completely
  int64_t created_ = 0;
  int32_t max_piece_bytes_ = 0;  // longest token piece, for the pre-tokenization length check
};

// The api layer's (name, value) header pairs as HTTP headers.
std::vector<http::Header> http_headers(const std::vector<std::pair<std::string, std::string>>& pairs);

// The OpenAPI 3 document of the worker's API (served at /openapi.json).
const std::string& openapi_document();

}  // namespace maas
