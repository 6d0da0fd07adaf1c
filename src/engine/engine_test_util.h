// engine_test_util.h — a small random Llama model with the real Llama 2 vocabulary (copied from
// $MAAS_SHARED_DIR/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf), loaded once per test
// process, and a thread-safe collector of a request's outputs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace maas::testing {

struct EngineTestModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};
EngineTestModel& engine_test_model();
// The same with head_dim 32 (n_embd 128), for what needs whole Q8_0 blocks per head.
EngineTestModel& engine_test_model_head_dim_32();

// Options sized for the tests: n_ctx 512, 16-token blocks (the model computes with 2 threads).
EngineOptions test_engine_options();
// BOS followed by `len - 1` pseudo-random ordinary tokens (deterministic in `seed`).
std::vector<int32_t> test_prompt(int len, uint32_t seed);
// A greedy request.
EngineRequest greedy_request(const std::string& id, std::vector<int32_t> prompt, int32_t max_tokens);

// Everything one request's callback received, merged per choice.
struct RequestResult {
  std::vector<std::string> text;                 // per choice index, deltas concatenated
  std::vector<std::string> finish;               // per choice index ("" if none seen)
  std::vector<int32_t> n_finish;                 // finish_reason deltas seen per choice
  std::vector<std::vector<TokenLogprobs>> logprobs;
  std::vector<std::string> deltas;               // every non-empty text delta, in order
  RequestOutput last;                            // the final output (deltas moved out)
  Status error;
  int n_outputs = 0;
  bool finished = false;
};

class Collector {
 public:
  OutputCallback callback();
  // Waits until the final output arrived (fails the test after `timeout`).
  RequestResult wait(std::chrono::seconds timeout = std::chrono::seconds(30));
  int n_outputs();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  RequestResult result_;
};

// Runs one request on a fresh engine with `options` and returns its result.
RequestResult run_one(const EngineOptions& options, EngineRequest request);

}  // namespace maas::testing
