// attention_plan_test.cc — the host-side planning of the CUDA attention (attention_plan.h):
// dispatch per sequence, split sizes, workspace bytes, the indices the device reads. No GPU.
#include "kernels/cuda/attention_plan.h"

#include <gtest/gtest.h>

#include <vector>

namespace maas::cuda {
namespace {

const AttentionShape kLlama8b{32, 8, 128};  // n_gqa 4: 16 tokens per prefill tile

TEST(AttentionPlan, SplitSizeGrowsWithTheContextBound) {
  EXPECT_EQ(attention_split_size(1), kSplitMinPositions);
  EXPECT_EQ(attention_split_size(1024), 256);
  EXPECT_EQ(attention_split_size(8192), 256);  // 32 splits
  EXPECT_EQ(attention_split_size(8193), 320);  // ceil(8193 / 32) = 257 -> a multiple of 64
  EXPECT_EQ(attention_split_size(16384), 512);
  EXPECT_EQ(attention_split_size(131072), 4096);
  for (int32_t ctx : {1, 100, 1000, 4097, 16383, 100000, 131072}) {
    const int32_t s = attention_split_size(ctx);
    EXPECT_EQ(s % 64, 0) << ctx;
    EXPECT_LE((ctx + s - 1) / s, kSplitTargetCount) << ctx;
  }
}

TEST(AttentionPlan, PureDecodeIsIdentityWithoutIndices) {
  const std::vector<AttentionSeqSpan> seqs = {{1000, 1}, {16000, 1}, {0, 1}, {4096, 1}};
  auto plan = plan_attention(seqs, kLlama8b, 16384);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->ctx_bound, 16384);
  EXPECT_EQ(plan->split_size, 512);
  EXPECT_EQ(plan->max_splits, 32);
  EXPECT_EQ(plan->decode_tokens, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_TRUE(plan->decode_identity);
  EXPECT_EQ(plan->n_tiles(), 0);
  EXPECT_TRUE(plan->device_indices().empty());
  // Per (token, head, split): 128 floats of output, max and sum.
  EXPECT_EQ(plan->workspace_bytes, size_t{4} * 32 * 32 * (128 + 2) * 4);
  EXPECT_EQ(plan->workspace_bytes, attention_workspace_bytes(4, kLlama8b, 32));
}

TEST(AttentionPlan, FixedBoundGivesTheSameGridForAnyPositions) {
  // What a CUDA graph per batch-size bucket relies on: the grid (max_splits, n_decode) and the
  // workspace depend on the bound and the number of tokens, not on the positions.
  auto a = plan_attention({{5, 1}, {9, 1}}, kLlama8b, 8192);
  auto b = plan_attention({{8000, 1}, {3000, 1}}, kLlama8b, 8192);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->max_splits, b->max_splits);
  EXPECT_EQ(a->split_size, b->split_size);
  EXPECT_EQ(a->workspace_bytes, b->workspace_bytes);
  EXPECT_EQ(a->device_indices(), b->device_indices());
  EXPECT_TRUE(plan_attention({{8191, 1}}, kLlama8b, 8192).ok());  // position 8191 is below the bound
  EXPECT_EQ(plan_attention({{8192, 1}}, kLlama8b, 8192).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_attention({{8000, 200}}, kLlama8b, 8192).status().code(), StatusCode::kInvalidArgument);
}

TEST(AttentionPlan, DerivedBoundIsThePowerOfTwoAboveTheLongestContext) {
  auto p = plan_attention({{3000, 1}, {10, 1}}, kLlama8b, 0);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ctx_bound, 4096);
  EXPECT_EQ(p->split_size, 256);
  EXPECT_EQ(p->max_splits, 16);
  p = plan_attention({{0, 1}}, kLlama8b, 0);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ctx_bound, kSplitMinPositions);
  EXPECT_EQ(p->max_splits, 1);
}

TEST(AttentionPlan, MixedBatchDispatchesPerSequence) {
  // decode | 37-token chunk after 300 cached | 3-token run | 16-token prefill | decode
  const std::vector<AttentionSeqSpan> seqs = {{700, 1}, {300, 37}, {2000, 3}, {0, 16}, {5, 1}};
  auto plan = plan_attention(seqs, kLlama8b, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->tile_tokens, 16);  // 64 rows / 4 heads per group
  // Batch indices: seq 0 -> 0; seq 1 -> 1..37; seq 2 -> 38..40; seq 3 -> 41..56; seq 4 -> 57.
  EXPECT_EQ(plan->decode_tokens, (std::vector<int32_t>{0, 38, 39, 40, 57}));
  EXPECT_FALSE(plan->decode_identity);
  EXPECT_EQ(plan->prefill_tiles, (std::vector<int32_t>{1, 16, 17, 16, 33, 5, 41, 16}));
  std::vector<int32_t> want = {0, 38, 39, 40, 57, 1, 16, 17, 16, 33, 5, 41, 16};
  EXPECT_EQ(plan->device_indices(), want);
  EXPECT_EQ(plan->ctx_bound, 2048);
  EXPECT_EQ(plan->workspace_bytes, attention_workspace_bytes(5, kLlama8b, plan->max_splits));

  const int32_t indices_on_device[16] = {};
  float workspace[1];
  const DeviceAttentionPlan d = device_plan(*plan, indices_on_device, workspace, sizeof workspace);
  EXPECT_EQ(d.decode_tokens, indices_on_device);
  EXPECT_EQ(d.n_decode, 5);
  EXPECT_EQ(d.prefill_tiles, indices_on_device + 5);
  EXPECT_EQ(d.n_tiles, 4);
  EXPECT_EQ(d.split_size, plan->split_size);
  EXPECT_EQ(d.max_splits, plan->max_splits);
}

TEST(AttentionPlan, EveryTokenIsInExactlyOneKernel) {
  for (const AttentionShape& shape :
       {AttentionShape{8, 8, 64}, AttentionShape{32, 8, 128}, AttentionShape{64, 8, 128}, AttentionShape{48, 1, 64}}) {
    const std::vector<AttentionSeqSpan> seqs = {{0, 200}, {10, 4}, {10, 5}, {99, 1}, {0, 1}, {1000, 65}};
    auto plan = plan_attention(seqs, shape, 4096);
    ASSERT_TRUE(plan.ok());
    const int32_t n_gqa = shape.n_head / shape.n_head_kv;
    EXPECT_EQ(plan->tile_tokens, std::max(1, kPrefillTileRows / n_gqa));
    std::vector<int> seen(200 + 4 + 5 + 1 + 1 + 65, 0);
    for (int32_t t : plan->decode_tokens) ++seen[t];
    for (int64_t i = 0; i < plan->n_tiles(); ++i) {
      const int32_t first = plan->prefill_tiles[2 * i], n = plan->prefill_tiles[2 * i + 1];
      EXPECT_GE(n, 1);
      EXPECT_LE(n * n_gqa, kPrefillTileRows);
      for (int32_t t = first; t < first + n; ++t) ++seen[t];
    }
    for (size_t t = 0; t < seen.size(); ++t) EXPECT_EQ(seen[t], 1) << "token " << t;
    EXPECT_FALSE(plan->decode_identity);
  }
}

TEST(AttentionPlan, RefusesShapesTheKernelsDoNotTake) {
  EXPECT_TRUE(check_attention_shape({32, 8, 128}).ok());
  EXPECT_TRUE(check_attention_shape({64, 8, 256}).ok());
  EXPECT_TRUE(check_attention_shape({12, 3, 96}).ok());
  EXPECT_FALSE(check_attention_shape({32, 8, 264}).ok());   // head_dim > 256
  EXPECT_FALSE(check_attention_shape({32, 8, 100}).ok());   // not a multiple of 8
  EXPECT_FALSE(check_attention_shape({30, 8, 128}).ok());   // n_head not a multiple of n_head_kv
  EXPECT_FALSE(check_attention_shape({128, 1, 128}).ok());  // 128 query heads per group > 64 rows
  EXPECT_FALSE(check_attention_shape({32, 0, 128}).ok());
  EXPECT_EQ(plan_attention({{0, 1}}, {32, 8, 100}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_attention({{0, 0}}, kLlama8b, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_attention({{-1, 1}}, kLlama8b, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace maas::cuda
