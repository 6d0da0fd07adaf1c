// run_session.cc — one request at a time through the worker's parser and the engine core (see
// run_session.h).
#include "run_session.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "api/request_parser.h"
#include "api/response_builder.h"

namespace maas {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

RunSession::RunSession(LoadedModel loaded) : loaded_(std::move(loaded)) {
  renderer_ = std::make_unique<ChatRenderer>(*loaded_.tokenizer, *loaded_.chat_template);
  core_ = std::make_unique<EngineCore>(*loaded_.model, *loaded_.tokenizer, loaded_.engine);
  max_piece_bytes_ = max_piece_bytes(*loaded_.tokenizer);
}

RunSession::~RunSession() = default;

StatusOr<std::unique_ptr<RunSession>> RunSession::load(const LoaderOptions& options) {
  ASSIGN_OR_RETURN(LoadedModel loaded, load_served_model(options));
  return std::unique_ptr<RunSession>(new RunSession(std::move(loaded)));
}

StatusOr<std::vector<int32_t>> RunSession::render_chat(const std::vector<ChatMessage>& messages) const {
  ChatRenderResult r = renderer_->render(messages, /*add_generation_prompt=*/true);
  if (!r.ok()) return invalid_argument(r.error().message);
  return std::move(r.value().tokens);
}

StatusOr<RunTurn> RunSession::run(const nlohmann::json& body, bool chat,
                                  const std::function<void(std::string_view)>& on_text) {
  api::ParseOptions po;  // as WorkerServer::handle_inference fills it
  po.tokenizer = loaded_.tokenizer.get();
  po.n_vocab = std::min(loaded_.tokenizer->n_vocab(), loaded_.model->config().n_vocab);
  po.n_ctx = n_ctx();
  po.model_name = loaded_.served_name;
  po.max_piece_bytes = max_piece_bytes_;
  po.request_id = "run-" + std::to_string(++turns_);
  const std::string text = body.dump();
  auto parsed = chat ? api::parse_chat_request(text, po, *renderer_) : api::parse_completion_request(text, po);
  if (!parsed.ok()) return invalid_argument(parsed.error().message);
  if (parsed->prompts.size() != 1) return invalid_argument("maas run takes one prompt");
  EngineRequest request = std::move(parsed->prompts[0]);
  RETURN_IF_ERROR(core_->validate(request));

  api::ResponseAccumulator response(parsed->response, *loaded_.tokenizer, 1);
  RunTurn turn;
  Status error;
  bool finished = false;
  const EngineStats before = core_->stats();
  const Clock::time_point start = Clock::now();
  core_->add(std::move(request), [&](RequestOutput&& out) {
    for (const SequenceDelta& d : out.deltas) {
      if (!d.text.empty()) on_text(d.text);
      turn.text += d.text;
      turn.logprobs.insert(turn.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
      if (d.finish_reason) turn.finish_reason = *d.finish_reason;
    }
    if (turn.first_output_seconds == 0 && out.completion_tokens > 0) turn.first_output_seconds = seconds_since(start);
    turn.prompt_tokens = out.prompt_tokens;
    turn.completion_tokens = out.completion_tokens;
    turn.cached_prompt_tokens = out.cached_prompt_tokens;
    response.add(0, out);
    if (out.finished) {
      finished = true;
      error = out.error;
    }
  });
  RETURN_IF_ERROR(step_until(finished));
  RETURN_IF_ERROR(error);
  turn.total_seconds = seconds_since(start);
  const EngineStats after = core_->stats();
  turn.spec_draft_tokens = after.spec_draft_tokens - before.spec_draft_tokens;
  turn.spec_accepted_tokens = after.spec_accepted_tokens - before.spec_accepted_tokens;
  turn.response_body = response.body();
  return turn;
}

Status RunSession::step_until(const bool& finished) {
  try {
    while (!finished && core_->has_work()) {
      core_->step();
      for (PendingOutput& p : core_->take_outputs()) (*p.on_output)(std::move(p.output));
    }
  } catch (const std::exception& e) {
    core_->cancel_all();
    (void)core_->take_outputs();  // their callbacks refer to the caller's locals: not called
    return internal_error(std::string("the engine failed: ") + e.what());
  }
  return finished ? Status::Ok() : internal_error("the engine stopped before the request finished");
}

}  // namespace maas
