// step_graph_plan.cc — see step_graph_plan.h.
#include "model/step_graph_plan.h"

namespace maas {

int64_t StepGraphPlan::key(const Batch& batch) const {
  if (!enabled_ || batch.seqs.empty()) return 0;
  for (const BatchSequence& s : batch.seqs) {
    if (s.n_tokens != 1) return 0;
  }
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  return n == static_cast<int64_t>(batch.seqs.size()) && n <= max_tokens_ ? n : 0;
}

StepMode StepGraphPlan::mode(int64_t key, bool held) {
  if (key <= 0 || failed_.count(key) != 0) return StepMode::kEager;
  if (held) return StepMode::kReplay;
  int& seen = eager_steps_[key];
  if (seen >= 1) return StepMode::kCapture;
  ++seen;
  return StepMode::kEager;
}

void StepGraphPlan::reset() {
  eager_steps_.clear();
  failed_.clear();
}

}  // namespace maas
