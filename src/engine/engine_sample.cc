// engine_sample.cc — after the forward pass: prompt logprobs, sampling, forking a request's
// sequences from its prompt, stop conditions.
//
// Stop conditions, checked after each sampled token in vLLM's order: below min_tokens nothing
// but the length limit ends a sequence (EOS and stop_token_ids are also banned from sampling);
// then an end-of-generation token (unless ignore_eos; never part of the text), a stop token id
// (in the text unless it is a special token), a stop string (cut from the text), max_tokens or
// the context length ("length").
#include <algorithm>
#include <cmath>

#include "engine/engine_core.h"
#include "sampling/logprobs.h"

namespace maas {

void EngineCore::process_chunk(SchedulerOutput& out, size_t i) {
  const ScheduledChunk& c = out.chunks[i];
  RequestState& r = *c.request;
  Sequence& s = *c.seq;
  float* rows = runner_.logits(i);
  if (c.all_logits) collect_prompt_logprobs(r, c, rows);
  if (s.n_uncomputed() > 0 || s.finished) return;  // more prompt to compute
  if (c.n_draft > 0) {
    verify_draft(r, s, rows, c.n_draft);
    return;
  }
  float* last = rows + (c.all_logits ? static_cast<size_t>(c.n_tokens - 1) * runner_.n_vocab() : 0);
  if (r.beam()) {
    beam_candidates(r, s, last);
  } else if (!r.forked && r.width > 1) {
    fork_and_sample(r, last);
  } else {
    r.forked = true;
    sample_sequence(r, s, last);
  }
}

// Rows of a chunk computed with all_logits: row j predicts the token at position p0 + j + 1.
void EngineCore::collect_prompt_logprobs(RequestState& r, const ScheduledChunk& c, const float* rows) {
  const Sequence& s = *c.seq;
  const int32_t n_vocab = runner_.n_vocab();
  const int32_t p0 = s.n_computed - c.n_tokens;  // committed already
  const int32_t k = std::max(r.request.logprobs, 0);
  for (int32_t j = 0; j < c.n_tokens; ++j) {
    const int32_t pos = p0 + j + 1;
    if (pos >= s.n_prompt) break;
    const float* row = rows + static_cast<size_t>(j) * n_vocab;
    const float max_logit = *std::max_element(row, row + n_vocab);
    const double norm = log_normalizer(row, n_vocab, max_logit);
    const int32_t id = s.tokens[static_cast<size_t>(pos)];
    TokenLogprobs lp{id, tokenizer_.token_to_piece(id), static_cast<float>(row[id] - norm), top_logprobs(row, n_vocab, k, norm)};
    if (static_cast<int32_t>(r.prompt_logprobs.size()) > pos) {
      r.prompt_logprobs[static_cast<size_t>(pos)] = std::move(lp);  // recomputed after preemption
    } else {
      r.prompt_logprobs.push_back(std::move(lp));
    }
  }
}

std::vector<int32_t> EngineCore::banned_tokens(const RequestState& r, const Sequence& s) const {
  std::vector<int32_t> banned;
  if (s.n_generated() >= r.request.min_tokens) return banned;
  if (!r.request.ignore_eos) banned = eog_ids_;
  banned.insert(banned.end(), r.request.stop_token_ids.begin(), r.request.stop_token_ids.end());
  return banned;
}

void EngineCore::sample_sequence(RequestState& r, Sequence& s, float* logits) {
  std::vector<int32_t> banned = banned_tokens(r, s);
  if (s.constraint) s.constraint->mask(logits, runner_.n_vocab());
  std::span<const int32_t> all(s.tokens);
  SampleResult res = s.sampler->sample(logits, runner_.n_vocab(), all.first(static_cast<size_t>(s.n_prompt)),
                                       all.subspan(static_cast<size_t>(s.n_prompt)), banned);
  append_token(r, s, res);
  propose_draft(r, s);
}

// The prompt is computed: make the other width - 1 sequences share its blocks, then sample
// every sequence from the same logits (each with its own seed).
void EngineCore::fork_and_sample(RequestState& r, const float* logits) {
  const size_t n_vocab = static_cast<size_t>(runner_.n_vocab());
  Sequence& first = *r.seqs[0];
  for (int32_t i = 1; i < r.width; ++i) {
    std::unique_ptr<Sequence> s = make_sequence(r, i);
    scheduler_.fork_blocks(first, *s);
    r.seqs.push_back(std::move(s));
  }
  r.forked = true;
  scratch_.resize(n_vocab);
  for (auto& s : r.seqs) {
    std::copy_n(logits, n_vocab, scratch_.begin());
    sample_sequence(r, *s, scratch_.data());
  }
}

void EngineCore::append_token(RequestState& r, Sequence& s, const SampleResult& res) {
  const EngineRequest& q = r.request;
  const int32_t t = res.token;
  // A token the grammar refuses is sampled only when the mask left nothing (min_tokens banning
  // the end of a finished value): the sequence ends there, without it.
  if (s.constraint && !s.constraint->accept(t)) {
    finish_sequence(s, "stop");
    return;
  }
  s.tokens.push_back(t);
  s.cum_logprob += res.logprob;
  ++stats_.generation_tokens_total;
  if (q.logprobs >= 0) {
    std::vector<TokenLogprob> top = res.top;
    if (static_cast<int32_t>(top.size()) > q.logprobs) top.resize(static_cast<size_t>(q.logprobs));
    s.output->add_logprobs(TokenLogprobs{t, tokenizer_.token_to_piece(t), res.logprob, std::move(top)});
  }
  const bool checks = s.n_generated() >= q.min_tokens;
  const bool eog = !q.ignore_eos && tokenizer_.is_eog(t);
  const bool stop_id = std::find(q.stop_token_ids.begin(), q.stop_token_ids.end(), t) != q.stop_token_ids.end();
  if (checks && eog) {
    finish_sequence(s, "stop");
  } else if (checks && stop_id) {
    s.output->push(t, !tokenizer_.is_special(t), false);
    finish_sequence(s, "stop");
  } else if (s.output->push(t, true, checks)) {
    finish_sequence(s, "stop");
  } else if (s.constraint && s.constraint->closed()) {
    finish_sequence(s, "stop");  // the JSON value is whole: nothing but an end may follow
  } else if (s.n_generated() >= q.max_tokens || static_cast<int32_t>(s.tokens.size()) >= options_.n_ctx) {
    finish_sequence(s, "length");
  }
}

}  // namespace maas
