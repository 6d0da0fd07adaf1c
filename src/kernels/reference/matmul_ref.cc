// matmul_ref.cc — the oracle for matmul: dequantize each weight row to floats and take its dot
// product with the unrounded activations in double. Slow on purpose; the tests' yardstick.
#include <vector>

#include "kernels/kernels_internal.h"

namespace maas::ref {

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) {
  std::vector<float> row(static_cast<size_t>(w.n_cols));
  for (int64_t r = 0; r < w.n_rows; ++r) {
    dequantize_matrix_row(w, r, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      double acc = 0;
      const float* xt = x + t * w.n_cols;
      for (int64_t c = 0; c < w.n_cols; ++c) acc += static_cast<double>(row[c]) * xt[c];
      y[t * w.n_rows + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace maas::ref
