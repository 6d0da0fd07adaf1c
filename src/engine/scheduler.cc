// scheduler.cc — token and step-time budgets, chunked prefill, priority order, admission, prefix
// reuse, preemption (see scheduler.h).
#include "engine/scheduler.h"

#include <algorithm>
#include <span>

#include "base/check.h"

namespace maas {

namespace {

// Scheduling order: lower priority value first, then earlier arrival.
bool before(const RequestState* a, const RequestState* b) {
  if (a->request.priority != b->request.priority) return a->request.priority < b->request.priority;
  return a->arrival < b->arrival;
}

bool has_prompt_work(const RequestState& r) {
  for (const auto& s : r.seqs) {
    if (!s->finished && s->n_uncomputed() > 1) return true;
  }
  return false;
}

// A chunk of n tokens of `s` (and n_draft draft tokens after them: decode tokens, a row each).
void add_to_shape(StepShape& shape, const Sequence& s, int32_t n, int32_t n_draft) {
  const bool sampled = s.n_computed + n == static_cast<int32_t>(s.tokens.size());
  shape.add_chunk(s.n_computed, n + n_draft, sampled, sampled && n == 1 && s.n_computed >= s.n_prompt);
  shape.n_rows += n_draft;
}

StepShape shape_of(const std::vector<ScheduledChunk>& chunks) {
  StepShape shape;
  for (const ScheduledChunk& c : chunks) add_to_shape(shape, *c.seq, c.n_tokens, c.n_draft);
  return shape;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, BlockManager& blocks, const StepCost* cost)
    : options_(options), blocks_(blocks), cost_(cost) {}

void Scheduler::add(RequestState* request) {
  request->phase = RequestPhase::kWaiting;
  enqueue_waiting(request);
}

void Scheduler::enqueue_waiting(RequestState* r) {
  waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), r, before), r);
}

void Scheduler::remove(RequestState* request) {
  for (auto& s : request->seqs) free_sequence(*s);
  std::erase(waiting_, request);
  std::erase(running_, request);
}

int32_t Scheduler::n_running_seqs() const {
  int32_t n = 0;
  for (const RequestState* r : running_) {
    if (!r->forked || r->beam()) {
      n += r->width;
    } else {
      for (const auto& s : r->seqs) n += s->finished ? 0 : 1;
    }
  }
  return n;
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  budget_ = options_.max_batch_tokens;
  shape_ = StepShape{};
  prompt_granted_ = false;
  schedule_decodes(out);
  // The budget holds while a stream is waiting for its next token; otherwise full chunks.
  timed_ = options_.step_time_target_s > 0 && cost_ != nullptr && !out.chunks.empty();
  if (timed_) {
    // The budget holds whenever the decodes alone fit in it; only when they do not (a slow or
    // busy machine, many streams) may prompts add prefill_share of the decodes' time. (Growing
    // the step as soon as the decodes passed 1 / (1 + share) of the budget let a cost model whose
    // decode-only extrapolation ran high put every step over the budget: bench/NOTES.md.)
    // Predictions are of a mean step; planning at target / overrun keeps the slow ones (the 95th
    // percentile of measured / predicted, step_cost.h) within the target itself.
    const double target = options_.step_time_target_s / cost_->overrun();
    const double decodes = cost_->predict(shape_);
    target_s_ = decodes > target ? decodes * (1 + options_.prefill_share) : target;
  }
  schedule_prompts(out);
  out.shape = shape_of(out.chunks);
  out.budgeted = timed_;
  return out;
}

void Scheduler::schedule_decodes(SchedulerOutput& out) {
  int32_t n_decoding = 0;
  StepShape decodes;  // the decodes alone, for the worth of a draft token
  for (const RequestState* r : running_) {
    for (const auto& s : r->seqs) {
      if (s->finished || s->n_uncomputed() != 1) continue;
      ++n_decoding;
      add_to_shape(decodes, *s, 1, 0);
    }
  }
  const bool drafts = options_.spec_max_seqs == 0 || n_decoding <= options_.spec_max_seqs;
  draft_base_ = decodes;
  draft_token_value_ = cost_ != nullptr && n_decoding > 0 ? cost_->predict(decodes) / n_decoding : 0;
  int32_t n_left = n_decoding;  // decodes not scheduled yet, this one included
  for (size_t i = 0; i < running_.size(); ++i) {
    RequestState* r = running_[i];
    for (auto& s : r->seqs) {
      if (s->finished || s->n_uncomputed() != 1) continue;
      if (budget_ == 0) return;
      const int32_t n_draft = drafts ? draft_for(*s, n_left, out) : 0;
      if (!drafts) s->draft.clear();
      --n_left;
      if (!schedule_seq(r, s.get(), 1, /*allow_preempt=*/true, out, n_draft)) break;  // r left the running set
    }
  }
}

// How much of seq's draft runs in this step: as long as it is worth its time (worth_drafting),
// within what the token budget leaves after one token for each decode still to schedule
// (n_left, seq's own included), and within the free blocks (reserved here, leaving one per such
// decode: a draft never makes anyone be preempted or wait). The rest of the draft is dropped.
int32_t Scheduler::draft_for(Sequence& seq, int32_t n_left, SchedulerOutput& out) {
  int32_t n = std::min(static_cast<int32_t>(seq.draft.size()), budget_ - n_left);
  n = std::min(n, worth_drafting(seq, n));
  const int32_t bs = blocks_.block_size();
  if (n > 0 && blocks_.n_free() < n_left + (n + bs - 1) / bs + 1) n = 0;
  if (n > 0 && !reserve(seq, 1 + n, out)) n = 0;
  seq.draft.resize(static_cast<size_t>(std::max(n, 0)));
  return std::max(n, 0);
}

// The draft's i-th token is kept only if the first i all are: with the sequence's running
// acceptance estimate a, probability a^i. Kept, it is worth a decode token's share of the step
// (the decodes' predicted time / their number: a whole step for a lone stream, little in a big
// batch); it costs what it adds to the step's predicted time (the cost model: a token, a logit
// row, its attention). Tokens run while the first outweighs the second, so a busy batch on a
// CPU runs only its likeliest tokens and a device whose extra tokens are nearly free drafts
// whole. A sequence whose drafts stop running drifts back toward the prior estimate, so it tries
// again later. A lone decoding stream always drafts whole: a kept token saves it a whole step,
// and the linear cost model, fitted mostly on one-row steps, cannot tell a step's fixed cost
// from a row's and overprices its rows (the tiny test model drafted too little under the rule
// and ran faster with whole drafts; bench/RESULTS.md). No cost model, or spec_by_cost off: the
// whole draft.
int32_t Scheduler::worth_drafting(Sequence& seq, int32_t max_n) {
  if (cost_ == nullptr || !options_.spec_by_cost || max_n <= 0 || draft_base_.n_decode <= 1) return max_n;
  double p = 1.0, prev = cost_->predict(draft_base_);
  int32_t n = 0;
  StepShape shape = draft_base_;
  for (; n < max_n; ++n) {
    p *= seq.draft_acceptance;
    shape.n_tokens += 1;
    shape.n_rows += 1;
    shape.n_attend += seq.n_computed + 2 + n;  // draft token n sits at position n_computed + 1 + n
    const double now = cost_->predict(shape);
    if (p * draft_token_value_ < now - prev) break;
    prev = now;
  }
  if (n == 0) seq.draft_acceptance += 0.05f * (Sequence::kDraftAcceptancePrior - seq.draft_acceptance);
  return n;
}

// Running requests with prompt work and waiting requests, merged in (priority, arrival) order.
std::vector<RequestState*> Scheduler::prompt_order() const {
  std::vector<RequestState*> order;
  for (RequestState* r : running_) {
    if (has_prompt_work(*r)) order.push_back(r);
  }
  order.insert(order.end(), waiting_.begin(), waiting_.end());
  std::stable_sort(order.begin(), order.end(), before);
  return order;
}

void Scheduler::schedule_prompts(SchedulerOutput& out) {
  const std::vector<RequestState*> order = prompt_order();
  bool admitting = true;  // cleared by the first waiting request that cannot be admitted
  // Whether a prompt after position k could get a chunk in this step too.
  auto more_behind_of = [&](size_t k) {
    const int32_t n_seqs = n_running_seqs();
    for (size_t j = k + 1; j < order.size(); ++j) {
      if (order[j]->phase == RequestPhase::kRunning) return true;
      if (admitting && n_seqs + order[j]->width <= options_.max_num_seqs) return true;
    }
    return false;
  };
  for (size_t k = 0; k < order.size() && budget_ > 0; ++k) {
    RequestState* r = order[k];
    const bool more_behind = more_behind_of(k);
    if (r->phase == RequestPhase::kRunning) {
      if (std::find(running_.begin(), running_.end(), r) == running_.end()) continue;  // preempted meanwhile
      for (auto& s : r->seqs) {
        if (s->finished || s->n_uncomputed() <= 1) continue;
        const int32_t n = prompt_chunk(*s, more_behind);
        if (n == 0) return;  // the step is full
        if (!schedule_seq(r, s.get(), n, /*allow_preempt=*/true, out)) break;  // r was preempted
      }
      continue;
    }
    if (!admitting || std::find(waiting_.begin(), waiting_.end(), r) == waiting_.end()) continue;
    if (!fits_alone(*r)) {
      std::erase(waiting_, r);
      out.failed.push_back(r);
      continue;
    }
    const int32_t width = r->forked && !r->beam() ? static_cast<int32_t>(r->seqs.size()) : r->width;
    if (!running_.empty() && n_running_seqs() + width > options_.max_num_seqs) {
      admitting = false;  // first come, first served: nothing later is admitted either
      continue;
    }
    const Admit a = admit(r, more_behind, out);
    if (a == Admit::kNoRoom) return;
    if (a == Admit::kNoBlocks) {
      if (running_.empty()) {  // the whole cache is free and it still does not fit
        std::erase(waiting_, r);
        out.failed.push_back(r);
        continue;
      }
      admitting = false;
      continue;
    }
    std::erase(waiting_, r);
    running_.push_back(r);
    r->phase = RequestPhase::kRunning;
  }
}

// The prompt chunk for `seq`: what is left, within the step's tokens, half the room for a long
// prompt with others behind it, and within the step-time budget (at least min_prefill_tokens
// when no prompt has a chunk in this step yet, so a waiting prompt always advances).
int32_t Scheduler::prompt_chunk(const Sequence& seq, bool more_behind) const {
  int32_t n = std::min(seq.n_uncomputed(), budget_);
  const bool long_one = options_.long_prefill_threshold > 0 && seq.n_uncomputed() > options_.long_prefill_threshold;
  if (!timed_) {
    return long_one && more_behind ? std::max(1, std::min(n, budget_ / 2)) : n;
  }
  int32_t room = room_for(seq, n);
  if (room > 0 && long_one && more_behind) room = std::max(1, room / 2);
  if (room == 0 && !prompt_granted_) room = std::min(n, std::max(1, options_.min_prefill_tokens));
  return room;
}

// The largest m <= max_n whose chunk keeps the step's predicted time within the target
// (bisection: the prediction never falls as a chunk grows).
int32_t Scheduler::room_for(const Sequence& seq, int32_t max_n) const {
  auto fits = [&](int32_t m) {
    StepShape s = shape_;
    s.add_chunk(seq.n_computed, m, seq.n_computed + m == static_cast<int32_t>(seq.tokens.size()), false);
    return cost_->predict(s) <= target_s_;
  };
  if (max_n <= 0 || !fits(1)) return 0;
  int32_t lo = 1, hi = max_n;  // fits(lo) holds
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Gives `seq` a chunk of `n` of its uncomputed tokens. With allow_preempt, frees blocks by
// preempting running requests (lowest priority, newest first); returns false when `r` itself
// was preempted or failed.
bool Scheduler::schedule_seq(RequestState* r, Sequence* seq, int32_t n, bool allow_preempt, SchedulerOutput& out,
                             int32_t n_draft) {
  while (!reserve(*seq, n + n_draft, out)) {
    if (!allow_preempt) return false;
    RequestState* victim = preemption_victim();
    if (victim == r && running_.size() == 1) {  // alone and still no room: it can never run
      unschedule(r, out);
      for (auto& s : r->seqs) free_sequence(*s);
      running_.pop_back();
      out.failed.push_back(r);
      return false;
    }
    preempt(victim, out);
    if (victim == r) return false;
  }
  const bool all_logits = r->request.echo_logprobs && !r->forked && seq->n_computed < seq->n_prompt;
  const bool sampled = seq->n_computed + n == static_cast<int32_t>(seq->tokens.size());
  const bool decode = sampled && n == 1 && seq->n_computed >= seq->n_prompt;
  add_to_shape(shape_, *seq, n, n_draft);
  if (!decode) prompt_granted_ = true;
  out.chunks.push_back(ScheduledChunk{r, seq, n, all_logits, n_draft});
  budget_ -= n + n_draft;
  return true;
}

// The lowest-priority running request, the most recently admitted among equals.
RequestState* Scheduler::preemption_victim() const {
  RequestState* victim = running_.back();
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    if ((*it)->request.priority > victim->request.priority) victim = *it;
  }
  return victim;
}

// Makes room for positions [n_computed, n_computed + n): new blocks at the end, and a private
// copy of a shared, partially filled last block. All or nothing.
bool Scheduler::reserve(Sequence& seq, int32_t n, SchedulerOutput& out) {
  const int32_t bs = blocks_.block_size();
  const int32_t n_table = static_cast<int32_t>(seq.block_table.size());
  const int32_t need = (seq.n_computed + n + bs - 1) / bs;
  const int32_t n_new = std::max(0, need - n_table);
  const int32_t last = seq.n_computed / bs;
  const bool cow = seq.n_computed % bs != 0 && last < n_table && blocks_.ref_count(seq.block_table[static_cast<size_t>(last)]) > 1;
  if (n_new + (cow ? 1 : 0) > blocks_.n_free()) return false;
  if (cow) {
    int32_t src = seq.block_table[static_cast<size_t>(last)];
    int32_t dst = *blocks_.allocate();
    out.copies.push_back(BlockCopy{&seq, src, dst, seq.n_computed % bs});
    blocks_.free(src);  // still held by the other sequences
    seq.block_table[static_cast<size_t>(last)] = dst;
  }
  for (int32_t i = 0; i < n_new; ++i) seq.block_table.push_back(*blocks_.allocate());
  return true;
}

void Scheduler::unschedule(RequestState* r, SchedulerOutput& out) {
  for (const ScheduledChunk& c : out.chunks) {
    if (c.request == r) budget_ += c.n_tokens + c.n_draft;
  }
  std::erase_if(out.chunks, [r](const ScheduledChunk& c) { return c.request == r; });
  shape_ = shape_of(out.chunks);
  std::erase_if(out.copies, [r](const BlockCopy& c) {
    return std::any_of(r->seqs.begin(), r->seqs.end(), [&](const auto& s) { return s.get() == c.seq; });
  });
}

void Scheduler::preempt(RequestState* victim, SchedulerOutput& out) {
  unschedule(victim, out);
  for (auto& s : victim->seqs) free_sequence(*s);
  std::erase(running_, victim);
  victim->phase = RequestPhase::kWaiting;
  ++victim->n_preemptions;
  enqueue_waiting(victim);
  out.preempted.push_back(victim);
}

// Takes the request's cached prefix and schedules its first chunks. kNoBlocks / kNoRoom leave
// it waiting with no blocks (kNoRoom: the step has no room left for any prompt token).
Scheduler::Admit Scheduler::admit(RequestState* r, bool more_behind, SchedulerOutput& out) {
  int32_t hits = 0;
  bool scheduled = false;
  for (auto& s : r->seqs) {
    if (s->finished) continue;
    if (s->block_table.empty() && options_.enable_prefix_caching && !r->request.echo_logprobs) {
      hits += take_cached_prefix(*s);
    }
    if (budget_ == 0) continue;  // the rest is scheduled in later steps
    const int32_t n = s->n_uncomputed() == 1 ? 1 : prompt_chunk(*s, more_behind);
    if (n == 0) {
      if (scheduled) continue;
      for (auto& q : r->seqs) free_sequence(*q);
      return Admit::kNoRoom;
    }
    if (!schedule_seq(r, s.get(), n, /*allow_preempt=*/false, out)) {
      unschedule(r, out);
      for (auto& q : r->seqs) free_sequence(*q);
      return Admit::kNoBlocks;
    }
    scheduled = true;
  }
  out.n_cache_hit_tokens += hits;
  if (r->n_preemptions == 0) r->n_cached_prompt = hits;
  return Admit::kAdmitted;
}

int32_t Scheduler::take_cached_prefix(Sequence& seq) {
  const int32_t bs = blocks_.block_size();
  // Never the block holding the last token: its logits must be computed.
  const size_t max_blocks = (seq.tokens.size() - 1) / static_cast<size_t>(bs);
  uint64_t parent = 0;
  for (size_t i = 0; i < max_blocks; ++i) {
    std::span<const int32_t> tokens(seq.tokens.data() + i * static_cast<size_t>(bs), static_cast<size_t>(bs));
    uint64_t h = BlockManager::hash_block(parent, tokens);
    std::optional<int32_t> b = blocks_.acquire_cached(h, parent, tokens);
    if (!b) break;
    seq.block_table.push_back(*b);
    seq.block_hashes.push_back(h);
    parent = h;
  }
  seq.n_computed = static_cast<int32_t>(seq.block_table.size()) * bs;
  return seq.n_computed;
}

bool Scheduler::fits_alone(const RequestState& r) const {
  const int64_t tokens = std::min<int64_t>(static_cast<int64_t>(r.request.prompt.size()) + r.request.max_tokens, options_.n_ctx);
  return (tokens + blocks_.block_size() - 1) / blocks_.block_size() <= blocks_.n_blocks();
}

int64_t Scheduler::commit(const SchedulerOutput& out) {
  int64_t n_prompt_tokens = 0;
  for (const ScheduledChunk& c : out.chunks) {
    Sequence& s = *c.seq;
    n_prompt_tokens += std::max(0, std::min(s.n_computed + c.n_tokens, s.n_prompt) - s.n_computed);
    s.n_computed += c.n_tokens;  // never the draft's: it is not verified yet
    register_full_blocks(s);
  }
  return n_prompt_tokens;
}

// Registers the full blocks of computed (so verified) tokens in the prefix cache.
void Scheduler::register_full_blocks(Sequence& s) {
  if (!options_.enable_prefix_caching) return;
  const int32_t bs = blocks_.block_size();
  while (static_cast<int32_t>(s.block_hashes.size()) < s.n_computed / bs) {
    size_t i = s.block_hashes.size();
    uint64_t parent = i == 0 ? 0 : s.block_hashes[i - 1];
    std::span<const int32_t> tokens(s.tokens.data() + i * static_cast<size_t>(bs), static_cast<size_t>(bs));
    uint64_t h = BlockManager::hash_block(parent, tokens);
    blocks_.register_full(s.block_table[i], h, parent, tokens);
    s.block_hashes.push_back(h);
  }
}

void Scheduler::accept_draft(Sequence& seq, int32_t n_accepted) {
  CHECK(n_accepted >= 0 && seq.n_computed + n_accepted < static_cast<int32_t>(seq.tokens.size()));
  seq.n_computed += n_accepted;
  register_full_blocks(seq);
  const size_t keep = static_cast<size_t>((seq.n_computed + blocks_.block_size() - 1) / blocks_.block_size());
  while (seq.block_table.size() > keep) {
    blocks_.free(seq.block_table.back());
    seq.block_table.pop_back();
  }
}

void Scheduler::fork_blocks(const Sequence& from, Sequence& to) {
  CHECK(to.block_table.empty());
  for (int32_t b : from.block_table) blocks_.retain(b);
  to.block_table = from.block_table;
  to.block_hashes = from.block_hashes;
  to.n_computed = from.n_computed;
}

void Scheduler::free_sequence(Sequence& seq) {
  // Tail first, so the LRU list evicts a prefix's last blocks before its first ones.
  for (auto it = seq.block_table.rbegin(); it != seq.block_table.rend(); ++it) blocks_.free(*it);
  seq.block_table.clear();
  seq.block_hashes.clear();
  seq.n_computed = 0;
  seq.draft.clear();
}

}  // namespace maas
