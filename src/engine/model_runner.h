// model_runner.h — runs one scheduled step on the model: block copies, one batched forward
// pass, and where each chunk's logits are. It makes no policy (house rule 6): the scheduler
// decided what runs, the runner only executes it.
// Thread safety: engine thread only (the forward pass uses the model's scratch buffers).
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "engine/scheduler.h"
#include "model/kv_cache.h"
#include "model/llama.h"

namespace maas {

class ModelRunner {
 public:
  ModelRunner(LlamaModel& model, KvCache& cache, ThreadPool& pool);

  // Runs out.copies, then the forward pass over out.chunks. Afterwards logits(i) points at
  // chunk i's rows: n_tokens rows with all_logits, else one (its last token), n_vocab each.
  void run(const SchedulerOutput& out);
  float* logits(size_t chunk) { return logits_.data() + row_offset_[chunk] * static_cast<size_t>(n_vocab_); }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  void copy_block(const BlockCopy& c);

  LlamaModel& model_;
  KvCache& cache_;
  ThreadPool& pool_;
  int32_t n_vocab_;
  Batch batch_;
  std::vector<float> logits_;        // [rows, n_vocab]
  std::vector<size_t> row_offset_;   // [chunks] first row of each chunk
};

}  // namespace maas
