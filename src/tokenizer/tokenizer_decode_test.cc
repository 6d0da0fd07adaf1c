// tokenizer_decode_test.cc — decoding: round trips, pieces, special tokens, BOS/EOG, the
// incremental decoder's UTF-8 holdback and U+FFFD for invalid bytes, concurrent encoding.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_test_util.h"

namespace maas {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::vector<std::string> corpus() {
  auto text = testing::read_file(testing::source_dir() + "/tests/tokenizer/corpus.json");
  if (!text) return {};
  return nlohmann::json::parse(*text).get<std::vector<std::string>>();
}

std::string incremental(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special, bool* saw_fffd,
                        bool* held_back) {
  IncrementalDecoder dec(tok, skip_special);
  std::string all;
  for (int32_t id : ids) {
    const std::string out = dec.push(id);
    if (out.find(kFffd) != std::string::npos) *saw_fffd = true;
    if (dec.n_pending_bytes() > 0) *held_back = true;
    all += out;
  }
  return all + dec.flush();
}

class DecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    llama3_ = testing::llama3_tokenizer(&error);
    ASSERT_NE(llama3_, nullptr) << error;
    llama2_ = testing::llama2_tokenizer(&error);
    ASSERT_NE(llama2_, nullptr) << error;
  }
  const Tokenizer* llama3_ = nullptr;
  const Tokenizer* llama2_ = nullptr;
};

TEST_F(DecodeTest, RoundTripsTheCorpus) {
  const auto texts = corpus();
  ASSERT_GT(texts.size(), 100u);
  for (const std::string& x : texts) {
    EXPECT_EQ(llama3_->decode(llama3_->encode(x, true, false), /*skip_special=*/true), x);
    EXPECT_EQ(llama3_->decode(llama3_->encode(x, false, true), /*skip_special=*/false), x);
    EXPECT_EQ(llama2_->decode(llama2_->encode(x, true, false), /*skip_special=*/true), x);
  }
}

TEST_F(DecodeTest, InvalidUtf8InputSurvivesAsBytes) {
  const std::string raw = "ok\xFF\xFE\xE2\x82 end\xC3";
  for (const Tokenizer* tok : {llama3_, llama2_}) {
    std::string bytes;
    bool at_start = true;
    for (int32_t id : tok->encode(raw, false, false)) tok->append_piece(id, false, &at_start, &bytes);
    EXPECT_EQ(bytes, raw) << tok->model();
    EXPECT_EQ(tok->decode(tok->encode(raw, false, false), false),
              std::string("ok") + std::string(kFffd) + std::string(kFffd) + std::string(kFffd) + " end" +
                  std::string(kFffd));
  }
}

TEST_F(DecodeTest, IncrementalNeverSplitsCharacters) {
  const std::vector<std::string> texts = {"🦙🚀 😶‍🌫️ 👨‍👩‍👧‍👦", "你好，世界！我爱北京天安门。", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁",
                                          "ក្រុមហ៊ុន ሰላም", "Mixed 中文 🚀 émoji"};
  for (const Tokenizer* tok : {llama3_, llama2_}) {
    bool any_held = false;
    for (const std::string& t : texts) {
      const auto ids = tok->encode(t, true, false);
      bool fffd = false, held = false;
      EXPECT_EQ(incremental(*tok, ids, true, &fffd, &held), tok->decode(ids, true)) << t;
      EXPECT_EQ(tok->decode(ids, true), t);
      EXPECT_FALSE(fffd) << t;
      any_held |= held;
    }
    EXPECT_TRUE(any_held) << tok->model() << ": no token split a character, so holdback went untested";
  }
}

TEST_F(DecodeTest, InvalidBytesBecomeReplacementCharacters) {
  auto byte = [&](const char* name) { return *llama2_->find_token(name); };
  // E2 82 then 'A': the sequence can no longer complete -> one U+FFFD, then A.
  IncrementalDecoder dec(*llama2_, true);
  EXPECT_EQ(dec.push(byte("<0xE2>")), "");
  EXPECT_EQ(dec.push(byte("<0x82>")), "");
  EXPECT_EQ(dec.push(byte("<0x41>")), std::string(kFffd) + "A");
  EXPECT_EQ(dec.push(byte("<0xFF>")), kFffd);
  EXPECT_EQ(dec.push(byte("<0xF0>")), "");
  EXPECT_EQ(dec.flush(), kFffd);  // incomplete at the end
  EXPECT_EQ(llama2_->decode({byte("<0xE2>"), byte("<0x82>"), byte("<0x41>"), byte("<0xFF>"), byte("<0xF0>")}, true),
            std::string(kFffd) + "A" + std::string(kFffd) + std::string(kFffd));
  // Byte-level: a lone continuation byte token.
  const int32_t lone = *llama3_->find_token(byte_to_unicode(0x80));  // a lone continuation byte
  EXPECT_EQ(llama3_->token_to_piece(lone), "\x80");
  EXPECT_EQ(llama3_->decode({lone}, false), kFffd);
}

TEST_F(DecodeTest, PiecesAndSpecialTokens) {
  EXPECT_EQ(llama3_->token_to_piece(1917), " world");
  EXPECT_EQ(llama3_->token_text(1917), "\xC4\xA0world");
  EXPECT_EQ(llama3_->token_to_piece(128009), "<|eot_id|>");
  EXPECT_EQ(llama3_->token_to_piece(-1), "");
  EXPECT_EQ(llama3_->token_to_piece(llama3_->n_vocab()), "");
  EXPECT_EQ(llama2_->token_to_piece(*llama2_->find_token("\xE2\x96\x81Hello")), " Hello");
  EXPECT_EQ(llama2_->token_to_piece(*llama2_->find_token("<0x41>")), "A");
  EXPECT_EQ(llama3_->model(), "gpt2");
  EXPECT_EQ(llama2_->model(), "llama");
  EXPECT_EQ(llama3_->n_vocab(), 128256);
  EXPECT_EQ(llama2_->n_vocab(), 32000);

  const auto ids = llama3_->encode("Hi<|eot_id|>", true, true);
  EXPECT_EQ(ids, (std::vector<int32_t>{128000, 13347, 128009}));
  EXPECT_EQ(llama3_->decode(ids, true), "Hi");
  EXPECT_EQ(llama3_->decode(ids, false), "<|begin_of_text|>Hi<|eot_id|>");
  EXPECT_TRUE(llama3_->is_special(128009));
  EXPECT_FALSE(llama3_->is_special(13347));
  // As plain text the special strings are ordinary tokens.
  const auto plain = llama3_->encode("Hi<|eot_id|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 128009), 0);
  EXPECT_EQ(llama3_->decode(plain, true), "Hi<|eot_id|>");
}

TEST_F(DecodeTest, BosEosAndEndOfGeneration) {
  EXPECT_EQ(llama3_->bos_id(), 128000);
  EXPECT_EQ(llama3_->eos_id(), 128001);
  EXPECT_EQ(llama3_->eot_id(), 128009);
  EXPECT_TRUE(llama3_->is_eog(128001));
  EXPECT_TRUE(llama3_->is_eog(128009));
  EXPECT_FALSE(llama3_->is_eog(128000));
  EXPECT_FALSE(llama3_->is_eog(9906));
  EXPECT_EQ(llama3_->encode("", true, false), (std::vector<int32_t>{128000}));
  EXPECT_EQ(llama2_->encode("Hello", true, false), (std::vector<int32_t>{1, 15043}));
  EXPECT_EQ(llama2_->encode("", true, false), (std::vector<int32_t>{1}));
  EXPECT_EQ(llama2_->encode("", false, false), (std::vector<int32_t>{}));
  EXPECT_TRUE(llama2_->is_eog(2));
  EXPECT_EQ(llama2_->decode({1, 15043}, false), "<s> Hello");
  EXPECT_EQ(llama2_->decode({1, 15043}, true), "Hello");
}

TEST_F(DecodeTest, ConcurrentEncodingAgrees) {
  const auto texts = corpus();
  std::vector<std::vector<int32_t>> expected;
  for (const auto& t : texts) expected.push_back(llama3_->encode(t, true, true));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) mismatches[k] += llama3_->encode(texts[i], true, true) != expected[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace maas
