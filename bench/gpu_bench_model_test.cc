// gpu_bench_model_test.cc — the counts issue 13's fractions rest on (gpu_bench_model.cc): weight
// bytes a decode step reads and the FLOPs of a prefill, on small models of known shape.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "gguf/gguf_writer.h"
#include "gpu_bench.h"
#include "model/synthetic_model.h"

namespace maas::gpu_bench {
namespace {

constexpr int32_t kVocab = 1000;

struct Parsed {
  std::vector<uint8_t> bytes;
  std::unique_ptr<GgufFile> file;
};

Parsed write(bool tied, const std::string& type) {
  auto o = synthetic_preset("test");  // 64 embd, 2 blocks, 4 heads, 2 KV heads, 256 ff
  EXPECT_TRUE(o.ok());
  o->tied_embeddings = tied;
  o->type = type;
  GgufWriter w;
  EXPECT_TRUE(add_synthetic_llama(*o, kVocab, w).ok());
  Parsed p;
  p.bytes = w.serialize();
  auto f = GgufFile::parse(p.bytes.data(), p.bytes.size());
  EXPECT_TRUE(f.ok());
  p.file = std::move(*f);
  return p;
}

// Per block: q 64x64, k 32x64, v 32x64, o 64x64, gate/up/down 3 x 256x64.
constexpr uint64_t kLayerParams = 2 * (64 * 64 + 32 * 64 + 32 * 64 + 64 * 64 + 3 * 256 * 64);

TEST(GpuBenchModel, UntiedDecodeReadsOneEmbeddingRow) {
  Parsed p = write(/*tied=*/false, "f16");
  const ModelCost c = model_cost(*p.file, kVocab);
  EXPECT_EQ(c.layer_matmul_params, kLayerParams);
  EXPECT_EQ(c.output_params, static_cast<uint64_t>(kVocab) * 64);
  const GgufTensorInfo* embd = p.file->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->n_bytes, static_cast<uint64_t>(kVocab) * 64 * 2);
  uint64_t all = 0;
  for (const GgufTensorInfo& t : p.file->tensors()) all += t.n_bytes;
  EXPECT_EQ(c.all_weight_bytes, all);
  EXPECT_EQ(c.read_weight_bytes, all - embd->n_bytes + 64 * 2);  // one F16 row of 64
}

TEST(GpuBenchModel, TiedEmbeddingIsReadWholeAsTheOutput) {
  Parsed p = write(/*tied=*/true, "q8_0");
  const ModelCost c = model_cost(*p.file, kVocab);
  EXPECT_EQ(c.read_weight_bytes, c.all_weight_bytes);
  EXPECT_EQ(c.output_params, static_cast<uint64_t>(kVocab) * 64);
  EXPECT_EQ(c.layer_matmul_params, kLayerParams);
}

TEST(GpuBenchModel, PrefillFlops) {
  ModelCost c;
  c.layer_matmul_params = kLayerParams;
  c.output_params = static_cast<uint64_t>(kVocab) * 64;
  std::string formula;
  const double p = 8;
  const double want = 2 * p * kLayerParams + 2.0 * kVocab * 64 + 2 * 4 * 4.0 * 16 * p * (p + 1) / 2;
  EXPECT_DOUBLE_EQ(prefill_flops(c, 2, 4, 16, 8, &formula), want);
  EXPECT_NE(formula.find("FLOP"), std::string::npos) << formula;
  // The 8B shape at 512 tokens: 6.98e9 layer parameters, 128256 x 4096 output: 7.22 TFLOP.
  ModelCost b;
  b.layer_matmul_params = 32ull * (4096 * 4096 * 2 + 1024 * 4096 * 2 + 3ull * 14336 * 4096);
  b.output_params = 128256ull * 4096;
  EXPECT_NEAR(prefill_flops(b, 32, 32, 128, 512, nullptr) / 1e12, 7.22, 0.01);
}

}  // namespace
}  // namespace maas::gpu_bench
