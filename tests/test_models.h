// test_models.h — small random Llama models written to the test's temp directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/synthetic_model.h"

namespace maas::testing {

// The shape the forward-pass tests use: K-quant-compatible widths, GQA, two blocks.
SyntheticModelOptions small_options(const std::string& type);

// Writes a model with a vocabulary of n_vocab tokens and no tokenizer metadata (enough for the
// forward pass); returns its path. Fails the current test on error.
std::string write_model(const SyntheticModelOptions& options, int n_vocab, const std::string& file_name);

// |got - want| / |want| over want.size() values (the logit-error measure of the forward tests).
double rel_error(const float* got, const std::vector<double>& want);

// n deterministic token ids below n_vocab, different for each salt.
std::vector<int32_t> prompt_tokens(int n, int salt, int n_vocab);

}  // namespace maas::testing
