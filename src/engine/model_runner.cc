// model_runner.cc — block copies and the batched forward pass for one step.
#include "engine/model_runner.h"

#include <algorithm>

namespace maas {

ModelRunner::ModelRunner(LlamaModel& model, KvCache& cache, ThreadPool& pool)
    : model_(model), cache_(cache), pool_(pool), n_vocab_(model.config().n_vocab) {}

void ModelRunner::copy_block(const BlockCopy& c) {
  const size_t n = static_cast<size_t>(c.n_slots) * static_cast<size_t>(cache_.n_embd_kv());
  for (int32_t layer = 0; layer < model_.config().n_layer; ++layer) {
    std::copy_n(cache_.k(layer, c.src, 0), n, cache_.k(layer, c.dst, 0));
    std::copy_n(cache_.v(layer, c.src, 0), n, cache_.v(layer, c.dst, 0));
  }
}

void ModelRunner::run(const SchedulerOutput& out) {
  for (const BlockCopy& c : out.copies) copy_block(c);
  batch_.tokens.clear();
  batch_.seqs.clear();
  row_offset_.clear();
  size_t rows = 0;
  for (const ScheduledChunk& c : out.chunks) {
    const Sequence& s = *c.seq;
    auto first = s.tokens.begin() + s.n_computed;
    batch_.tokens.insert(batch_.tokens.end(), first, first + c.n_tokens);
    batch_.seqs.push_back(BatchSequence{s.block_table.data(), static_cast<int32_t>(s.block_table.size()), s.n_computed,
                                        c.n_tokens, c.all_logits});
    row_offset_.push_back(rows);
    rows += c.all_logits ? static_cast<size_t>(c.n_tokens) : 1;
  }
  if (logits_.size() < rows * static_cast<size_t>(n_vocab_)) logits_.resize(rows * static_cast<size_t>(n_vocab_));
  model_.forward(batch_, cache_, pool_, logits_.data());
}

}  // namespace maas
