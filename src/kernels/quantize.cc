// quantize.cc — quantize_row / dequantize_row for every supported type, and the activation
// formats the matmul kernels read (kernels_internal.h).
#include <cstring>

#include "base/check.h"
#include "base/fp16.h"
#include "kernels/kernels_internal.h"
#include "kernels/quant_blocks.h"

namespace maas {

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case GgmlType::kF16: for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]); return;
    case GgmlType::kBF16: for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]); return;
    case GgmlType::kQ8_0: CHECK(n % kQK0 == 0); ref::dequantize_row_q8_0(src, dst, n); return;
    case GgmlType::kQ4_0: CHECK(n % kQK0 == 0); ref::dequantize_row_q4_0(src, dst, n); return;
    case GgmlType::kQ4_K: CHECK(n % kQKK == 0); ref::dequantize_row_q4_k(src, dst, n); return;
    case GgmlType::kQ6_K: CHECK(n % kQKK == 0); ref::dequantize_row_q6_k(src, dst, n); return;
    default: CHECK_MSG(false, "dequantize_row: unsupported type");
  }
}

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case GgmlType::kF16: for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]); return;
    case GgmlType::kBF16: for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]); return;
    case GgmlType::kQ8_0: CHECK(n % kQK0 == 0); ref::quantize_row_q8_0(src, dst, n); return;
    case GgmlType::kQ4_0: CHECK(n % kQK0 == 0); ref::quantize_row_q4_0(src, dst, n); return;
    case GgmlType::kQ4_K: CHECK(n % kQKK == 0); ref::quantize_row_q4_k(src, dst, n); return;
    case GgmlType::kQ6_K: CHECK(n % kQKK == 0); ref::quantize_row_q6_k(src, dst, n); return;
    default: CHECK_MSG(false, "quantize_row: unsupported type");
  }
}

namespace kern {

size_t act_row_bytes(GgmlType weight_type, int64_t n_cols) {
  switch (weight_type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: return static_cast<size_t>(n_cols / kQK0) * sizeof(BlockQ8A);
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K: return static_cast<size_t>(n_cols / kQKK) * sizeof(BlockQ8K);
    default: return static_cast<size_t>(n_cols) * sizeof(float);
  }
}

void prepare_act_row(GgmlType weight_type, const float* x, uint8_t* dst, int64_t n_cols) {
  switch (weight_type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: ref::quantize_row_q8a(x, dst, n_cols); return;
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K: ref::quantize_row_q8k(x, dst, n_cols); return;
    default: std::memcpy(dst, x, static_cast<size_t>(n_cols) * sizeof(float)); return;
  }
}

}  // namespace kern
}  // namespace maas
