// attention_plan.h — host-side planning of one step's CUDA attention (cuda_ops.h attention):
// which tokens go to which kernel, how long contexts are split, how much workspace that takes.
// Plain C++, no CUDA: unit-tested on any machine (attention_plan_test.cc).
//
// Two kernels share a step (the dispatch is per sequence, by its number of new tokens):
//   - split decode (attention_decode.cu, flash-decoding): every token of a sequence with at most
//     kDecodeMaxRun new tokens (decode steps, short speculative runs, a prompt chunk's lone tail).
//     Work item (token, KV head, split): one CTA reads each K/V row of its split once for all the
//     query heads of the KV group, writes a partial (max, sum, unnormalised output) to the
//     workspace; a reduce kernel combines a token's splits. Splits cover split_size positions;
//     the grid is (max_splits, n_head_kv * head chunks, n_decode), fixed by ctx_bound and the
//     number of decode tokens only, so one launch serves any positions below ctx_bound (a CUDA
//     graph captured per batch-size bucket replays it): CTAs past a token's position exit at once
//     and the reduce reads only the splits the token's position reaches.
//   - tiled prefill (attention_prefill.cu, FlashAttention-2 style): sequences with more new tokens,
//     in tiles of tile_tokens consecutive tokens of one sequence x all n_gqa query heads of a KV
//     group (kPrefillTileRows query rows), against KV tiles staged in shared memory, causal mask,
//     online softmax; the score matrix is never stored. In float, or on tensor cores
//     (attention_prefill_mma.cu, DeviceAttentionPlan::prefill_mma).
// Why per sequence: a long run amortises each K/V read over its tile's query rows, which the split
// kernel (one token per work item) cannot; a short run at a long context would leave the tiled
// kernel with n_head_kv CTAs walking the whole context, where the split kernel spreads it over
// max_splits CTAs per token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {

// One sequence's part of the step, in batch order (model/batch.h BatchSequence): its new tokens
// are at positions n_past .. n_past + n_tokens - 1 and consecutive in the batch.
struct AttentionSeqSpan {
  int32_t n_past = 0;
  int32_t n_tokens = 0;
};

struct AttentionShape {
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
};

inline constexpr int32_t kDecodeMaxRun = 4;           // longest run the split kernel takes
inline constexpr int32_t kSplitMinPositions = 256;    // shortest split
inline constexpr int32_t kSplitTargetCount = 32;      // splits of a context of ctx_bound positions, at most
inline constexpr int32_t kPrefillTileRows = 64;       // query rows (tokens x heads) of a prefill tile
inline constexpr int32_t kDecodeHeadsPerCta = 8;      // query heads one split CTA keeps in registers
inline constexpr int32_t kAttentionMaxHeadDim = 256;  // register arrays of both kernels

struct AttentionPlan {
  int32_t ctx_bound = 0;   // every position of the step is below it
  int32_t split_size = 0;  // positions per split, a multiple of 64
  int32_t max_splits = 0;  // ceil(ctx_bound / split_size): the split kernel's grid x
  // Batch indices of the split kernel's tokens, in order. decode_identity: they are exactly
  // 0 .. n-1 (every token of the step), and need not be uploaded.
  std::vector<int32_t> decode_tokens;
  bool decode_identity = false;
  int32_t tile_tokens = 0;  // tokens per prefill tile: max(1, kPrefillTileRows / n_gqa)
  // Prefill tiles as pairs (first batch token, n tokens <= tile_tokens), each within one sequence.
  std::vector<int32_t> prefill_tiles;
  size_t workspace_bytes = 0;  // the split kernel's partials (attention_workspace_bytes)

  int64_t n_decode() const { return static_cast<int64_t>(decode_tokens.size()); }
  int64_t n_tiles() const { return static_cast<int64_t>(prefill_tiles.size() / 2); }
  // What the device needs of the plan, as one array to upload: decode_tokens (unless
  // decode_identity), then prefill_tiles. Empty for a pure decode step.
  std::vector<int32_t> device_indices() const;
};

// InvalidArgument unless n_head_kv > 0, n_head a multiple of it with n_head / n_head_kv <=
// kPrefillTileRows, head_dim a multiple of 8 and at most kAttentionMaxHeadDim.
Status check_attention_shape(const AttentionShape& shape);

// Positions per split for contexts below ctx_bound: at least kSplitMinPositions, so that at most
// kSplitTargetCount splits cover ctx_bound, rounded up to a multiple of 64.
int32_t attention_split_size(int32_t ctx_bound);

// Bytes of the split kernel's partials for n_decode tokens: per (token, head, split) head_dim
// floats of output and two (max, sum).
size_t attention_workspace_bytes(int64_t n_decode, const AttentionShape& shape, int32_t max_splits);

// The plan of one step. ctx_bound > 0: the engine's context (fixed across steps, so the split
// grid is too); InvalidArgument when a sequence reaches past it. ctx_bound <= 0: the step's
// longest context rounded up to a power of two (at least kSplitMinPositions). InvalidArgument
// for a bad shape or a span with n_tokens < 1 or n_past < 0.
StatusOr<AttentionPlan> plan_attention(const std::vector<AttentionSeqSpan>& seqs, const AttentionShape& shape,
                                       int32_t ctx_bound);

// The plan as the kernels read it: indices is device_indices() uploaded to device memory (may be
// null when that is empty), workspace at least plan.workspace_bytes of device memory.
DeviceAttentionPlan device_plan(const AttentionPlan& plan, const int32_t* indices, float* workspace,
                                size_t workspace_bytes);

}  // namespace maas::cuda
