// engine_beam.cc — beam search over the paged cache (vLLM's `beam_search`, on ref-counted
// blocks instead of re-submitted prompts).
//
// Width W = max(n, best_of); temperature 0 (the sampler's processed logprobs: logit_bias,
// penalties and min_tokens bans apply). Each step every live beam proposes its 2W most likely
// next tokens; a proposal ending the sequence (EOS unless ignore_eos, or a stop token id) goes
// to the completed list, the others are ranked by cumulative logprob and the best W become the
// next beams: a beam with one child grows in place, a beam with several is forked (its blocks
// gain holders; the partially filled last block is copied on write), a beam with none is freed.
// Beams reaching max_tokens (or the context) complete with "length". The result is the n best
// completed beams by vLLM's length-normalised score
//     score = cumulative_logprob / L,   L = prompt + generated tokens, minus 1 if the last is EOS
// (length_penalty 1.0). Stop strings are applied to the chosen beams' text at the end (a match
// cuts the text and makes finish "stop"); they do not steer the search. Beam search is never
// streamed: the request gets one final output.
#include <algorithm>
#include <cmath>

#include "engine/engine_core.h"

namespace maas {
namespace {
double beam_score(const Sequence& s, bool last_is_eos) {
  double len = static_cast<double>(s.tokens.size()) - (last_is_eos ? 1.0 : 0.0);
  return s.cum_logprob / std::max(1.0, len);
}
}  // namespace

void EngineCore::beam_candidates(RequestState& r, Sequence& s, float* logits) {
  std::vector<int32_t> banned = banned_tokens(r, s);
  std::span<const int32_t> all(s.tokens);
  SampleResult res = s.sampler->sample(logits, runner_.n_vocab(), all.first(static_cast<size_t>(s.n_prompt)),
                                       all.subspan(static_cast<size_t>(s.n_prompt)), banned);
  s.beam_candidates = std::move(res.top);
  s.has_candidates = true;
}

// Every live beam's proposals; those ending the sequence go straight to r.completed.
std::vector<EngineCore::BeamProposal> EngineCore::beam_proposals(RequestState& r) {
  const EngineRequest& q = r.request;
  std::vector<BeamProposal> cands;
  for (size_t p = 0; p < r.seqs.size(); ++p) {
    const Sequence& s = *r.seqs[p];
    for (const TokenLogprob& c : s.beam_candidates) {
      if (!std::isfinite(c.logprob)) continue;
      const bool stop_id = std::find(q.stop_token_ids.begin(), q.stop_token_ids.end(), c.id) != q.stop_token_ids.end();
      if ((!q.ignore_eos && tokenizer_.is_eog(c.id)) || stop_id) {
        auto done = make_sequence(r, static_cast<int32_t>(r.completed.size()));
        done->tokens = s.tokens;
        done->tokens.push_back(c.id);
        done->cum_logprob = s.cum_logprob + c.logprob;
        done->finished = true;
        done->finish_reason = "stop";
        r.completed.push_back(std::move(done));
      } else {
        cands.push_back(BeamProposal{p, c.id, c.logprob, s.cum_logprob + c.logprob});
      }
    }
  }
  return cands;
}

// The child beam for proposal c: the parent itself when this is its last child, else a fork.
std::unique_ptr<Sequence> EngineCore::grow_beam(RequestState& r, std::unique_ptr<Sequence>& parent, bool last_child,
                                                const BeamProposal& c) {
  std::unique_ptr<Sequence> child;
  if (last_child) {
    child = std::move(parent);
  } else {
    child = make_sequence(r, parent->index);
    child->tokens = parent->tokens;
    child->accumulated = parent->accumulated;
    scheduler_.fork_blocks(*parent, *child);
  }
  child->tokens.push_back(c.token);
  child->cum_logprob = c.cum;
  child->has_candidates = false;
  ++stats_.generation_tokens_total;
  if (r.request.logprobs >= 0) {
    child->accumulated.logprobs.push_back(TokenLogprobs{c.token, tokenizer_.token_to_piece(c.token), c.logprob, {}});
  }
  return child;
}

void EngineCore::beam_select(RequestState& r) {
  if (r.seqs.empty()) return;
  for (const auto& s : r.seqs) {
    if (!s->has_candidates) return;  // some beam has not been computed yet this round
  }
  std::vector<BeamProposal> cands = beam_proposals(r);
  std::stable_sort(cands.begin(), cands.end(), [](const BeamProposal& a, const BeamProposal& b) { return a.cum > b.cum; });
  if (static_cast<int32_t>(cands.size()) > r.width) cands.resize(static_cast<size_t>(r.width));
  std::vector<int32_t> n_children(r.seqs.size(), 0);
  for (const BeamProposal& c : cands) ++n_children[c.parent];
  std::vector<std::unique_ptr<Sequence>> next;
  for (const BeamProposal& c : cands) {
    std::unique_ptr<Sequence> child = grow_beam(r, r.seqs[c.parent], --n_children[c.parent] == 0, c);
    if (child->n_generated() >= r.request.max_tokens || static_cast<int32_t>(child->tokens.size()) >= options_.n_ctx) {
      child->finished = true;
      child->finish_reason = "length";
      scheduler_.free_sequence(*child);
      r.completed.push_back(std::move(child));
    } else {
      next.push_back(std::move(child));
    }
  }
  for (auto& s : r.seqs) {
    if (s) scheduler_.free_sequence(*s);  // beams without children
  }
  r.seqs = std::move(next);
}

std::vector<Sequence*> EngineCore::beam_results(RequestState& r) {
  const EngineRequest& q = r.request;
  std::vector<std::pair<double, Sequence*>> pool;
  for (auto& s : r.completed) pool.emplace_back(beam_score(*s, s->finish_reason == "stop"), s.get());
  for (auto& s : r.seqs) pool.emplace_back(beam_score(*s, false), s.get());
  std::stable_sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<int32_t>(pool.size()) > q.n) pool.resize(static_cast<size_t>(q.n));
  std::vector<Sequence*> out;
  for (auto& [score, s] : pool) {
    // The text of the beam's tokens, with stop strings and special tokens handled as usual.
    s->output = std::make_unique<OutputProcessor>(
        tokenizer_, OutputOptions{q.stop, q.include_stop_str_in_output, q.skip_special_tokens});
    for (int32_t i = s->n_prompt; i < static_cast<int32_t>(s->tokens.size()); ++i) {
      const int32_t t = s->tokens[static_cast<size_t>(i)];
      const bool eog = !q.ignore_eos && tokenizer_.is_eog(t);
      const bool emit = !eog && !(tokenizer_.is_special(t) &&
                                  std::find(q.stop_token_ids.begin(), q.stop_token_ids.end(), t) != q.stop_token_ids.end());
      if (s->output->push(t, emit, i - s->n_prompt + 1 >= q.min_tokens)) {
        s->finish_reason = "stop";
        break;
      }
    }
    s->output->finish();
    out.push_back(s);
  }
  return out;
}

}  // namespace maas
