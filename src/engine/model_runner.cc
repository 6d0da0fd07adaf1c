// model_runner.cc — block copies and the batched forward pass for one step.
#include "engine/model_runner.h"

namespace maas {

ModelRunner::ModelRunner(Model& model, KvCache& cache)
    : model_(model), cache_(cache), n_vocab_(model.config().n_vocab) {}

void ModelRunner::run(const SchedulerOutput& out) {
  for (const BlockCopy& c : out.copies) model_.backend().copy_kv_block(cache_, c.src, c.dst, c.n_slots);
  batch_.tokens.clear();
  batch_.seqs.clear();
  row_offset_.clear();
  size_t rows = 0;
  for (const ScheduledChunk& c : out.chunks) {
    const Sequence& s = *c.seq;
    auto first = s.tokens.begin() + s.n_computed;
    batch_.tokens.insert(batch_.tokens.end(), first, first + c.n_tokens);
    batch_.tokens.insert(batch_.tokens.end(), s.draft.begin(), s.draft.begin() + c.n_draft);
    const int32_t n = c.n_tokens + c.n_draft;
    const bool all_logits = c.all_logits || c.n_draft > 0;
    batch_.seqs.push_back(BatchSequence{s.block_table.data(), static_cast<int32_t>(s.block_table.size()), s.n_computed,
                                        n, all_logits});
    row_offset_.push_back(rows);
    rows += all_logits ? static_cast<size_t>(n) : 1;
  }
  if (logits_.size() < rows * static_cast<size_t>(n_vocab_)) logits_.resize(rows * static_cast<size_t>(n_vocab_));
  model_.forward(batch_, cache_, logits_.data());
}

}  // namespace maas
