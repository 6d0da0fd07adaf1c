// model_runner.h — runs one scheduled step on the model: block copies (on the model's backend),
// one batched forward pass, and where each chunk's logits are. It makes no policy (house rule 6): the scheduler
// decided what runs, the runner only executes it.
// Thread safety: engine thread only (the forward pass uses the model's scratch buffers).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/scheduler.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace maas {

class ModelRunner {
 public:
  ModelRunner(Model& model, KvCache& cache);

  // Runs out.copies, then the forward pass over out.chunks. Afterwards logits(i) points at
  // chunk i's rows: n_tokens rows with all_logits, n_tokens + n_draft with a draft (the draft's
  // tokens run after the chunk's own), else one (its last token), n_vocab each.
  void run(const SchedulerOutput& out);
  float* logits(size_t chunk) { return logits_.data() + row_offset_[chunk] * static_cast<size_t>(n_vocab_); }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  Model& model_;
  KvCache& cache_;
  int32_t n_vocab_;
  Batch batch_;
  std::vector<float> logits_;        // [rows, n_vocab]
  std::vector<size_t> row_offset_;   // [chunks] first row of each chunk
};

}  // namespace maas
