// make_seeds.cc — writes a few small valid GGUF files as the fuzzer's starting corpus.
#include <cstdio>
#include <string>

#include "gguf/gguf_writer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  maas::GgufWriter a;
  a.add_string("general.architecture", "llama");
  a.add_u32("llama.block_count", 1);
  a.add_string_array("tokenizer.ggml.tokens", {"<s>", "a", "b"});
  a.add_f32_array("tokenizer.ggml.scores", {0, 1, 2});
  a.add_i32_array("tokenizer.ggml.token_type", {3, 1, 1});
  a.add_tensor("token_embd.weight", {32, 3}, maas::GgmlType::kQ8_0, std::vector<uint8_t>(3 * 34, 1));
  a.add_tensor("output_norm.weight", {4}, maas::GgmlType::kF32, std::vector<uint8_t>(16, 0));
  maas::GgufWriter b;
  b.add_u32("general.alignment", 64);
  b.add_tensor("x", {256, 2}, maas::GgmlType::kQ4_K, std::vector<uint8_t>(2 * 144, 7));
  bool ok = a.write(dir + "/seed_a.gguf").ok() && b.write(dir + "/seed_b.gguf").ok();
  return ok ? 0 : 1;
}
