// quantize_test.cc — block layouts and quantizer round trips: error bounds on Gaussian data per
// type, hand-built blocks that pin the bit layouts, and edge cases (zeros, ties, extremes).
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels/quant_blocks.h"
#include "kernels/test_util.h"

namespace maas {
namespace {

using kern_test::gaussian;

double rms_rel_error(GgmlType type, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(ggml_row_size(type, n));
  std::vector<float> back(x.size());
  quantize_row(type, x.data(), q.data(), n);
  dequantize_row(type, q.data(), back.data(), n);
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - back[i]) * static_cast<double>(x[i] - back[i]);
    den += x[i] * static_cast<double>(x[i]);
  }
  return std::sqrt(num / den);
}

struct Bound {
  GgmlType type;
  double max_rms_rel;  // measured on this data, with headroom (see the comment in the test)
};

TEST(Quantize, RoundTripErrorOnGaussianData) {
  // Measured (65536 N(0,1) values, seed 7): F32 0, F16 2.1e-4, BF16 1.65e-3, Q8_0 5.4e-3,
  // Q4_0 0.087, Q4_K 0.072, Q6_K 0.018 (printed below; the bounds leave ~15-20% headroom).
  const std::vector<float> x = gaussian(65536, 7);
  const Bound bounds[] = {{GgmlType::kF32, 0.0},     {GgmlType::kF16, 5e-4},  {GgmlType::kBF16, 3e-3},
                          {GgmlType::kQ8_0, 0.0065}, {GgmlType::kQ4_0, 0.10}, {GgmlType::kQ4_K, 0.085},
                          {GgmlType::kQ6_K, 0.022}};
  for (const Bound& b : bounds) {
    const double e = rms_rel_error(b.type, x);
    std::printf("  %-5s RMS relative error %.5f (bound %.5f)\n", std::string(ggml_type_name(b.type)).c_str(), e,
                b.max_rms_rel);
    EXPECT_LE(e, b.max_rms_rel) << ggml_type_name(b.type);
  }
}

TEST(Quantize, ZerosStayZero) {
  const GgmlType types[] = {GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0,
                            GgmlType::kQ4_K, GgmlType::kQ6_K};
  std::vector<float> x(512, 0.f), back(512, 1.f);
  for (GgmlType t : types) {
    std::vector<uint8_t> q(ggml_row_size(t, 512), 0xAB);
    quantize_row(t, x.data(), q.data(), 512);
    dequantize_row(t, q.data(), back.data(), 512);
    for (float v : back) ASSERT_EQ(v, 0.f) << ggml_type_name(t);
  }
}

TEST(Quantize, Q8_0MatchesGgmlRounding) {
  // amax 127 -> d = 1; 2.5 rounds away from zero (roundf) to 3, -2.5 to -3.
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = -127.f;
  BlockQ8_0 b;
  quantize_row(GgmlType::kQ8_0, x.data(), &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], -127);
}

TEST(Quantize, Q4_0UsesSignedMaxAndNibbleOrder) {
  // max-magnitude element -8 -> d = 1, so values map to nibble v + 8.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>((j % 16) - 8);
  x[0] = -8.f;
  BlockQ4_0 b;
  quantize_row(GgmlType::kQ4_0, x.data(), &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.f);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(b.qs[j] & 0xF, static_cast<int>(x[j] + 8)) << j;       // element j: low nibble
    EXPECT_EQ(b.qs[j] >> 4, static_cast<int>(x[j + 16] + 8)) << j;   // element j + 16: high nibble
  }
  // A positive extreme: max = +8 -> d = -1, +8 maps to nibble 0, -7 to 15 (clamped range).
  for (int j = 0; j < 32; ++j) x[j] = 0.f;
  x[5] = 8.f;
  x[6] = -7.f;
  quantize_row(GgmlType::kQ4_0, x.data(), &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), -1.f);
  EXPECT_EQ(b.qs[5] & 0xF, 0);
  EXPECT_EQ(b.qs[6] & 0xF, 15);
}

TEST(Quantize, Q4_KDequantizesHandBuiltBlock) {
  // scales j: sc = j + 1 (j < 4) / 40 + j (j >= 4, needs the high bits); mins m = 2j / 50 + j.
  BlockQ4K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(j < 4 ? j + 1 : 40 + j);
    mn[j] = static_cast<uint8_t>(j < 4 ? 2 * j : 50 + j);
  }
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | (((i + 3) % 16) << 4));
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    scale_min_k4(j, b.scales, &s, &m);
    EXPECT_EQ(s, sc[j]);
    EXPECT_EQ(m, mn[j]);
  }
  float y[256];
  dequantize_row(GgmlType::kQ4_K, &b, y, 256);
  for (int e = 0; e < 256; ++e) {
    const int chunk = e / 64, in = e % 64, sub = e / 32;
    const uint8_t byte = b.qs[32 * chunk + in % 32];
    const int q = in < 32 ? (byte & 0xF) : (byte >> 4);
    EXPECT_EQ(y[e], 0.5f * sc[sub] * q - 0.25f * mn[sub]) << e;
  }
}

TEST(Quantize, Q6_KDequantizesHandBuiltBlock) {
  BlockQ6K b;
  int q[256];
  for (int e = 0; e < 256; ++e) q[e] = (e * 7 + 3) % 64;
  std::memset(&b, 0, sizeof(b));
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const int* qq = q + 128 * h;
      b.ql[64 * h + l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
      b.ql[64 * h + l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
      b.qh[32 * h + l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                              ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
    }
  }
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g * 9 - 70);
  b.d = fp32_to_fp16(0.125f);
  float y[256];
  dequantize_row(GgmlType::kQ6_K, &b, y, 256);
  for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], 0.125f * b.scales[e / 16] * (q[e] - 32)) << e;
}

TEST(Quantize, RequantizingIsStable) {
  // Quantizing the dequantized values again must reproduce a block that dequantizes identically
  // (the search lands on the grid it came from): a check that quantizer and dequantizer agree.
  const std::vector<float> x = gaussian(1024, 11);
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kQ4_K}) {
    std::vector<uint8_t> q1(ggml_row_size(t, 1024)), q2(q1.size());
    std::vector<float> y1(1024), y2(1024);
    quantize_row(t, x.data(), q1.data(), 1024);
    dequantize_row(t, q1.data(), y1.data(), 1024);
    quantize_row(t, y1.data(), q2.data(), 1024);
    dequantize_row(t, q2.data(), y2.data(), 1024);
    double num = 0, den = 0;
    for (int i = 0; i < 1024; ++i) {
      num += (y1[i] - y2[i]) * static_cast<double>(y1[i] - y2[i]);
      den += y1[i] * static_cast<double>(y1[i]);
    }
    EXPECT_LT(std::sqrt(num / den), 0.01) << ggml_type_name(t);
  }
}

TEST(Quantize, F16AndBF16AreExactOnRepresentableValues) {
  const float vals[] = {0.f, -0.f, 1.f, -2.5f, 0.000061035156f, 3.140625f};
  for (float v : {65504.f, 0.00006103515625f, -1.5f, 1024.f}) {
    uint16_t h;
    float back;
    quantize_row(GgmlType::kF16, &v, &h, 1);
    dequantize_row(GgmlType::kF16, &h, &back, 1);
    EXPECT_EQ(back, v);
  }
  for (float v : vals) {
    uint16_t h;
    float back;
    quantize_row(GgmlType::kBF16, &v, &h, 1);
    dequantize_row(GgmlType::kBF16, &h, &back, 1);
    EXPECT_EQ(back, v);
  }
}

}  // namespace
}  // namespace maas
