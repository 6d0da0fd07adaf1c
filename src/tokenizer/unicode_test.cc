// unicode_test.cc — UTF-8 decoding and repair, code point classes, and the generated tables
// against the Node that generated them.
#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/unicode.h"

namespace maas {
namespace {

TEST(Unicode, DecodesAndRejects) {
  size_t len = 0;
  EXPECT_EQ(utf8_decode("A", 0, &len), 0x41u);
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(utf8_decode("\xC3\xA9", 0, &len), 0xE9u);
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(utf8_decode("\xF0\x9F\xA6\x99", 0, &len), 0x1F999u);
  EXPECT_EQ(len, 4u);
  for (std::string_view bad : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82",
                               "\xFF"}) {
    EXPECT_EQ(utf8_decode(bad, 0, &len), kReplacementChar) << bad;
    EXPECT_EQ(len, 1u);
  }
}

TEST(Unicode, RepairReplacesMaximalSubparts) {
  EXPECT_EQ(utf8_repaired("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(utf8_repaired("a\x80" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_repaired("\xE2\x82" "A"), "\xEF\xBF\xBD" "A");              // one U+FFFD for E2 82
  EXPECT_EQ(utf8_repaired("\xF0\x9F\xA6"), "\xEF\xBF\xBD");                  // truncated at the end
  EXPECT_EQ(utf8_repaired("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  std::string out;
  EXPECT_EQ(utf8_repair("ab\xF0\x9F", /*final=*/false, &out), 2u);  // holds back the tail
  EXPECT_EQ(out, "ab");
}

TEST(Unicode, Classes) {
  EXPECT_TRUE(is_letter('a'));
  EXPECT_TRUE(is_letter(0x4F60));  // 你
  EXPECT_TRUE(is_letter(0x1D518));  // 𝔘
  EXPECT_FALSE(is_letter('1'));
  EXPECT_TRUE(is_number('7'));
  EXPECT_TRUE(is_number(0x0663));  // Arabic-Indic three
  EXPECT_TRUE(is_number(0x00BD));  // ½ (No)
  EXPECT_TRUE(is_whitespace(' '));
  EXPECT_TRUE(is_whitespace(0x3000));
  EXPECT_TRUE(is_whitespace(0xFEFF));   // JavaScript's \s
  EXPECT_FALSE(is_whitespace(0x0085));  // not JavaScript's \s
  EXPECT_FALSE(is_whitespace(0x200B));
  EXPECT_EQ(codepoint_flags(0x1F999), 0);  // emoji: none of them
}

TEST(Unicode, ByteLevelAlphabet) {
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(byte_to_unicode('A'), "A");
  std::string all, enc, dec;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  byte_level_encode(all, &enc);
  ASSERT_TRUE(byte_level_decode(enc, &dec));
  EXPECT_EQ(dec, all);
  EXPECT_FALSE(byte_level_decode("\xE4\xBD\xA0", &dec));  // 你 is not in the alphabet
}

// The committed tables must be what this machine's Node generates (same Unicode version as the
// reference tokenizer the corpus test runs).
TEST(Unicode, TablesMatchNode) {
  const std::string script = testing::source_dir() + "/src/tokenizer/gen_unicode_tables.mjs";
  const std::string table = testing::source_dir() + "/src/tokenizer/unicode_tables.cc";
  if (!testing::run_command("node --version >/dev/null 2>&1")) GTEST_SKIP() << "node not available";
  EXPECT_TRUE(testing::run_command("node '" + script + "' --check '" + table + "'"))
      << "regenerate: node " << script << " > " << table;
}

}  // namespace
}  // namespace maas
