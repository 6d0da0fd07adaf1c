// reference_llama.h — a plain double-precision Llama forward pass written from the equations,
// sharing no code with src/model (only the scalar reference dequantizers, the kernels' oracle,
// to read the weights). It recomputes the whole sequence every call: slow, obvious, the judge.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/gguf.h"

namespace maas::testing {

// Logits [n_tokens][n_vocab] for every position of `tokens`, or an empty vector if the file
// cannot be read (the test reports it). Rows before first_row are left empty (the output
// product is skipped there: perplexity scores only the second half of a chunk).
std::vector<std::vector<double>> reference_logits(const GgufFile& file, const std::vector<int32_t>& tokens,
                                                  size_t first_row = 0);

}  // namespace maas::testing
