// engine_deliver.cc — building the RequestOutput values a request's callback receives.
//
// Streaming: after each step one output with every sequence's new text (and logprobs); a
// choice's finish_reason is sent exactly once. Non-streaming: text accumulates per sequence and
// one final output carries each choice's full text; with best_of > n the n sequences with the
// highest mean token logprob are returned (re-indexed 0..n-1, best first; ties keep the
// lower original index), with beam search the n best beams (engine_beam.cc).
#include <algorithm>

#include "base/log.h"
#include "engine/engine_core.h"

namespace maas {
namespace {
void append(SequenceDelta& into, SequenceDelta&& from) {
  into.text += from.text;
  for (TokenLogprobs& lp : from.logprobs) into.logprobs.push_back(std::move(lp));
}

double mean_logprob(const Sequence& s) {
  return s.n_generated() > 0 ? s.cum_logprob / s.n_generated() : -1e30;
}
}  // namespace

void EngineCore::call(RequestState& r, RequestOutput&& out) {
  if (!r.on_output || !*r.on_output) return;
  pending_.push_back(PendingOutput{r.on_output, std::move(out), r.request.id});
}

void EngineCore::deliver_progress(RequestState& r) {
  if (!r.streaming()) {
    for (auto& s : r.seqs) {
      SequenceDelta d;
      s->output->take(&d);
      append(s->accumulated, std::move(d));
    }
    return;
  }
  RequestOutput out;
  out.id = r.request.id;
  out.prompt_tokens = static_cast<int32_t>(r.request.prompt.size());
  for (auto& s : r.seqs) {
    SequenceDelta d;
    d.index = s->index;
    s->output->take(&d);
    if (s->finished && !s->finish_sent) {
      d.finish_reason = s->finish_reason;
      s->finish_sent = true;
    }
    if (!d.text.empty() || !d.logprobs.empty() || d.finish_reason) out.deltas.push_back(std::move(d));
    out.completion_tokens += s->n_generated();
  }
  if (!out.deltas.empty()) call(r, std::move(out));
}

std::vector<Sequence*> EngineCore::final_order(RequestState& r) {
  if (r.beam()) return beam_results(r);
  std::vector<Sequence*> order;
  for (auto& s : r.seqs) order.push_back(s.get());
  if (r.request.best_of > r.request.n) {
    std::stable_sort(order.begin(), order.end(),
                     [](const Sequence* a, const Sequence* b) { return mean_logprob(*a) > mean_logprob(*b); });
  }
  if (static_cast<int32_t>(order.size()) > r.request.n) order.resize(static_cast<size_t>(r.request.n));
  return order;
}

void EngineCore::deliver_final(RequestState& r, Status error) {
  RequestOutput out;
  out.id = r.request.id;
  out.finished = true;
  out.error = std::move(error);
  out.prompt_tokens = static_cast<int32_t>(r.request.prompt.size());
  out.cached_prompt_tokens = r.n_cached_prompt;
  std::string reason = r.seqs.empty() ? "stop" : r.seqs[0]->finish_reason;
  if (r.streaming()) {
    for (auto& s : r.seqs) {
      SequenceDelta d;
      d.index = s->index;
      s->output->take(&d);
      if (!s->finish_sent) d.finish_reason = s->finish_reason;
      s->finish_sent = true;
      if (!d.text.empty() || !d.logprobs.empty() || d.finish_reason) out.deltas.push_back(std::move(d));
      out.completion_tokens += s->n_generated();
    }
  } else {
    for (auto& s : r.seqs) out.completion_tokens += s->n_generated();
    std::vector<Sequence*> order = final_order(r);
    if (r.beam()) {
      out.completion_tokens = 0;
      for (Sequence* s : order) out.completion_tokens += s->n_generated();
    }
    for (size_t k = 0; k < order.size(); ++k) {
      Sequence& s = *order[k];
      SequenceDelta rest;
      s.output->take(&rest);
      append(s.accumulated, std::move(rest));
      SequenceDelta d = std::move(s.accumulated);
      d.index = static_cast<int32_t>(k);
      d.finish_reason = s.finish_reason;
      out.deltas.push_back(std::move(d));
    }
  }
  // Before the prompt was forked (cancelled or failed early) the other choices are empty.
  for (int32_t k = static_cast<int32_t>(r.seqs.size()); k < r.request.n && !r.beam(); ++k) {
    SequenceDelta d;
    d.index = k;
    d.finish_reason = reason;
    out.deltas.push_back(std::move(d));
  }
  if (r.request.echo_logprobs && out.error.ok()) out.prompt_logprobs = std::move(r.prompt_logprobs);
  call(r, std::move(out));
}

}  // namespace maas
