// gpu_bench.h — maas-gpu-bench's subcommands (bench/gpu-check.sh's measuring tool), one file each:
// gpu_bench.cc (main, flags, `generate`), gpu_bench_run.cc (`run`: pp/tg; `batch`: batched decode
// at a context), gpu_copy_bw.cc (`copybw`: the card's copy bandwidth), gpu_bench_model.cc (what a
// model file costs per token: weight bytes read, FLOPs of a prefill).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "gguf/gguf.h"

namespace maas::gpu_bench {

using Flags = std::map<std::string, std::string>;
std::string get(const Flags& f, const std::string& key, const std::string& fallback);
double get_double(const Flags& f, const std::string& key, double fallback);
// Prints "maas-gpu-bench: <status>" to stderr and returns 1.
int fail(const Status& s);

int cmd_generate(const Flags& f);
int cmd_run(const Flags& f);
int cmd_batch(const Flags& f);
int cmd_copybw(const Flags& f);

// What one token costs a model file (decode: every weight byte read once per step).
struct ModelCost {
  uint64_t all_weight_bytes = 0;    // every tensor of the file (issue 13's convention: 8B BF16 16.06 GB)
  uint64_t read_weight_bytes = 0;   // what a decode step reads: every tensor but the token-embedding
                                    // table, of which one row (the whole table when it is also the output)
  uint64_t layer_matmul_params = 0; // elements of the blocks' 2-D matrices (q k v o gate up down)
  uint64_t output_params = 0;       // the output matrix's elements (n_vocab x n_embd)
};
ModelCost model_cost(const GgufFile& file, int32_t n_vocab);
// FLOPs of a prefill of p tokens of one sequence, logits of the last row only:
// 2 p (layer matmul params) + 2 (output params) + n_layer n_head 4 head_dim p (p + 1) / 2
// (causal QK^T and PV). `formula` gets the expression with the numbers filled in.
double prefill_flops(const ModelCost& c, int32_t n_layer, int32_t n_head, int32_t head_dim, int64_t p,
                     std::string* formula);

}  // namespace maas::gpu_bench
