// pretokenize_test.cc — the hand-written regex matchers on cases where the alternatives and
// their backtracking matter.
#include <gtest/gtest.h>

#include "tokenizer/pretokenize.h"

namespace maas {
namespace {

std::vector<std::string> split(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> words;
  pretokenize(kind, text, &words);
  return {words.begin(), words.end()};
}

using V = std::vector<std::string>;

TEST(Pretokenize, Llama3) {
  const auto k = PreTokenizer::kLlama3;
  EXPECT_EQ(split(k, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(k, "I'M you're"), (V{"I", "'M", " you", "'re"}));
  EXPECT_EQ(split(k, "12345"), (V{"123", "45"}));
  EXPECT_EQ(split(k, "a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(split(k, "a   \n\n  b"), (V{"a", "   \n\n", " ", " b"}));
  EXPECT_EQ(split(k, "x  "), (V{"x", "  "}));
  EXPECT_EQ(split(k, "hi!!\n\nthere"), (V{"hi", "!!\n\n", "there"}));
  EXPECT_EQ(split(k, " ?!x"), (V{" ?!", "x"}));
  EXPECT_EQ(split(k, "\tword"), (V{"\tword"}));
  EXPECT_EQ(split(k, "'hello"), (V{"'hello"}));
  EXPECT_EQ(split(k, "你好，世界"), (V{"你好", "，世界"}));
  EXPECT_EQ(split(k, ""), V{});
}

TEST(Pretokenize, Gpt2) {
  const auto k = PreTokenizer::kGpt2;
  EXPECT_EQ(split(k, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(k, "I'M you're"), (V{"I", "'", "M", " you", "'re"}));
  EXPECT_EQ(split(k, "12345 67"), (V{"12345", " 67"}));
  EXPECT_EQ(split(k, "a   b"), (V{"a", "  ", " b"}));
}

TEST(Pretokenize, InvalidUtf8KeepsBytes) {
  const std::string text = "ab\xFF\xFE cd\xE2\x82";
  std::vector<std::string_view> words;
  pretokenize(PreTokenizer::kLlama3, text, &words);
  std::string joined;
  for (auto w : words) joined += w;
  EXPECT_EQ(joined, text);
}

}  // namespace
}  // namespace maas
