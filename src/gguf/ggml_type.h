// ggml_type.h — tensor element types as numbered in GGUF files (ggml's ggml_type enum), with
// their block geometry. A row of n elements of a block type occupies n / block_size blocks of
// type_size bytes each; n must be a multiple of block_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace maas {

enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21,
  kIQ2_S = 22, kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29,
  kBF16 = 30, kTQ1_0 = 34, kTQ2_0 = 35, kMxfp4 = 39,
};

struct GgmlTypeTraits {
  std::string_view name;  // "Q4_K"; empty for numbers that are not a type
  int block_size;         // elements per block (1 for plain types)
  int type_size;          // bytes per block
  bool supported;         // maas has kernels for it (F32 F16 BF16 Q8_0 Q4_0 Q4_K Q6_K)
};

// Traits of a type number read from a file; nullptr when the number is not a known ggml type.
const GgmlTypeTraits* ggml_type_traits(uint32_t type);
inline const GgmlTypeTraits& ggml_traits(GgmlType t) { return *ggml_type_traits(static_cast<uint32_t>(t)); }
std::string_view ggml_type_name(GgmlType t);

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t ggml_row_size(GgmlType t, int64_t n) {
  const GgmlTypeTraits& tr = ggml_traits(t);
  return static_cast<size_t>(n / tr.block_size) * static_cast<size_t>(tr.type_size);
}

}  // namespace maas
