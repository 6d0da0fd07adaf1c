// test_models.h — small random Llama models written to the test's temp directory.
#pragma once

#include <string>

#include "model/synthetic_model.h"

namespace maas::testing {

// The shape the forward-pass tests use: K-quant-compatible widths, GQA, two blocks.
SyntheticModelOptions small_options(const std::string& type);

// Writes a model with a vocabulary of n_vocab tokens and no tokenizer metadata (enough for the
// forward pass); returns its path. Fails the current test on error.
std::string write_model(const SyntheticModelOptions& options, int n_vocab, const std::string& file_name);

}  // namespace maas::testing
