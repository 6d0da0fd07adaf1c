// scheduler.h — which tokens of which sequences run in the next step (vLLM v1's Scheduler).
//
// Each step has a token budget (max_batch_tokens). Running requests go first: every sequence
// with one uncomputed token (a decode) gets it. Then prompt work (running requests with more
// than one uncomputed token: chunked prefills and recomputes, and waiting requests, admitted
// while max_num_seqs and the free blocks allow) gets chunks of what is left, in the order of
// (priority, arrival): a lower `priority` value first (vLLM's convention), first come first
// served among equals. A waiting request first takes the full blocks of its tokens that the
// prefix cache holds (never the last token, whose logits are needed).
//
// Step-time budget: while any sequence is decoding, the prompt tokens added to a step are
// bounded so that the step's predicted time (a StepCost, learned from the steps that ran) stays
// within step_time_target_s / overrun (StepCost::overrun: the 95th percentile of measured over
// predicted time, so that slow steps too stay within the target): each prompt chunk is the
// largest that still fits. So a decoding stream's inter-token latency stays near the target
// however many prompts arrive. When nothing is decoding, prompts run at the full token budget.
// When the decodes alone take longer than the
// target (a slow or busy machine, or many streams), the target cannot hold anyway: the step may
// then grow by prefill_share of the decodes' time, so prompts keep a fixed fraction of the
// machine and time to first token degrades in proportion instead of collapsing. Starvation is
// impossible: the first pending prompt always gets at least min_prefill_tokens per step.
// Fairness: a long prompt (more than long_prefill_threshold tokens left) with other prompts
// behind it takes at most half of the step's prompt room, so short prompts behind it keep
// finishing while it runs; among equal priority nothing overtakes an earlier arrival otherwise.
//
// When a running sequence needs a block and none is free, the running request with the lowest
// priority (the most recently admitted among equals) is preempted: its blocks are freed, it goes
// back to the waiting queue (in key order) and recomputes its tokens when admitted again. A
// request that cannot fit the cache even alone is reported in `failed` instead of being retried
// forever. Writing into a block that other sequences share (forks) first copies it
// (copy-on-write): the copy is listed in `copies` for the model runner; the scheduler itself
// never touches tensors.
//
// Speculative decoding: a decoding sequence with a draft (Sequence::draft) gets its one token
// and, as far as the token budget and free blocks allow, the draft after it in the same chunk
// (ScheduledChunk::n_draft, logits for every row); the draft's KV slots and blocks are reserved
// like any tokens. Drafts only use what every other decode's token leaves of the token budget and
// the free blocks: a draft that does not fit is cut or dropped, never preempting or delaying anyone.
// With a cost model, a draft is also cut to the tokens worth their time: a token's chance of being
// kept (the sequence's acceptance estimate, Sequence::draft_acceptance, to the power of its place)
// times a decode token's share of the step's time must outweigh what it adds to the step
// (worth_drafting in scheduler.cc): a busy CPU batch drafts hardly; a lone stream always whole.
// commit() counts only the chunk's own tokens; accept_draft() then adds the verified draft
// tokens and frees the blocks the rejected ones left unused. No block is ever registered in the
// prefix cache before every token in it is verified.
// Thread safety: engine thread only. RequestState objects are owned by the caller.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_manager.h"
#include "engine/sequence.h"
#include "engine/step_cost.h"

namespace maas {

struct SchedulerOptions {
  int32_t max_num_seqs = 64;
  int32_t max_batch_tokens = 512;
  int32_t n_ctx = 4096;
  bool enable_prefix_caching = true;
  double step_time_target_s = 0;       // 0: no step-time budget (prompts always at full chunks)
  int32_t min_prefill_tokens = 16;     // prompt tokens per step when the decodes fill the target
  double prefill_share = 0.25;         // decodes over the target: prompts may add this share of their time
  int32_t long_prefill_threshold = 256;  // a prompt with more left than this is "long"
  int32_t spec_max_seqs = 0;           // drafts run only while at most this many sequences decode (0: always)
  bool spec_by_cost = true;            // cut drafts to the tokens worth their time (needs a StepCost)
};

struct ScheduledChunk {
  RequestState* request = nullptr;
  Sequence* seq = nullptr;
  int32_t n_tokens = 0;       // tokens seq->tokens[n_computed .. n_computed + n_tokens)
  bool all_logits = false;    // echo_logprobs: logits for every prompt token
  int32_t n_draft = 0;        // then seq->draft[0 .. n_draft) after them (unverified; logits for every row)
};

struct BlockCopy {
  Sequence* seq = nullptr;    // the sequence the copy is for
  int32_t src = 0, dst = 0;   // KV blocks
  int32_t n_slots = 0;        // slots [0, n_slots) are copied
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;
  std::vector<BlockCopy> copies;       // to run before the forward pass
  std::vector<RequestState*> preempted;
  std::vector<RequestState*> failed;   // cannot fit the cache: finish with an error
  int32_t n_cache_hit_tokens = 0;      // prompt tokens found in the prefix cache this step
  StepShape shape;                     // what the chunks compute (for the cost model)
  bool budgeted = false;               // the step-time budget bounded this step's prompt tokens
  bool empty() const { return chunks.empty(); }
};

class Scheduler {
 public:
  // `cost` (may be null: no step-time budget) must outlive the scheduler.
  Scheduler(SchedulerOptions options, BlockManager& blocks, const StepCost* cost = nullptr);

  void add(RequestState* request);      // into the waiting queue, by (priority, arrival)
  // Frees the request's blocks and forgets it (finished, cancelled or failed).
  void remove(RequestState* request);
  SchedulerOutput schedule();
  // After the forward pass: advances n_computed of every chunk and registers newly full
  // blocks in the prefix cache. Returns the prompt tokens computed.
  int64_t commit(const SchedulerOutput& out);
  // After verification: n_accepted of the draft just run are now the sequence's tokens (the
  // caller appended them): counts their KV, registers newly full blocks, frees the blocks past
  // the computed tokens (they held only rejected draft positions).
  void accept_draft(Sequence& seq, int32_t n_accepted);
  // Gives `to` the blocks of `from` (each gains a holder); the caller copies tokens etc.
  void fork_blocks(const Sequence& from, Sequence& to);
  void free_sequence(Sequence& seq);

  const std::deque<RequestState*>& waiting() const { return waiting_; }
  const std::vector<RequestState*>& running() const { return running_; }
  int32_t n_running_seqs() const;

 private:
  enum class Admit { kAdmitted, kNoBlocks, kNoRoom };
  void schedule_decodes(SchedulerOutput& out);
  void schedule_prompts(SchedulerOutput& out);
  std::vector<RequestState*> prompt_order() const;
  // Tokens of `seq` to run as a prompt chunk now (0: the step has no room left).
  int32_t prompt_chunk(const Sequence& seq, bool more_behind) const;
  int32_t room_for(const Sequence& seq, int32_t max_n) const;
  bool schedule_seq(RequestState* r, Sequence* seq, int32_t n, bool allow_preempt, SchedulerOutput& out,
                    int32_t n_draft = 0);
  int32_t draft_for(Sequence& seq, int32_t n_left, SchedulerOutput& out);
  int32_t worth_drafting(Sequence& seq, int32_t max_n);
  void register_full_blocks(Sequence& seq);
  bool reserve(Sequence& seq, int32_t n, SchedulerOutput& out);
  RequestState* preemption_victim() const;
  void preempt(RequestState* victim, SchedulerOutput& out);
  void enqueue_waiting(RequestState* r);
  Admit admit(RequestState* r, bool more_behind, SchedulerOutput& out);
  int32_t take_cached_prefix(Sequence& seq);
  void unschedule(RequestState* r, SchedulerOutput& out);
  bool fits_alone(const RequestState& r) const;

  SchedulerOptions options_;
  BlockManager& blocks_;
  const StepCost* cost_;
  std::deque<RequestState*> waiting_;   // by (priority, arrival)
  std::vector<RequestState*> running_;  // admission order
  int32_t budget_ = 0;                  // tokens left in the step being scheduled
  StepShape shape_;                     // the step being scheduled, so far
  bool timed_ = false;                  // this step's prompt tokens are bounded by the cost model
  double target_s_ = 0;                 // this step's time target (see prefill_share)
  bool prompt_granted_ = false;         // some prompt chunk is in this step already
  StepShape draft_base_;                // this step's decodes without drafts
  double draft_token_value_ = 0;        // their predicted time per decode token
};

}  // namespace maas
