// engine_core.h — the single-threaded heart of the engine: step() = schedule → run → sample →
// update → deliver (vLLM v1's EngineCore.step()). Engine (engine.h) wraps it in a thread with a
// request queue; tests may drive it directly.
//
// Per step: requests marked for cancellation or past their deadline end first (their blocks
// are freed at once); the scheduler picks the chunks; the runner executes them; each request's
// sequences are sampled (a request with several sequences is forked from its prompt once the
// prompt is computed; beam search expands and prunes its beams); finished sequences free their
// blocks; every request that made progress gets one RequestOutput. An exception while handling
// one request fails only that request (finish "error", error Internal). With speculative
// decoding (EngineOptions::num_speculative_tokens) a decoding sequence may carry a draft: the
// scheduler runs it after the sequence's token, and verify_draft (engine_spec.cc) keeps the
// tokens the model confirms, 1 to draft + 1 per step.
// Outputs are queued (take_outputs) rather than called, so the caller publishes stats first.
// Thread safety: one thread (the engine thread) calls everything but validate(), which is const
// and may run on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/block_manager.h"
#include "engine/engine.h"
#include "engine/model_runner.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "engine/step_cost.h"
#include "model/kv_cache.h"
#include "tokenizer/tokenizer.h"

namespace maas {

// The options with defaults resolved (n_ctx capped by the model, n_kv_blocks computed).
EngineOptions resolve_engine_options(const EngineOptions& options, const LlamaConfig& config);

// An output produced by a step, delivered by the caller once the step's stats are published
// (so a client that sees its final output also sees its blocks freed in stats()).
struct PendingOutput {
  std::shared_ptr<OutputCallback> on_output;
  RequestOutput output;
  std::string request_id;
};

class EngineCore {
 public:
  EngineCore(Model& model, const Tokenizer& tokenizer, const EngineOptions& resolved);

  // InvalidArgument when the request is malformed or cannot fit the context.
  Status validate(const EngineRequest& request) const;
  void add(EngineRequest request, OutputCallback on_output);
  // Ends every request with this id before the next step (finish "cancelled").
  void cancel(const std::string& request_id);
  // One iteration. Does nothing when there is no request.
  void step();
  bool has_work() const { return !requests_.empty(); }
  // Ends every request with finish "cancelled" (shutdown).
  void cancel_all();
  // Counters; n_running / n_waiting / KV figures are computed now.
  EngineStats stats() const;
  int32_t n_waiting() const { return static_cast<int32_t>(scheduler_.waiting().size()); }
  // The outputs produced since the last call, in order. Call each callback on the engine thread;
  // a callback that throws should be answered with cancel(request_id).
  std::vector<PendingOutput> take_outputs() { return std::exchange(pending_, {}); }

 private:
  struct Touched;
  std::unique_ptr<Sequence> make_sequence(const RequestState& r, int32_t index);
  // The vocabulary's bytes for constrained decoding, built on the first request that needs it.
  std::shared_ptr<const ConstraintVocab> constraint_vocab();
  void end_expired();
  bool run_step(SchedulerOutput& out);  // false: the forward pass failed
  void process_chunk(SchedulerOutput& out, size_t i);
  void collect_prompt_logprobs(RequestState& r, const ScheduledChunk& c, const float* rows);
  void sample_sequence(RequestState& r, Sequence& s, float* logits);
  void fork_and_sample(RequestState& r, const float* logits);
  void append_token(RequestState& r, Sequence& s, const SampleResult& res);
  std::vector<int32_t> banned_tokens(const RequestState& r, const Sequence& s) const;
  void finish_sequence(Sequence& s, const std::string& reason);
  // Speculative decoding (engine_spec.cc).
  void propose_draft(const RequestState& r, Sequence& s);
  void verify_draft(RequestState& r, Sequence& s, float* rows, int32_t n_draft);
  // Beam search (engine_beam.cc).
  struct BeamProposal { size_t parent; int32_t token; float logprob; double cum; };
  std::vector<BeamProposal> beam_proposals(RequestState& r);
  std::unique_ptr<Sequence> grow_beam(RequestState& r, std::unique_ptr<Sequence>& parent, bool last_child,
                                      const BeamProposal& c);
  void beam_candidates(RequestState& r, Sequence& s, float* logits);
  void beam_select(RequestState& r);
  std::vector<Sequence*> beam_results(RequestState& r);
  // Delivery.
  void deliver_progress(RequestState& r);
  void finish_request(RequestState& r, const std::string& reason, Status error);
  void deliver_final(RequestState& r, Status error);
  std::vector<Sequence*> final_order(RequestState& r);
  void call(RequestState& r, RequestOutput&& out);
  void forget(RequestState& r);

  Model& model_;
  const Tokenizer& tokenizer_;
  EngineOptions options_;
  std::unique_ptr<KvCache> cache_;  // in the model's backend
  BlockManager blocks_;
  StepCostModel cost_model_;  // learned from every step; the scheduler plans with it
  Scheduler scheduler_;
  ModelRunner runner_;
  std::vector<int32_t> eog_ids_;
  std::map<uint64_t, std::unique_ptr<RequestState>> requests_;  // by arrival
  uint64_t next_arrival_ = 0;
  EngineStats stats_;
  std::vector<float> scratch_;  // [n_vocab] logits copy for forks
  std::shared_ptr<const ConstraintVocab> constraint_vocab_;
  std::vector<PendingOutput> pending_;
};

}  // namespace maas
