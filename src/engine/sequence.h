// sequence.h — the engine's plain per-request and per-sequence state.
//
// A Sequence is one stream of tokens: its prompt plus what it generated, how many of those have
// K/V in the cache (n_computed), and the KV blocks that hold them. Prefill and decode are the
// same thing here (vLLM v1): each step the scheduler gives a sequence some of its uncomputed
// tokens; when it has none left after a step, its last logits are sampled and one token is
// appended. A preempted sequence keeps its tokens, drops its blocks and recomputes them later.
// Speculative decoding (engine_spec.cc): a decoding sequence may carry a `draft`, tokens guessed
// to follow it; the scheduler runs them after its last token in the same step and the engine
// keeps the verified prefix. Drafts are never part of `tokens` and never counted in n_computed
// until verified.
// A RequestState owns the sequences of one request (n / best_of choices, or the live beams).
// Thread safety: engine thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/output_processor.h"
#include "engine/ngram_proposer.h"
#include "engine/request.h"
#include "sampling/json_constraint.h"
#include "sampling/sampler.h"

namespace maas {

struct Sequence {
  int32_t index = 0;                  // choice index before best_of / beam selection
  std::vector<int32_t> tokens;        // prompt + generated
  int32_t n_prompt = 0;
  int32_t n_computed = 0;             // leading tokens whose K/V are in the cache
  std::vector<int32_t> block_table;   // KV blocks for positions 0.. (n_computed fits in it)
  std::vector<uint64_t> block_hashes; // prefix-cache hashes of the leading full blocks
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<OutputProcessor> output;
  std::unique_ptr<JsonConstraint> constraint;  // response_format; null: unconstrained
  SequenceDelta accumulated;          // non-streaming: everything so far
  double cum_logprob = 0;             // sum of sampled tokens' logprobs
  bool finished = false;
  bool finish_sent = false;           // streaming: the delta with finish_reason went out
  std::string finish_reason;
  std::vector<TokenLogprob> beam_candidates;  // beam search: top 2 * width next tokens, pending
  bool has_candidates = false;
  std::vector<int32_t> draft;         // speculative tokens proposed to follow `tokens` (unverified)
  // Running estimate of P(a draft token is accepted | the ones before it were), for the
  // scheduler's cost rule. Optimistic at first (a sequence tries its drafts until they miss: an
  // estimate too low to draft would never be corrected), and it drifts back there while drafts
  // are not run, so a sequence whose text turns repetitive tries again.
  static constexpr float kDraftAcceptancePrior = 0.8f;
  float draft_acceptance = kDraftAcceptancePrior;
  std::unique_ptr<NgramProposer> proposer;  // made on the first proposal

  int32_t n_generated() const { return static_cast<int32_t>(tokens.size()) - n_prompt; }
  int32_t n_uncomputed() const { return static_cast<int32_t>(tokens.size()) - n_computed; }
};

enum class RequestPhase { kWaiting, kRunning, kFinished };

struct RequestState {
  EngineRequest request;
  std::shared_ptr<OutputCallback> on_output;  // shared with outputs pending delivery
  uint64_t arrival = 0;               // submission order
  RequestPhase phase = RequestPhase::kWaiting;
  int32_t width = 1;                  // sequences generated: max(n, best_of) (beam width)
  bool forked = false;                // the prompt's sequence has been forked into `width`
  std::vector<std::unique_ptr<Sequence>> seqs;      // live (and finished, until delivery)
  std::vector<std::unique_ptr<Sequence>> completed; // beam search: finished beams
  std::vector<TokenLogprobs> prompt_logprobs;       // echo_logprobs: one per prompt token
  int32_t n_cached_prompt = 0;        // prompt tokens found in the prefix cache at admission
  int32_t n_preemptions = 0;
  bool cancel_requested = false;
  std::optional<Status> failure;      // set when the request must end with an error

  bool beam() const { return request.use_beam_search; }
  bool streaming() const { return request.stream && !request.use_beam_search && request.best_of <= request.n; }
  bool all_finished() const {
    for (const auto& s : seqs) {
      if (!s->finished) return false;
    }
    return true;
  }
};

}  // namespace maas
