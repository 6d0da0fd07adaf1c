// engine_spec.cc — speculative decoding with prompt-lookup drafts: proposing a draft after each
// sampled token, and verifying a draft the model ran (see engine.h, EngineOptions).
//
// Verification walks the draft's rows in order. Row j holds the model's logits after the
// sequence's tokens and draft[0 .. j), so it is sampled exactly as plain decoding samples that
// position: the sequence's own Sampler (penalties over the tokens so far, logit bias, its Rng),
// the same bans (min_tokens), then append_token (stop ids, EOS, stop strings, max_tokens,
// logprobs from this row). draft[j] is accepted when the token sampled equals it. For greedy
// rows that is "accept while the argmax equals the draft". For sampled rows it is the
// speculative sampling rule for a deterministic draft — accept x with probability p(x) under
// the final processed distribution, else draw from p with x removed and renormalised — realised
// with one uniform per position (inverse-CDF coupling): the token drawn is x with probability
// p(x), and any other y with probability p(y) = (1 - p(x)) * p(y) / (1 - p(x)). So the
// distribution is exactly plain decoding's, and more: the Rng is used once per emitted token as
// in plain decoding, so a seeded request gives the same tokens with speculation on or off, and
// how much of a draft runs (which may depend on timing, scheduler.h) never changes an output.
// The walk stops at the first token that differs from the draft (it is kept: the model's own
// token), at the end of the draft (the last row gives one more token), or when the sequence
// finishes. So a step with a k-token draft appends 1 .. k + 1 tokens.
// Rollback is bookkeeping only: the KV slots of rejected draft tokens are never counted
// (Scheduler::accept_draft counts the accepted ones and frees blocks left unused); the next
// step overwrites them.
#include "engine/engine_core.h"

namespace maas {

Status validate_speculative_options(const EngineOptions& o) {
  if (o.num_speculative_tokens < 0 || o.num_speculative_tokens > 64) {
    return invalid_argument("num_speculative_tokens must be in [0, 64], got " + std::to_string(o.num_speculative_tokens));
  }
  if (o.ngram_prompt_lookup_min < 1) {
    return invalid_argument("ngram_prompt_lookup_min must be at least 1, got " + std::to_string(o.ngram_prompt_lookup_min));
  }
  if (o.ngram_prompt_lookup_max < o.ngram_prompt_lookup_min || o.ngram_prompt_lookup_max > 64) {
    return invalid_argument("ngram_prompt_lookup_max must be in [ngram_prompt_lookup_min, 64], got " +
                            std::to_string(o.ngram_prompt_lookup_max));
  }
  if (o.spec_max_seqs < 0) return invalid_argument("spec_max_seqs must not be negative");
  return Status::Ok();
}

// The draft for s's next step: never past max_tokens or the context (a step appends at most
// draft + 1 tokens), none for beam search or a finished sequence.
void EngineCore::propose_draft(const RequestState& r, Sequence& s) {
  s.draft.clear();
  if (options_.num_speculative_tokens <= 0 || r.beam() || s.finished) return;
  const int32_t room = std::min(r.request.max_tokens - s.n_generated(), options_.n_ctx - static_cast<int32_t>(s.tokens.size())) - 1;
  const int32_t k = std::min(options_.num_speculative_tokens, room);
  if (k <= 0) return;
  if (!s.proposer) {
    s.proposer = std::make_unique<NgramProposer>(options_.ngram_prompt_lookup_min, options_.ngram_prompt_lookup_max);
  }
  s.draft = s.proposer->propose(s.tokens, k);
}

void EngineCore::verify_draft(RequestState& r, Sequence& s, float* rows, int32_t n_draft) {
  const std::vector<int32_t> draft(s.draft.begin(), s.draft.begin() + n_draft);
  s.draft.clear();
  const size_t n_vocab = static_cast<size_t>(runner_.n_vocab());
  int32_t n_accepted = 0;
  for (int32_t j = 0; j <= n_draft; ++j) {
    const int32_t want = j < n_draft ? draft[static_cast<size_t>(j)] : -1;
    const std::vector<int32_t> banned = banned_tokens(r, s);
    float* row = rows + static_cast<size_t>(j) * n_vocab;
    // response_format: the grammar's state after the tokens appended so far (append_token
    // advances it), so a draft token the grammar refuses is never sampled here.
    if (s.constraint) s.constraint->mask(row, runner_.n_vocab());
    std::span<const int32_t> all(s.tokens);
    SampleResult res = s.sampler->sample(row, runner_.n_vocab(),
                                         all.first(static_cast<size_t>(s.n_prompt)),
                                         all.subspan(static_cast<size_t>(s.n_prompt)), banned);
    append_token(r, s, res);
    if (want >= 0) s.draft_acceptance += 0.2f * ((res.token == want ? 1.0f : 0.0f) - s.draft_acceptance);
    if (res.token != want) break;
    ++n_accepted;
    if (s.finished) break;
  }
  stats_.spec_draft_tokens += n_draft;
  stats_.spec_accepted_tokens += n_accepted;
  if (s.finished) return;  // its blocks are freed already
  scheduler_.accept_draft(s, n_accepted);
  propose_draft(r, s);
}

}  // namespace maas
