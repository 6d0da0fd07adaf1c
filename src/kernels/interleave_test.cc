// interleave_test.cc — the kRows16 layout: interleaving is lossless (rows read back bit-exact,
// groups convert back to ggml's bytes), and every variant's product on an interleaved matrix
// equals the scalar variant's on the original (same integer sums; float order may differ).
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels_internal.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern_test::gaussian;
using kern_test::make_matrix;

struct Shape {
  int64_t n_rows, n_cols;
};
// 592 rows = 37 groups: dealt to threads in chunks, decode splits a chunk's groups into streams read
// side by side, with an odd group left over.
const Shape kShapes[] = {{16, 32}, {64, 800}, {48, 544}, {592, 64}};
const Shape kShapesK[] = {{16, 256}, {64, 768}, {48, 512}, {592, 256}};  // the K-quants' 256-element super-blocks
const GgmlType kTypes[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K};

bool is_k(GgmlType t) { return t == GgmlType::kQ4_K || t == GgmlType::kQ6_K; }

TEST(Interleave, RowsReadBackExactlyAndGroupsConvertBack) {
  for (GgmlType t : kTypes) {
    for (const Shape& s : is_k(t) ? kShapesK : kShapes) {
      const kern_test::OwnedMatrix m = make_matrix(t, gaussian(static_cast<size_t>(s.n_rows * s.n_cols), 7), s.n_rows, s.n_cols);
      std::vector<uint8_t> buf(m.w.bytes());
      const WeightMatrix w16 = interleave_rows16(m.w, buf.data());
      ASSERT_EQ(w16.layout, WeightLayout::kRows16);
      ASSERT_NE(std::memcmp(buf.data(), m.bytes.data(), buf.size()), 0) << "interleaving moved nothing";
      std::vector<float> a(static_cast<size_t>(s.n_cols)), b(a.size());
      for (int64_t r = 0; r < s.n_rows; ++r) {
        dequantize_matrix_row(m.w, r, a.data());
        dequantize_matrix_row(w16, r, b.data());
        ASSERT_EQ(a, b) << ggml_type_name(t) << " row " << r;
      }
      std::vector<uint8_t> rows(m.w.row_bytes() * 16);
      for (int64_t g = 0; g < s.n_rows / 16; ++g) {
        kern::deinterleave_group16(w16, g, rows.data());
        ASSERT_EQ(std::memcmp(rows.data(), m.bytes.data() + g * rows.size(), rows.size()), 0) << "group " << g;
      }
    }
  }
}

TEST(Interleave, EveryVariantMatchesScalarOnRows) {
  ThreadPool pool(2);
  const kern::KernelSet* sets[] = {&kern::scalar_kernels(), kern::avx2_kernels(), kern::avx512_kernels(),
                                   kern::amx_kernels()};
  for (const kern::KernelSet* ks : sets) {
    if (ks == nullptr) continue;
    for (GgmlType t : kTypes) {
      for (const Shape& s : is_k(t) ? kShapesK : kShapes) {
        const kern_test::OwnedMatrix m =
            make_matrix(t, gaussian(static_cast<size_t>(s.n_rows * s.n_cols), 11, 0.05f), s.n_rows, s.n_cols);
        std::vector<uint8_t> buf(m.w.bytes());
        const WeightMatrix w16 = interleave_rows16(m.w, buf.data());
        for (int64_t n_tokens : {1, 2, 3, 5, 17, 64}) {
          const std::vector<float> x = gaussian(static_cast<size_t>(n_tokens * s.n_cols), 12);
          std::vector<float> y(static_cast<size_t>(n_tokens * s.n_rows), NAN), y_rows(y.size());
          kern::matmul_with(*ks, w16, x.data(), n_tokens, y.data(), pool);
          kern::matmul_with(kern::scalar_kernels(), m.w, x.data(), n_tokens, y_rows.data(), pool);
          for (int64_t tk = 0; tk < n_tokens; ++tk) {
            for (int64_t r = 0; r < s.n_rows; ++r) {
              std::vector<float> row(static_cast<size_t>(s.n_cols));
              dequantize_matrix_row(m.w, r, row.data());
              double l1 = 0;
              for (int64_t c = 0; c < s.n_cols; ++c) l1 += std::fabs(row[c] * x[tk * s.n_cols + c]);
              const size_t i = static_cast<size_t>(tk * s.n_rows + r);
              ASSERT_NEAR(y[i], y_rows[i], 2e-5 * l1 + 1e-6)
                  << ks->name << " " << ggml_type_name(t) << " " << s.n_rows << "x" << s.n_cols << " tokens "
                  << n_tokens << " t " << tk << " r " << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace maas
