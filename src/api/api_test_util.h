// api_test_util.h — fixtures for the api tests: the real Llama 3 tokenizer and renderer
// (chat/chat_test_util.h), ParseOptions for a served model "llama-test" with n_ctx 4096, and a
// parsed error body.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_request.h"
#include "chat/chat_render.h"
#include "chat/chat_test_util.h"
#include "tokenizer/tokenizer.h"

namespace maas::api::testing {

using maas::testing::llama3_renderer;
using maas::testing::llama3_tokenizer;

ParseOptions default_options(const Tokenizer& tokenizer);

}  // namespace maas::api::testing
