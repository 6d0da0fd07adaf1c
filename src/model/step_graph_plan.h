// step_graph_plan.h — when a device backend replays a decode step as a captured graph (CUDA
// graphs), and when it captures one. Host logic only, so it is tested without a device
// (step_graph_plan_test.cc); cuda_backend.cc holds the graphs themselves.
//
// A decode step (every sequence of the batch adds one token) of n tokens issues the same ops with
// the same arguments every time, once its metadata (tokens, positions, block tables) is in the
// device buffer the ops read: only the values in device memory change. So the backend captures
// the step's launches once per token count n and replays them; launch overhead (a few hundred
// kernels per step) disappears from the decode loop. Graphs are keyed by the exact n, not by
// padded buckets: no padded token needs a KV slot or a masked attention row, the forward pass is
// unchanged, and a graph of one decode step is small (one node per launch), so the up to
// kMaxGraphTokens graphs a long-running continuous batch may meet cost little memory.
// Prefill and mixed steps run eagerly.
//
// Thread safety: none; the thread that drives the backend uses it.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "model/batch.h"

namespace maas {

enum class StepMode : uint8_t {
  kEager,    // launch the ops as they come
  kCapture,  // capture the ops into a graph, then launch it
  kReplay,   // skip the ops; launch the graph captured for this key
};

constexpr int64_t kMaxGraphTokens = 256;

class StepGraphPlan {
 public:
  explicit StepGraphPlan(bool enabled, int64_t max_tokens = kMaxGraphTokens) : enabled_(enabled), max_tokens_(max_tokens) {}

  // The graph key of a step: its token count for a pure decode step (every sequence one new
  // token) of at most max_tokens tokens while graphs are enabled; 0 (never a graph) otherwise.
  int64_t key(const Batch& batch) const;

  // The mode of the next step of this key, given whether the backend holds a graph for it:
  // eager for key 0 and for a key whose capture failed; replay when held; capture on the key's
  // second eager step (the first one warms up what a capture may not do: cuBLAS's workspace, the
  // scratch buffers a kernel grows, the RoPE table upload).
  StepMode mode(int64_t key, bool held);
  // A capture of this key failed: its steps stay eager.
  void failed(int64_t key) { failed_[key] = true; }
  // Forget every key's history (the buffers the graphs point into were reallocated).
  void reset();

  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  int64_t max_tokens_;
  std::unordered_map<int64_t, int> eager_steps_;  // per key, since the last reset
  std::unordered_map<int64_t, bool> failed_;
};

}  // namespace maas
