// gguf_test.cc — round trips through GgufWriter and GgufFile, typed getters, v2 files.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "gguf/gguf.h"
#include "gguf/gguf_names.h"
#include "gguf/gguf_writer.h"

namespace maas {
namespace {

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Gguf, RoundTripMetadataAndTensors) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 2);
  w.add_f32("llama.rope.freq_base", 500000.0f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_string_array("tokenizer.ggml.tokens", {"a", "", "ccc"});
  w.add_f32_array("tokenizer.ggml.scores", {0.5f, -1.0f, 2.0f});
  w.add_i32_array("tokenizer.ggml.token_type", {1, 3, 6});
  w.add_tensor("t0", {4, 2}, GgmlType::kF32, bytes_of({1, 2, 3, 4, 5, 6, 7, 8}));
  w.add_tensor("t1", {3}, GgmlType::kF32, bytes_of({9, 10, 11}));
  std::vector<uint8_t> bytes = w.serialize();

  auto f = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(*g.get_string("general.architecture"), "llama");
  EXPECT_EQ(*g.get_uint("llama.block_count"), 2u);
  EXPECT_EQ(*g.get_int("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(*g.get_float("llama.rope.freq_base"), 500000.0f);
  EXPECT_TRUE(*g.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(*g.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(*g.get_float_array("tokenizer.ggml.scores"), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  EXPECT_EQ(*g.get_int_array("tokenizer.ggml.token_type"), (std::vector<int64_t>{1, 3, 6}));
  EXPECT_EQ(g.array_length("tokenizer.ggml.tokens"), 3u);

  EXPECT_EQ(g.get_uint("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g.get_uint("general.architecture").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.token_type").status().code(), StatusCode::kInvalidArgument);

  ASSERT_EQ(g.tensors().size(), 2u);
  const GgufTensorInfo* t0 = g.find_tensor("t0");
  ASSERT_NE(t0, nullptr);
  EXPECT_EQ(t0->ne, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(t0->n_bytes, 32u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t0->data) % 32, reinterpret_cast<uintptr_t>(bytes.data()) % 32);
  float x;
  std::memcpy(&x, t0->data + 28, 4);
  EXPECT_EQ(x, 8.0f);
  const GgufTensorInfo* t1 = g.find_tensor("t1");
  std::memcpy(&x, t1->data + 8, 4);
  EXPECT_EQ(x, 11.0f);
}

TEST(Gguf, CopyKvPreservesEveryType) {
  GgufWriter w;
  w.add_string("s", "hello");
  w.add_u32("u", 7);
  w.add_string_array("sa", {"x", "yy"});
  w.add_i32_array("ia", {-1, 2});
  std::vector<uint8_t> bytes = w.serialize();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(f.ok());
  GgufWriter w2;
  for (const GgufKv& kv : (*f)->kvs()) w2.copy_kv(kv);
  std::vector<uint8_t> bytes2 = w2.serialize();
  EXPECT_EQ(bytes, bytes2);
}

TEST(Gguf, OpensFileAndReportsMissing) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  std::string path = ::testing::TempDir() + "/gguf_test_file.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ((*f)->path(), path);
  std::remove(path.c_str());
  auto missing = GgufFile::open(path);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(Gguf, ReadsVersion2) {
  GgufWriter w;
  w.add_u32("k", 1);
  std::vector<uint8_t> bytes = w.serialize();
  bytes[4] = 2;
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->version(), 2u);
}

TEST(Gguf, ReadsTheSharedLlama2Vocabulary) {
  const char* shared = std::getenv("MAAS_SHARED_DIR");
  if (shared == nullptr) GTEST_SKIP() << "MAAS_SHARED_DIR not set";
  auto f = GgufFile::open(std::string(shared) + "/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(*(*f)->get_string(gguf_key::kTokModel), "llama");
  EXPECT_EQ((*f)->array_length(gguf_key::kTokTokens), 32000u);
  EXPECT_EQ((*f)->array_length(gguf_key::kTokScores), 32000u);
}

}  // namespace
}  // namespace maas
