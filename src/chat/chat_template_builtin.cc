// chat_template_builtin.cc — the official Llama chat templates, verbatim: generated at build time
// from tests/chat_template/{llama2,llama3,llama3.1,llama3.2}.jinja, the files the tests render
// against the reference renderer (embed_templates.cmake).
#include <string_view>

#include "chat/chat_template.h"

namespace maas {

namespace {

// kLlama2, kLlama3, kLlama31, kLlama32: the .jinja files, embedded at build time.
#include "chat_template_builtin_data.inc"

}  // namespace

std::string_view builtin_chat_template(std::string_view name) {
  if (name == "llama2") return kLlama2;
  if (name == "llama3") return kLlama3;
  if (name == "llama3.1") return kLlama31;
  if (name == "llama3.2") return kLlama32;
  return {};
}

}  // namespace maas
