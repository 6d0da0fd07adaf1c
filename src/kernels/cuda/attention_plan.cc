// attention_plan.cc — see attention_plan.h.
#include "kernels/cuda/attention_plan.h"

#include <algorithm>
#include <climits>
#include <string>

namespace maas::cuda {

std::vector<int32_t> AttentionPlan::device_indices() const {
  std::vector<int32_t> v;
  if (!decode_identity) v = decode_tokens;
  v.insert(v.end(), prefill_tiles.begin(), prefill_tiles.end());
  return v;
}

Status check_attention_shape(const AttentionShape& s) {
  const bool ok = s.n_head_kv > 0 && s.n_head > 0 && s.n_head % s.n_head_kv == 0 &&
                  s.n_head / s.n_head_kv <= kPrefillTileRows && s.head_dim > 0 && s.head_dim % 8 == 0 &&
                  s.head_dim <= kAttentionMaxHeadDim;
  if (ok) return Status::Ok();
  return invalid_argument("CUDA attention: " + std::to_string(s.n_head) + " heads over " + std::to_string(s.n_head_kv) +
                          " KV heads of head_dim " + std::to_string(s.head_dim) +
                          " (needs n_head / n_head_kv <= " + std::to_string(kPrefillTileRows) +
                          ", head_dim a multiple of 8 up to " + std::to_string(kAttentionMaxHeadDim) + ")");
}

int32_t attention_split_size(int32_t ctx_bound) {
  const int64_t per_split = (static_cast<int64_t>(std::max(ctx_bound, 1)) + kSplitTargetCount - 1) / kSplitTargetCount;
  const int64_t rounded = (per_split + 63) / 64 * 64;
  return static_cast<int32_t>(std::max<int64_t>(kSplitMinPositions, rounded));
}

size_t attention_workspace_bytes(int64_t n_decode, const AttentionShape& shape, int32_t max_splits) {
  const size_t partials = static_cast<size_t>(std::max<int64_t>(n_decode, 0)) * static_cast<size_t>(shape.n_head) *
                          static_cast<size_t>(std::max(max_splits, 0));
  return partials * (static_cast<size_t>(shape.head_dim) + 2) * sizeof(float);
}

namespace {

int32_t round_up_pow2(int64_t n) {
  int64_t p = kSplitMinPositions;
  while (p < n) p *= 2;
  return static_cast<int32_t>(std::min<int64_t>(p, INT32_MAX / 2 + 1));
}

}  // namespace

StatusOr<AttentionPlan> plan_attention(const std::vector<AttentionSeqSpan>& seqs, const AttentionShape& shape,
                                       int32_t ctx_bound) {
  RETURN_IF_ERROR(check_attention_shape(shape));
  int64_t longest = 0;
  for (const AttentionSeqSpan& s : seqs) {
    if (s.n_tokens < 1 || s.n_past < 0) {
      return invalid_argument("CUDA attention plan: a sequence of " + std::to_string(s.n_tokens) +
                              " new tokens after " + std::to_string(s.n_past));
    }
    longest = std::max<int64_t>(longest, static_cast<int64_t>(s.n_past) + s.n_tokens);
  }
  AttentionPlan plan;
  if (ctx_bound > 0 && longest > ctx_bound) {
    return invalid_argument("CUDA attention plan: a sequence reaches position " + std::to_string(longest - 1) +
                            ", past the context bound " + std::to_string(ctx_bound));
  }
  plan.ctx_bound = ctx_bound > 0 ? ctx_bound : round_up_pow2(longest);
  plan.split_size = attention_split_size(plan.ctx_bound);
  plan.max_splits = (plan.ctx_bound + plan.split_size - 1) / plan.split_size;
  plan.tile_tokens = std::max(1, kPrefillTileRows / (shape.n_head / shape.n_head_kv));
  int32_t t = 0;
  for (const AttentionSeqSpan& s : seqs) {
    if (s.n_tokens <= kDecodeMaxRun) {
      for (int32_t j = 0; j < s.n_tokens; ++j) plan.decode_tokens.push_back(t + j);
    } else {
      for (int32_t j = 0; j < s.n_tokens; j += plan.tile_tokens) {
        plan.prefill_tiles.push_back(t + j);
        plan.prefill_tiles.push_back(std::min(plan.tile_tokens, s.n_tokens - j));
      }
    }
    t += s.n_tokens;
  }
  plan.decode_identity = plan.n_decode() == t;
  plan.workspace_bytes = attention_workspace_bytes(plan.n_decode(), shape, plan.max_splits);
  return plan;
}

DeviceAttentionPlan device_plan(const AttentionPlan& plan, const int32_t* indices, float* workspace,
                                size_t workspace_bytes) {
  DeviceAttentionPlan d;
  d.split_size = plan.split_size;
  d.max_splits = plan.max_splits;
  d.n_decode = plan.n_decode();
  d.decode_tokens = plan.decode_identity || d.n_decode == 0 ? nullptr : indices;
  d.n_tiles = plan.n_tiles();
  const int64_t tiles_at = plan.decode_identity ? 0 : d.n_decode;
  d.prefill_tiles = d.n_tiles == 0 ? nullptr : indices + tiles_at;
  d.workspace = workspace;
  d.workspace_bytes = workspace_bytes;
  return d;
}

}  // namespace maas::cuda
