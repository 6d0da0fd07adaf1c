// scheduler.h — which tokens of which sequences run in the next step (vLLM v1's Scheduler).
//
// Each step has a token budget (max_batch_tokens). Running requests go first: every sequence
// with one uncomputed token (a decode) gets it, then sequences with more (prompts, recomputes)
// get chunks of what budget is left (chunked prefill). Then waiting requests are admitted in
// order while the budget, max_num_seqs and the free blocks allow: each first takes the full
// blocks of its tokens that the prefix cache holds (never the last token, whose logits are
// needed) and then gets a chunk. When a running sequence needs a block and none is free, the
// most recently admitted running request is preempted: its blocks are freed, it goes to the
// front of the waiting queue and recomputes its tokens when admitted again. A request that
// cannot fit the cache even alone is reported in `failed` instead of being retried forever.
// Writing into a block that other sequences share (forks) first copies it (copy-on-write): the
// copy is listed in `copies` for the model runner; the scheduler itself never touches tensors.
// Thread safety: engine thread only. RequestState objects are owned by the caller.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_manager.h"
#include "engine/sequence.h"

namespace maas {

struct SchedulerOptions {
  int32_t max_num_seqs = 64;
  int32_t max_batch_tokens = 512;
  int32_t n_ctx = 4096;
  bool enable_prefix_caching = true;
};

struct ScheduledChunk {
  RequestState* request = nullptr;
  Sequence* seq = nullptr;
  int32_t n_tokens = 0;       // tokens seq->tokens[n_computed .. n_computed + n_tokens)
  bool all_logits = false;    // echo_logprobs: logits for every prompt token
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
  bool empty() const { return chunks.empty(); }
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, BlockManager& blocks);

  void add(RequestState* request);      // to the back of the waiting queue
  // Frees the request's blocks and forgets it (finished, cancelled or failed).
  void remove(RequestState* request);
  SchedulerOutput schedule();
  // After the forward pass: advances n_computed of every chunk and registers newly full
  // blocks in the prefix cache. Returns the prompt tokens computed.
  int64_t commit(const SchedulerOutput& out);
  // Gives `to` the blocks of `from` (each gains a holder); the caller copies tokens etc.
  void fork_blocks(const Sequence& from, Sequence& to);
  void free_sequence(Sequence& seq);

  const std::deque<RequestState*>& waiting() const { return waiting_; }
  const std::vector<RequestState*>& running() const { return running_; }
  int32_t n_running_seqs() const;

 private:
  void schedule_running(bool decodes, SchedulerOutput& out);
  bool schedule_seq(RequestState* r, Sequence* seq, bool allow_preempt, SchedulerOutput& out);
  bool reserve(Sequence& seq, int32_t n, SchedulerOutput& out);
  void preempt(RequestState* victim, SchedulerOutput& out);
  bool admit(RequestState* r, SchedulerOutput& out);
  int32_t take_cached_prefix(Sequence& seq);
  void unschedule(RequestState* r, SchedulerOutput& out);
  bool fits_alone(const RequestState& r) const;

  SchedulerOptions options_;
  BlockManager& blocks_;
  std::deque<RequestState*> waiting_;
  std::vector<RequestState*> running_;  // admission order (the back is preempted first)
  int32_t budget_ = 0;                  // tokens left in the step being scheduled
};

}  // namespace maas
