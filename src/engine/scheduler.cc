// scheduler.cc — token budget, chunked prefill, admission, prefix reuse, preemption.
#include "engine/scheduler.h"

#include <algorithm>
#include <span>

#include "base/check.h"

namespace maas {

Scheduler::Scheduler(SchedulerOptions options, BlockManager& blocks) : options_(options), blocks_(blocks) {}

void Scheduler::add(RequestState* request) {
  request->phase = RequestPhase::kWaiting;
  waiting_.push_back(request);
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
  schedule_running(/*decodes=*/true, out);
  schedule_running(/*decodes=*/false, out);
  while (!waiting_.empty() && budget_ > 0) {
    RequestState* r = waiting_.front();
    if (!fits_alone(*r)) {
      waiting_.pop_front();
      out.failed.push_back(r);
      continue;
    }
    int32_t width = r->forked && !r->beam() ? static_cast<int32_t>(r->seqs.size()) : r->width;
    if (!running_.empty() && n_running_seqs() + width > options_.max_num_seqs) break;
    if (!admit(r, out)) {
      if (running_.empty()) {  // the whole cache is free and it still does not fit
        waiting_.pop_front();
        out.failed.push_back(r);
        continue;
      }
      break;
    }
    waiting_.pop_front();
    running_.push_back(r);
    r->phase = RequestPhase::kRunning;
  }
  return out;
}

void Scheduler::schedule_running(bool decodes, SchedulerOutput& out) {
  for (size_t i = 0; i < running_.size(); ++i) {
    RequestState* r = running_[i];
    for (auto& s : r->seqs) {
      if (s->finished || s->n_uncomputed() == 0 || (s->n_uncomputed() == 1) != decodes) continue;
      if (budget_ == 0) return;
      if (!schedule_seq(r, s.get(), /*allow_preempt=*/true, out)) break;  // r left the running set
    }
  }
}

// Gives `seq` a chunk of its uncomputed tokens. With allow_preempt, frees blocks by preempting
// the newest running requests; returns false when `r` itself was preempted or failed.
bool Scheduler::schedule_seq(RequestState* r, Sequence* seq, bool allow_preempt, SchedulerOutput& out) {
  const int32_t n = std::min(seq->n_uncomputed(), budget_);
  while (!reserve(*seq, n, out)) {
    if (!allow_preempt) return false;
    RequestState* victim = running_.back();
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
  out.chunks.push_back(ScheduledChunk{r, seq, n, all_logits});
  budget_ -= n;
  return true;
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
    if (c.request == r) budget_ += c.n_tokens;
  }
  std::erase_if(out.chunks, [r](const ScheduledChunk& c) { return c.request == r; });
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
  waiting_.push_front(victim);
  out.preempted.push_back(victim);
}

bool Scheduler::admit(RequestState* r, SchedulerOutput& out) {
  int32_t hits = 0;
  for (auto& s : r->seqs) {
    if (s->finished) continue;
    if (s->block_table.empty() && options_.enable_prefix_caching && !r->request.echo_logprobs) {
      hits += take_cached_prefix(*s);
    }
    if (budget_ == 0) continue;  // the rest is scheduled in later steps
    if (!schedule_seq(r, s.get(), /*allow_preempt=*/false, out)) {
      unschedule(r, out);
      for (auto& q : r->seqs) free_sequence(*q);
      return false;
    }
  }
  out.n_cache_hit_tokens += hits;
  if (r->n_preemptions == 0) r->n_cached_prompt = hits;
  return true;
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
  const int32_t bs = blocks_.block_size();
  int64_t n_prompt_tokens = 0;
  for (const ScheduledChunk& c : out.chunks) {
    Sequence& s = *c.seq;
    n_prompt_tokens += std::max(0, std::min(s.n_computed + c.n_tokens, s.n_prompt) - s.n_computed);
    s.n_computed += c.n_tokens;
    if (!options_.enable_prefix_caching) continue;
    while (static_cast<int32_t>(s.block_hashes.size()) < s.n_computed / bs) {
      size_t i = s.block_hashes.size();
      uint64_t parent = i == 0 ? 0 : s.block_hashes[i - 1];
      std::span<const int32_t> tokens(s.tokens.data() + i * static_cast<size_t>(bs), static_cast<size_t>(bs));
      uint64_t h = BlockManager::hash_block(parent, tokens);
      blocks_.register_full(s.block_table[i], h, parent, tokens);
      s.block_hashes.push_back(h);
    }
  }
  return n_prompt_tokens;
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
}

}  // namespace maas
