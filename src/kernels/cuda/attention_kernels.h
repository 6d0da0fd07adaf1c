// attention_kernels.h — the planned attention's two kernels, for attention.cu's dispatcher (not
// part of the public interface; cuda_ops.h is). Both take the arguments of cuda_ops.h attention
// after it checked the shape and the workspace; each launches only when the plan has its work.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {

// attention_decode.cu: the plan's decode tokens, split along the sequence, then the reduce.
Status split_decode_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                              const DeviceAttentionPlan& plan, float scale, float* out);

// attention_prefill.cu: the plan's prefill tiles.
Status tiled_prefill_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                               const DeviceAttentionPlan& plan, float scale, float* out);

// attention_prefill_mma.cu: the plan's prefill tiles on tensor cores (head_dim 64 or 128 only:
// mma_prefill_takes).
bool mma_prefill_takes(int32_t head_dim);
Status mma_prefill_attention(const float* q, int32_t n_head, const DeviceKvLayer& kv, const DeviceTokens& tokens,
                             const DeviceAttentionPlan& plan, float scale, float* out);

}  // namespace maas::cuda
