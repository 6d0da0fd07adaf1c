// tokenizer_vectors_test.cc — llama.cpp's tokenizer test vectors (shared/data/tokenizer-vectors):
// inputs separated by "\n__ggml_vocab_test__\n", one line of expected ids (no BOS) per input,
// encoded as llama.cpp's test-tokenizer-0 does (add_special = false, parse_special = false).
#include <gtest/gtest.h>

#include <sstream>

#include "tokenizer/tokenizer_test_util.h"

namespace maas {
namespace {

struct Vector {
  std::string input;
  std::vector<int32_t> ids;
};

std::vector<Vector> load_vectors(const std::string& stem, std::string* error) {
  const std::string dir = testing::shared_dir() + "/data/tokenizer-vectors/";
  auto inp = testing::read_file(dir + stem + ".inp");
  auto out = testing::read_file(dir + stem + ".out");
  if (!inp || !out) {
    *error = "cannot read " + dir + stem + ".inp/.out";
    return {};
  }
  static constexpr std::string_view kSep = "\n__ggml_vocab_test__\n";
  std::vector<Vector> vectors;
  for (size_t pos = 0;;) {
    const size_t end = inp->find(kSep, pos);
    if (end == std::string::npos) break;
    vectors.push_back(Vector{inp->substr(pos, end - pos), {}});
    pos = end + kSep.size();
  }
  std::istringstream lines(*out);
  std::string line;
  for (Vector& v : vectors) {
    if (!std::getline(lines, line)) {
      *error = "fewer output lines than inputs";
      return {};
    }
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) v.ids.push_back(id);
  }
  return vectors;
}

void check_vectors(const Tokenizer& tok, const std::string& stem, size_t min_count) {
  std::string error;
  const std::vector<Vector> vectors = load_vectors(stem, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(vectors.size(), min_count);
  size_t failures = 0;
  for (const Vector& v : vectors) {
    const std::vector<int32_t> got = tok.encode(v.input, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(got, v.ids) << "input: \"" << v.input << "\"";
    failures += got != v.ids;
  }
  EXPECT_EQ(failures, 0u) << "of " << vectors.size() << " vectors";
}

TEST(TokenizerVectors, Llama3Bpe) {
  std::string error;
  const Tokenizer* tok = testing::llama3_tokenizer(&error);
  ASSERT_NE(tok, nullptr) << error;
  check_vectors(*tok, "ggml-vocab-llama-bpe.gguf", 40);
}

TEST(TokenizerVectors, Llama2Spm) {
  std::string error;
  const Tokenizer* tok = testing::llama2_tokenizer(&error);
  ASSERT_NE(tok, nullptr) << error;
  check_vectors(*tok, "ggml-vocab-llama-spm.gguf", 40);
}

}  // namespace
}  // namespace maas
