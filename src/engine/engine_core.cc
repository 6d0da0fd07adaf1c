// engine_core.cc — the step loop body, request lifecycle and delivery (see engine_core.h).
// Sampling and forks are in engine_sample.cc, beam search in engine_beam.cc.
#include "engine/engine_core.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "base/log.h"

namespace maas {

EngineOptions resolve_engine_options(const EngineOptions& o, const LlamaConfig& config) {
  EngineOptions r = o;
  r.n_ctx = std::max(1, std::min(o.n_ctx, config.n_ctx_train));
  r.kv_block_size = std::max(1, o.kv_block_size);
  r.max_num_seqs = std::max(1, o.max_num_seqs);
  r.max_batch_tokens = std::max(1, o.max_batch_tokens);
  r.step_time_target_s = std::max(0.0, o.step_time_target_s);
  r.min_prefill_tokens = std::max(1, o.min_prefill_tokens);
  r.prefill_share = std::max(0.0, o.prefill_share);
  if (r.n_kv_blocks <= 0) {
    const int32_t bs = r.kv_block_size;
    const int32_t per_ctx = (r.n_ctx + bs - 1) / bs;
    const int32_t per_seq = (r.n_ctx / 4 + bs - 1) / bs;
    r.n_kv_blocks = std::max(per_ctx, r.max_num_seqs * per_seq);
  }
  return r;
}

namespace {
std::unique_ptr<KvCache> allocate_cache(Model& model, const EngineOptions& o) {
  const KvType type = kv_type_for_backend(o.kv_type, model.backend().name());
  auto cache = model.allocate_kv_cache({.n_blocks = o.n_kv_blocks, .block_size = o.kv_block_size, .type = type});
  // The worker checks the type on its model first (WorkerServer::load); then only OOM fails.
  CHECK_MSG(cache.ok(), cache.status().message().c_str());
  return std::move(*cache);
}
}  // namespace

EngineCore::EngineCore(Model& model, const Tokenizer& tokenizer, const EngineOptions& resolved)
    : model_(model),
      tokenizer_(tokenizer),
      options_(resolved),
      cache_(allocate_cache(model, resolved)),
      blocks_(resolved.n_kv_blocks, resolved.kv_block_size),
      scheduler_(SchedulerOptions{resolved.max_num_seqs, resolved.max_batch_tokens, resolved.n_ctx,
                                  resolved.enable_prefix_caching, resolved.step_time_target_s,
                                  resolved.min_prefill_tokens, resolved.prefill_share,
                                  resolved.long_prefill_threshold, resolved.spec_max_seqs, resolved.spec_draft_by_cost},
                 blocks_, &cost_model_),
      runner_(model, *cache_) {
  const Status spec = validate_speculative_options(resolved);  // callers validate user input first
  CHECK_MSG(spec.ok(), spec.message().c_str());
  for (int32_t id = 0; id < tokenizer.n_vocab(); ++id) {
    if (tokenizer.is_eog(id)) eog_ids_.push_back(id);
  }
  stats_.n_kv_blocks_total = resolved.n_kv_blocks;
  stats_.kv_cache_bytes = static_cast<int64_t>(cache_->bytes());
}

Status EngineCore::validate(const EngineRequest& q) const {
  const int32_t n_vocab = model_.config().n_vocab;
  if (q.prompt.empty()) return invalid_argument("the prompt is empty");
  for (int32_t id : q.prompt) {
    if (id < 0 || id >= n_vocab) return invalid_argument("prompt token id " + std::to_string(id) + " is out of vocabulary");
  }
  for (int32_t id : q.stop_token_ids) {
    if (id < 0 || id >= n_vocab) return invalid_argument("stop_token_ids: " + std::to_string(id) + " is out of vocabulary");
  }
  if (q.max_tokens < 1) return invalid_argument("max_tokens must be at least 1");
  if (q.min_tokens < 0) return invalid_argument("min_tokens must not be negative");
  if (q.n < 1 || q.n > 128) return invalid_argument("n must be in [1, 128]");
  if (q.best_of < 1 || q.best_of > 128) return invalid_argument("best_of must be in [1, 128]");
  if (q.json_grammar && q.use_beam_search) return invalid_argument("beam search cannot follow a response_format");
  if (static_cast<int64_t>(q.prompt.size()) + q.max_tokens > options_.n_ctx) {
    return invalid_argument("the prompt (" + std::to_string(q.prompt.size()) + " tokens) plus max_tokens (" +
                            std::to_string(q.max_tokens) + ") exceeds the context of " + std::to_string(options_.n_ctx));
  }
  return validate_sampling_params(q.sampling, n_vocab);
}

std::shared_ptr<const ConstraintVocab> EngineCore::constraint_vocab() {
  if (!constraint_vocab_) {
    const int32_t n = tokenizer_.n_vocab();
    std::vector<std::string> pieces(static_cast<size_t>(n));
    std::vector<bool> usable(static_cast<size_t>(n));
    for (int32_t id = 0; id < n; ++id) {
      pieces[static_cast<size_t>(id)] = tokenizer_.token_to_piece(id);
      usable[static_cast<size_t>(id)] = !tokenizer_.is_special(id) && !tokenizer_.is_eog(id);
    }
    constraint_vocab_ = std::make_shared<ConstraintVocab>(std::move(pieces), usable, eog_ids_);
  }
  return constraint_vocab_;
}

std::unique_ptr<Sequence> EngineCore::make_sequence(const RequestState& r, int32_t index) {
  auto s = std::make_unique<Sequence>();
  s->index = index;
  s->tokens = r.request.prompt;
  s->n_prompt = static_cast<int32_t>(r.request.prompt.size());
  SamplingParams p = r.request.sampling;
  if (p.seed) p.seed = *p.seed + static_cast<uint64_t>(index);
  if (r.beam()) {
    p.temperature = 0.0f;
    p.n_logprobs = 2 * r.width;
  } else if (r.request.best_of > r.request.n) {
    p.n_logprobs = std::max(r.request.logprobs, 0);  // mean logprob ranks the sequences
  } else {
    p.n_logprobs = r.request.logprobs;
  }
  s->sampler = std::make_unique<Sampler>(p);
  s->output = std::make_unique<OutputProcessor>(
      tokenizer_, OutputOptions{r.request.stop, r.request.include_stop_str_in_output, r.request.skip_special_tokens});
  s->accumulated.index = index;
  if (r.request.json_grammar) s->constraint = std::make_unique<JsonConstraint>(r.request.json_grammar, constraint_vocab());
  return s;
}

void EngineCore::add(EngineRequest request, OutputCallback on_output) {
  auto r = std::make_unique<RequestState>();
  r->arrival = next_arrival_++;
  r->request = std::move(request);
  r->on_output = std::make_shared<OutputCallback>(std::move(on_output));
  r->width = std::max(r->request.n, r->request.best_of);
  if (r->request.echo_logprobs) {
    const int32_t first = r->request.prompt[0];
    r->prompt_logprobs.push_back(TokenLogprobs{first, tokenizer_.token_to_piece(first), std::nanf(""), {}});
  }
  r->seqs.push_back(make_sequence(*r, 0));
  RequestState* raw = r.get();
  requests_[r->arrival] = std::move(r);
  if (Status s = validate(raw->request); !s.ok()) {
    finish_request(*raw, "error", s);
    return;
  }
  scheduler_.add(raw);
}

void EngineCore::cancel(const std::string& request_id) {
  for (auto& [arrival, r] : requests_) {
    if (r->request.id == request_id) r->cancel_requested = true;
  }
}

void EngineCore::cancel_all() {
  std::vector<RequestState*> all;
  for (auto& [arrival, r] : requests_) all.push_back(r.get());
  for (RequestState* r : all) finish_request(*r, "cancelled", Status::Ok());
}

void EngineCore::end_expired() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<RequestState*, Status>> ending;
  for (auto& [arrival, r] : requests_) {
    if (r->cancel_requested) {
      ending.emplace_back(r.get(), Status::Ok());
    } else if (r->request.deadline <= now) {
      ending.emplace_back(r.get(), Status(StatusCode::kDeadlineExceeded, "the request's deadline passed"));
    }
  }
  for (auto& [r, status] : ending) finish_request(*r, "cancelled", status);
}

void EngineCore::step() {
  end_expired();
  if (requests_.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  SchedulerOutput out = scheduler_.schedule();
  stats_.n_preemptions += static_cast<int64_t>(out.preempted.size());
  for (RequestState* r : out.failed) {
    finish_request(*r, "error", resource_exhausted("the request needs more KV cache blocks than the engine has"));
  }
  if (out.empty()) return;
  const double predicted = cost_model_.predict(out.shape);
  if (!run_step(out)) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cost_model_.observe(out.shape, seconds);
  LOG_DEBUG("step: %d decode + %d prompt tokens, %d rows, %lld keys: %.1f ms (predicted %.1f)%s", out.shape.n_decode,
            out.shape.n_prefill, out.shape.n_rows, static_cast<long long>(out.shape.n_attend), seconds * 1e3,
            predicted * 1e3, out.budgeted ? " budgeted" : "");
  if (options_.on_step) {
    options_.on_step(StepReport{seconds, predicted, out.shape.n_prefill, out.shape.n_decode, out.budgeted,
                                cost_model_.overrun()});
  }
}

bool EngineCore::run_step(SchedulerOutput& out) {
  try {
    runner_.run(out);
  } catch (const std::exception& e) {
    // The forward pass failed for the whole batch: fail its requests, keep serving others.
    std::vector<RequestState*> batch;
    for (const ScheduledChunk& c : out.chunks) {
      if (std::find(batch.begin(), batch.end(), c.request) == batch.end()) batch.push_back(c.request);
    }
    for (RequestState* r : batch) finish_request(*r, "error", internal_error(std::string("forward pass: ") + e.what()));
    return false;
  }
  ++stats_.steps;
  stats_.prompt_tokens_total += scheduler_.commit(out);
  stats_.prefix_cache_hit_tokens += out.n_cache_hit_tokens;
  std::vector<RequestState*> touched;
  for (size_t i = 0; i < out.chunks.size(); ++i) {
    RequestState* r = out.chunks[i].request;
    if (std::find(touched.begin(), touched.end(), r) == touched.end()) touched.push_back(r);
    if (r->failure) continue;
    try {
      if (i == 0 || out.chunks[i - 1].request != r) {
        if (options_.fault_hook) options_.fault_hook(r->request);
      }
      process_chunk(out, i);
    } catch (const std::exception& e) {
      r->failure = internal_error(std::string("request failed: ") + e.what());
    }
  }
  for (RequestState* r : touched) {
    if (!r->failure && r->beam()) {
      try {
        beam_select(*r);
      } catch (const std::exception& e) {
        r->failure = internal_error(std::string("beam search: ") + e.what());
      }
    }
    if (r->failure) {
      finish_request(*r, "error", *r->failure);
    } else if (r->all_finished() && (!r->beam() || r->seqs.empty())) {
      deliver_final(*r, Status::Ok());
      forget(*r);
    } else {
      deliver_progress(*r);
    }
  }
  return true;
}

void EngineCore::finish_sequence(Sequence& s, const std::string& reason) {
  if (s.finished) return;
  s.finished = true;
  s.finish_reason = reason;
  s.output->finish();
  scheduler_.free_sequence(s);
}

void EngineCore::finish_request(RequestState& r, const std::string& reason, Status error) {
  for (auto& s : r.seqs) finish_sequence(*s, reason);
  deliver_final(r, std::move(error));
  forget(r);
}

void EngineCore::forget(RequestState& r) {
  scheduler_.remove(&r);
  ++stats_.requests_finished;
  requests_.erase(r.arrival);  // destroys r
}

EngineStats EngineCore::stats() const {
  EngineStats s = stats_;
  s.n_running = static_cast<int32_t>(scheduler_.running().size());
  s.n_waiting = static_cast<int32_t>(scheduler_.waiting().size());
  s.n_kv_blocks_total = blocks_.n_blocks();
  s.n_kv_blocks_used = blocks_.n_used();
  s.n_kv_blocks_cached = blocks_.n_cached_free();
  return s;
}

}  // namespace maas
