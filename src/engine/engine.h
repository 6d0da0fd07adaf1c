// engine.h — the engine core: one thread running step() = schedule → run → sample → update,
// over every active request at once (continuous batching; vLLM v1's EngineCore.step()).
//
// submit() is thread-safe and cheap: it only queues (bounded; ResourceExhausted when full, so
// the server answers 429/503 with Retry-After). The engine thread admits waiting requests
// between steps as KV blocks allow, prefills prompts in chunks of at most the step's token
// budget (so running streams keep getting tokens), shares full prompt blocks between requests
// with the same prefix (prefix caching), preempts the newest request (freeing its blocks, to
// recompute later) when the cache runs out, and finishes a request on EOS / stop token / stop
// string / max_tokens / deadline / cancel(). cancel() takes effect before the next step and
// frees the request's blocks at once. Outputs go to each request's callback on the engine thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "engine/request.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace maas {

// One step as it ran, for metrics.
struct StepReport {
  double seconds = 0;            // schedule + forward pass + sampling + outputs
  double predicted_seconds = 0;  // the cost model's prediction before it ran
  int32_t n_prefill_tokens = 0;  // prompt (and recomputed) tokens
  int32_t n_decode_tokens = 0;   // decode tokens run (one per decoding sequence, plus its draft tokens)
  bool budgeted = false;         // the step-time budget bounded its prompt tokens
  double overrun = 1;            // the cost model's overrun after this step (step_cost.h)
};

inline constexpr double kDefaultStepTimeTarget = 0.2;  // see bench/RESULTS.md (issue 14)

struct EngineOptions {
  int32_t n_ctx = 4096;              // max positions per sequence (<= model's training context)
  int32_t kv_block_size = 16;        // token slots per KV block
  int32_t n_kv_blocks = 0;           // 0: enough for max_num_seqs sequences of n_ctx / 4 on average, at least one full context
  std::optional<KvType> kv_type;     // the cache's element type; nullopt: auto (kv_type_for_backend, kv_cache.h)
  int32_t max_num_seqs = 64;         // sequences running at once
  int32_t max_batch_tokens = 512;    // tokens per step (decode tokens + prefill chunks)
  int32_t max_waiting = 256;         // queued requests beyond which submit() fails
  bool enable_prefix_caching = true;
  // Step-time budget (scheduler.h): while streams decode, prompt tokens join a step only as far
  // as the learned step cost model predicts the step stays within this many seconds (0: off,
  // prompts always at max_batch_tokens). min_prefill_tokens: prompt progress per step when the
  // decodes alone fill it. prefill_share: when the decodes alone take longer than the target,
  // prompts may still add this share of their time. long_prefill_threshold: prompts longer than
  // this share the room.
  double step_time_target_s = kDefaultStepTimeTarget;
  int32_t min_prefill_tokens = 16;
  double prefill_share = 0.25;
  int32_t long_prefill_threshold = 256;
  // Speculative decoding by prompt lookup (engine_spec.cc; vLLM's "ngram" method): up to
  // num_speculative_tokens draft tokens per decoding sequence per step (0: off), proposed from
  // the latest earlier occurrence of the sequence's last ngram_prompt_lookup_max ..
  // ngram_prompt_lookup_min tokens and verified by the model in the same step. Greedy output is
  // the same as without; sampled output keeps its distribution. Beam search never speculates.
  // A draft runs only as far as its tokens are worth their time by the step cost model (a
  // token's chance of being kept, from the sequence's acceptance so far, times a decode token's
  // share of the step, against what it adds to the step; scheduler.h), so a busy batch drafts
  // hardly; a lone stream always drafts whole; spec_draft_by_cost false runs every draft whole.
  // spec_max_seqs: drafts run only while at most this many sequences decode (0: always).
  // Neither changes any output, only how many tokens a step yields (engine_spec.cc).
  int32_t num_speculative_tokens = 0;
  int32_t ngram_prompt_lookup_max = 4;
  int32_t ngram_prompt_lookup_min = 1;
  bool spec_draft_by_cost = true;
  int32_t spec_max_seqs = 0;
  // Called on the engine thread after every step that ran (metrics); must be quick.
  std::function<void(const StepReport&)> on_step;
  // Tests (fault injection): called on the engine thread for every request that gets outputs in
  // a step; an exception thrown here fails that request only (finish "error", Internal).
  std::function<void(const EngineRequest&)> fault_hook;
};

// Counters for /metrics and the tests (a consistent snapshot, safe from any thread).
struct EngineStats {
  int32_t n_running = 0;             // requests with sequences in the batch
  int32_t n_waiting = 0;             // queued, not yet admitted (or preempted)
  int32_t n_kv_blocks_total = 0;
  int64_t kv_cache_bytes = 0;        // the cache's memory (its element type's bytes: KvCache::bytes)
  int32_t n_kv_blocks_used = 0;      // blocks held by sequences (vLLM's usage: cached free blocks are free)
  int32_t n_kv_blocks_cached = 0;    // free blocks still holding a reusable prefix (evicted on demand)
  int64_t prompt_tokens_total = 0;   // prompt tokens computed (prefix-cache hits excluded)
  int64_t generation_tokens_total = 0;
  int64_t prefix_cache_hit_tokens = 0;
  int64_t n_preemptions = 0;
  int64_t requests_finished = 0;
  int64_t steps = 0;
  int64_t spec_draft_tokens = 0;     // speculative draft tokens run through the model
  int64_t spec_accepted_tokens = 0;  // of those, verified and kept
};

// InvalidArgument when the speculative decoding options are out of range (checked at startup).
Status validate_speculative_options(const EngineOptions& options);

class Engine {
 public:
  // The model and tokenizer must outlive the engine; one engine at a time drives a model (its
  // backend computes with the threads the model was loaded with).
  Engine(Model& model, const Tokenizer& tokenizer, EngineOptions options);
  ~Engine();  // stops the thread; unfinished requests get a final output with finish "cancelled"

  void start();
  // Queues a request. ResourceExhausted when the queue is full; InvalidArgument when the
  // request cannot fit the context (defence in depth: the API layer validates first).
  Status submit(EngineRequest request, OutputCallback on_output);
  // Cancels a queued or running request (idempotent; unknown ids ignored). Its callback gets a
  // final output with finish_reason "cancelled" (error ok). A request whose deadline passes ends
  // the same way, with error DeadlineExceeded (the API answers 408). Errors inside one request
  // (or an exception from its callback, which cancels it) end only that request: finish "error".
  void cancel(const std::string& request_id);
  EngineStats stats() const;
  const EngineOptions& options() const;
  bool healthy() const;  // false after an internal failure stopped the loop

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maas
