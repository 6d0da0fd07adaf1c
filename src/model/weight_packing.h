// weight_packing.h — which matrices the loader re-lays for the decode kernels (kernels.h
// kRows16), and the steps the private copy (weight_packing.cc) and the shared cache file
// (weight_cache.h) both take: plan, re-lay each matrix into a buffer, bind the matrices to it.
// Internal to src/model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/llama_weights.h"

namespace maas {

constexpr size_t kRelaidAlign = 64;                // each re-laid matrix's offset in the buffer
constexpr size_t kRelaidBufferAlign = size_t{2} << 20;  // the buffer's address and size (huge pages)

// The matrices of one LlamaWeights that the active kernel variant multiplies faster re-laid, in a
// fixed order (token_embd, output unless tied, then each layer's wq wk wv wo w_gate w_up w_down),
// with the offset of each one's copy in a buffer of total_bytes.
struct RelayPlan {
  std::vector<WeightMatrix*> matrices;  // point into the LlamaWeights planned
  std::vector<size_t> offsets;          // multiples of kRelaidAlign
  size_t total_bytes = 0;               // a multiple of kRelaidBufferAlign
  bool tied = false;                    // output is token_embd
  bool empty() const { return matrices.empty(); }
};

// Empty when MAAS_INTERLEAVE=0 or no matrix would gain on this CPU's kernel variant.
RelayPlan plan_relayout(LlamaWeights& w);

// Runs fn(i) for every i < n, dealt round-robin over the cores; returns when all are done.
void for_each_parallel(size_t n, const std::function<void(size_t)>& fn);

// Writes matrix i of the plan re-laid into buf + offsets[i] and drops the file's pages behind the
// original from this process (they stay in the page cache).
void relay_matrix(const RelayPlan& plan, size_t i, uint8_t* buf);

// Points the plan's matrices at their re-laid copies in buf, which `storage` keeps alive.
void bind_relaid(LlamaWeights& w, const RelayPlan& plan, const uint8_t* buf, std::shared_ptr<const void> storage,
                 RelaidStorage how);

}  // namespace maas
