// loader_test.cc — bad model files get clear errors: missing file, not GGUF, unknown
// architecture, unsupported tensor type, missing tensor, shape mismatch, bad hyperparameters.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "model/llama.h"
#include "tests/test_models.h"

namespace maas {
namespace {

std::string temp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Re-writes a valid small model with one change applied to each key or tensor.
std::string rewrite(const std::string& src_path, const std::string& name,
                    const std::function<bool(GgufWriter&, const GgufKv&)>& kv_hook,
                    const std::function<bool(GgufWriter&, const GgufTensorInfo&)>& tensor_hook) {
  auto src = GgufFile::open(src_path);
  EXPECT_TRUE(src.ok());
  GgufWriter w;
  for (const GgufKv& kv : (*src)->kvs()) {
    if (!kv_hook || !kv_hook(w, kv)) w.copy_kv(kv);
  }
  for (const GgufTensorInfo& t : (*src)->tensors()) {
    if (!tensor_hook || !tensor_hook(w, t)) w.add_tensor(t.name, t.ne, t.type, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  std::string path = temp(name);
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

void expect_load_error(const std::string& path, StatusCode code, const std::string& fragment) {
  auto m = LlamaModel::load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), code) << m.status().to_string();
  EXPECT_NE(m.status().message().find(fragment), std::string::npos) << m.status().to_string();
}

class LoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { good_ = testing::write_model(testing::small_options("q8_0"), 512, "loader_good.gguf"); }
  static std::string good_;
};
std::string LoaderTest::good_;

TEST_F(LoaderTest, GoodModelLoads) {
  auto m = LlamaModel::load(good_);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ((*m)->config().n_vocab, 512);
  EXPECT_EQ((*m)->config().n_gqa(), 2);
}

TEST_F(LoaderTest, MissingFile) { expect_load_error(temp("does-not-exist.gguf"), StatusCode::kNotFound, "no such file"); }

TEST_F(LoaderTest, NotGguf) {
  std::string p = temp("not.gguf");
  std::ofstream(p) << "{\"this is\": \"json\"}";
  expect_load_error(p, StatusCode::kInvalidArgument, "not a GGUF file");
}

TEST_F(LoaderTest, UnknownArchitecture) {
  std::string p = rewrite(good_, "arch.gguf", [](GgufWriter& w, const GgufKv& kv) {
    if (kv.key != "general.architecture") return false;
    w.add_string(kv.key, "mamba");
    return true;
  }, nullptr);
  expect_load_error(p, StatusCode::kUnimplemented, "unsupported architecture 'mamba'");
}

TEST_F(LoaderTest, UnsupportedTensorType) {
  std::string p = rewrite(good_, "type.gguf", nullptr, [](GgufWriter& w, const GgufTensorInfo& t) {
    if (t.name != "blk.0.attn_q.weight") return false;
    // Same shape as Q5_K (176 bytes per 256 elements): a type maas has no kernel for.
    w.add_tensor(t.name, t.ne, GgmlType::kQ5_K, std::vector<uint8_t>(static_cast<size_t>(t.n_elements / 256 * 176)));
    return true;
  });
  expect_load_error(p, StatusCode::kUnimplemented, "has type Q5_K");
}

TEST_F(LoaderTest, ShapeMismatch) {
  std::string p = rewrite(good_, "shape.gguf", nullptr, [](GgufWriter& w, const GgufTensorInfo& t) {
    if (t.name != "blk.1.ffn_down.weight") return false;
    std::vector<int64_t> ne = {t.ne[0], t.ne[1] / 2};
    w.add_tensor(t.name, ne, t.type, std::vector<uint8_t>(t.data, t.data + t.n_bytes / 2));
    return true;
  });
  expect_load_error(p, StatusCode::kInvalidArgument, "blk.1.ffn_down.weight' has shape");
}

TEST_F(LoaderTest, MissingTensor) {
  std::string p = rewrite(good_, "missing_tensor.gguf", nullptr,
                          [](GgufWriter&, const GgufTensorInfo& t) { return t.name == "blk.1.attn_k.weight"; });
  expect_load_error(p, StatusCode::kInvalidArgument, "missing tensor 'blk.1.attn_k.weight'");
}

TEST_F(LoaderTest, BadHyperparameters) {
  auto with = [&](const std::string& key, uint32_t value, const std::string& name) {
    return rewrite(good_, name, [&](GgufWriter& w, const GgufKv& kv) {
      if (kv.key != key) return false;
      w.add_u32(key, value);
      return true;
    }, nullptr);
  };
  expect_load_error(with("llama.attention.head_count", 0, "h0.gguf"), StatusCode::kInvalidArgument, "out of range");
  expect_load_error(with("llama.attention.head_count", 3, "h3.gguf"), StatusCode::kInvalidArgument, "multiple of the head count");
  expect_load_error(with("llama.attention.head_count_kv", 3, "kv3.gguf"), StatusCode::kInvalidArgument, "KV head count");
  expect_load_error(with("llama.block_count", 3, "blocks.gguf"), StatusCode::kInvalidArgument, "missing tensor 'blk.2");
  expect_load_error(with("llama.embedding_length", 0xFFFFFFFF, "embd.gguf"), StatusCode::kInvalidArgument, "out of range");
}

TEST_F(LoaderTest, TruncatedModelFile) {
  std::ifstream in(good_, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string p = temp("truncated.gguf");
  std::ofstream(p, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_load_error(p, StatusCode::kDataLoss, "outside the file");
}

}  // namespace
}  // namespace maas
