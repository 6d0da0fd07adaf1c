// rope.cc — rotary position embedding (pairs of adjacent elements; see rope.h).
#include "model/rope.h"

#include <cmath>

namespace maas {

Rope::Rope(const LlamaConfig& c, const std::vector<float>& freq_factors)
    : n_head_(c.n_head), head_dim_(c.head_dim), n_rot_(c.n_rot), inv_freq_(static_cast<size_t>(c.n_rot / 2)) {
  for (int32_t i = 0; i < n_rot_ / 2; ++i) {
    double f = std::pow(static_cast<double>(c.rope_freq_base), -2.0 * i / n_rot_);
    if (!freq_factors.empty()) f /= freq_factors[static_cast<size_t>(i)];
    inv_freq_[static_cast<size_t>(i)] = f;
  }
}

void Rope::apply(float* x, int32_t n_heads, int32_t pos) const {
  for (int32_t i = 0; i < n_rot_ / 2; ++i) {
    double theta = pos * inv_freq_[static_cast<size_t>(i)];
    float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
    for (int32_t h = 0; h < n_heads; ++h) {
      float* p = x + static_cast<size_t>(h) * head_dim_ + 2 * i;
      float x0 = p[0], x1 = p[1];
      p[0] = x0 * c - x1 * s;
      p[1] = x0 * s + x1 * c;
    }
  }
}

}  // namespace maas
