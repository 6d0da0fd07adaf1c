// engine_test_util.cc — the engine tests' model, prompts and output collector.
#include "engine/engine_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "model/synthetic_model.h"

namespace maas::testing {

namespace {
// The "test" preset with n_embd wide (head_dim = n_embd / 4) and the Llama 2 vocabulary.
EngineTestModel* make_engine_test_model(int32_t n_embd, const std::string& file_name) {
  const char* shared = std::getenv("MAAS_SHARED_DIR");
  std::string path = std::string(shared ? shared : "") + "/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf";
  auto vocab = GgufFile::open(path);
  CHECK_MSG(vocab.ok(), "the Llama 2 vocabulary is missing (MAAS_SHARED_DIR)");
  GgufWriter w;
  for (const GgufKv& kv : (*vocab)->kvs()) {
    if (kv.key.rfind("tokenizer.", 0) == 0) w.copy_kv(kv);
  }
  auto opts = synthetic_preset("test");
  CHECK(opts.ok());
  opts->type = "f32";
  opts->n_embd = n_embd;
  opts->n_ctx = 1024;
  opts->seed = 11;
  opts->n_threads = 2;
  int32_t n_vocab = static_cast<int32_t>((*vocab)->array_length("tokenizer.ggml.tokens"));
  CHECK(add_synthetic_llama(*opts, n_vocab, w).ok());
  std::string out = ::testing::TempDir() + "/" + file_name;
  CHECK(w.write(out).ok());
  auto* r = new EngineTestModel();
  auto model = load_model(out, {.n_threads = 2});
  CHECK(model.ok());
  r->model = std::move(*model);
  auto tok = Tokenizer::from_gguf(r->model->file());
  CHECK(tok.ok());
  r->tokenizer = std::move(*tok);
  return r;
}
}  // namespace

EngineTestModel& engine_test_model() {
  static EngineTestModel* m = make_engine_test_model(64, "engine_test_model.gguf");
  return *m;
}

EngineTestModel& engine_test_model_head_dim_32() {
  static EngineTestModel* m = make_engine_test_model(128, "engine_test_model_hd32.gguf");
  return *m;
}

EngineOptions test_engine_options() {
  EngineOptions o;
  o.n_ctx = 512;
  o.kv_block_size = 16;
  o.n_kv_blocks = 256;
  o.max_num_seqs = 16;
  o.max_batch_tokens = 128;
  return o;
}

std::vector<int32_t> test_prompt(int len, uint32_t seed) {
  const Tokenizer& tok = *engine_test_model().tokenizer;
  std::vector<int32_t> p = {tok.bos_id()};
  uint32_t x = seed * 2654435761u + 12345u;
  while (static_cast<int>(p.size()) < len) {
    x = x * 1664525u + 1013904223u;
    int32_t id = 300 + static_cast<int32_t>((x >> 8) % 20000u);
    if (!tok.is_special(id) && !tok.is_eog(id)) p.push_back(id);
  }
  return p;
}

EngineRequest greedy_request(const std::string& id, std::vector<int32_t> prompt, int32_t max_tokens) {
  EngineRequest r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.0f;
  return r;
}

OutputCallback Collector::callback() {
  return [this](RequestOutput&& out) {
    std::lock_guard<std::mutex> lock(mu_);
    RequestResult& r = result_;
    for (SequenceDelta& d : out.deltas) {
      size_t i = static_cast<size_t>(d.index);
      if (r.text.size() <= i) {
        r.text.resize(i + 1);
        r.finish.resize(i + 1);
        r.n_finish.resize(i + 1);
        r.logprobs.resize(i + 1);
      }
      r.text[i] += d.text;
      if (!d.text.empty()) r.deltas.push_back(d.text);
      for (TokenLogprobs& lp : d.logprobs) r.logprobs[i].push_back(std::move(lp));
      if (d.finish_reason) {
        r.finish[i] = *d.finish_reason;
        ++r.n_finish[i];
      }
    }
    ++r.n_outputs;
    if (out.finished) {
      r.finished = true;
      r.error = out.error;
      out.deltas.clear();
      r.last = std::move(out);
      cv_.notify_all();
    }
  };
}

RequestResult Collector::wait(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return result_.finished; });
  EXPECT_TRUE(ok) << "the request did not finish in time";
  return result_;
}

int Collector::n_outputs() {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.n_outputs;
}

RequestResult run_one(const EngineOptions& options, EngineRequest request) {
  EngineTestModel& m = engine_test_model();
  Engine engine(*m.model, *m.tokenizer, options);
  engine.start();
  Collector c;
  Status s = engine.submit(std::move(request), c.callback());
  EXPECT_TRUE(s.ok()) << s.to_string();
  return c.wait();
}

}  // namespace maas::testing
