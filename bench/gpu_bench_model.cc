// gpu_bench_model.cc — what one token of a model file costs: weight bytes a decode step reads and
// the FLOPs of a prefill (gpu_bench.h).
#include <cstdio>

#include "gpu_bench.h"

namespace maas::gpu_bench {

ModelCost model_cost(const GgufFile& file, int32_t n_vocab) {
  ModelCost c;
  const bool has_output = file.find_tensor("output.weight") != nullptr;
  for (const GgufTensorInfo& t : file.tensors()) {
    c.all_weight_bytes += t.n_bytes;
    if (t.name == "token_embd.weight") {
      c.read_weight_bytes += has_output ? t.n_bytes / static_cast<uint64_t>(n_vocab) : t.n_bytes;
      if (!has_output) c.output_params = t.n_elements;
      continue;
    }
    c.read_weight_bytes += t.n_bytes;
    if (t.name == "output.weight") c.output_params = t.n_elements;
    if (t.name.rfind("blk.", 0) == 0 && t.ne.size() == 2 && t.ne[1] > 1) c.layer_matmul_params += t.n_elements;
  }
  return c;
}

double prefill_flops(const ModelCost& c, int32_t n_layer, int32_t n_head, int32_t head_dim, int64_t p,
                     std::string* formula) {
  const double matmul = 2.0 * static_cast<double>(p) * static_cast<double>(c.layer_matmul_params);
  const double output = 2.0 * static_cast<double>(c.output_params);
  const double attn = static_cast<double>(n_layer) * n_head * 4.0 * head_dim * static_cast<double>(p) *
                      static_cast<double>(p + 1) / 2.0;
  if (formula != nullptr) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "2 x %lld tokens x %.4g layer matmul params (%.4g) + 2 x %.4g output params, last row (%.4g) + "
                  "%d layers x %d heads x 4 x %d x %lld x %lld / 2 causal attention (%.4g) = %.4g FLOP",
                  static_cast<long long>(p), static_cast<double>(c.layer_matmul_params), matmul,
                  static_cast<double>(c.output_params), output, n_layer, n_head, head_dim, static_cast<long long>(p),
                  static_cast<long long>(p + 1), attn, matmul + output + attn);
    *formula = buf;
  }
  return matmul + output + attn;
}

}  // namespace maas::gpu_bench
