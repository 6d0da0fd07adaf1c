// rope.h — rotary position embedding as GGUF Llama files expect it.
//
// The HF->GGUF converter permutes the rows of attn_q and attn_k so that each rotary pair is two
// adjacent elements (2i, 2i+1) of a head (ggml's "normal" RoPE mode). For pair i < n_rot/2:
//   theta_i = pos * base^(-2i / n_rot) / factor_i        (factor_i from rope_freqs.weight, else 1)
//   (x0, x1) <- (x0 cos theta_i - x1 sin theta_i,  x0 sin theta_i + x1 cos theta_i)
// Llama 3.1's frequency scaling is carried entirely by those factors.
#pragma once

#include <cstdint>
#include <vector>

#include "model/llama_config.h"

namespace maas {

class Rope {
 public:
  Rope(const LlamaConfig& config, const std::vector<float>& freq_factors);
  // Rotates n_heads heads of head_dim floats each, in place, for position pos.
  void apply(float* x, int32_t n_heads, int32_t pos) const;
  int32_t n_head() const { return n_head_; }  // query heads of the model
  int32_t head_dim() const { return head_dim_; }
  int32_t n_rot() const { return n_rot_; }
  // The n_rot/2 angular frequencies, factors applied (a device backend uploads this table).
  const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  int32_t n_head_, head_dim_, n_rot_;
  std::vector<double> inv_freq_;  // [n_rot/2]
};

}  // namespace maas
