// golden_test.cc — compatibility with llama.cpp's files: testdata/ggml_golden.bin holds blocks
// produced by ggml's own reference quantizers (see testdata/README.md) and ggml's
// dequantization of them. Our dequantizer must reproduce ggml's floats bit for bit, and our
// quantizer should produce the same bytes.
#include <cstdio>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels.h"

namespace maas {
namespace {

constexpr int64_t kN = 1024;

std::vector<uint8_t> read_file(const char* path) {
  std::vector<uint8_t> data;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return data;
  uint8_t buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + got);
  std::fclose(f);
  return data;
}

TEST(GgmlGolden, DequantizeBitExactAndQuantizeSameBytes) {
  const std::vector<uint8_t> file = read_file(MAAS_KERNELS_TESTDATA "/ggml_golden.bin");
  ASSERT_FALSE(file.empty()) << "missing " MAAS_KERNELS_TESTDATA "/ggml_golden.bin";
  std::vector<float> x(kN);
  std::memcpy(x.data(), file.data(), kN * 4);
  size_t off = kN * 4;
  for (GgmlType t : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    const size_t qbytes = ggml_row_size(t, kN);
    ASSERT_LE(off + qbytes + kN * 4, file.size());
    const uint8_t* golden_q = file.data() + off;
    std::vector<float> golden_y(kN), ours_y(kN);
    std::memcpy(golden_y.data(), golden_q + qbytes, kN * 4);
    off += qbytes + kN * 4;

    dequantize_row(t, golden_q, ours_y.data(), kN);
    EXPECT_EQ(std::memcmp(ours_y.data(), golden_y.data(), kN * 4), 0) << ggml_type_name(t) << " dequantize";

    std::vector<uint8_t> ours_q(qbytes);
    quantize_row(t, x.data(), ours_q.data(), kN);
    const size_t block_bytes = static_cast<size_t>(ggml_traits(t).type_size);
    for (size_t b = 0; b < qbytes / block_bytes; ++b) {
      EXPECT_EQ(std::memcmp(ours_q.data() + b * block_bytes, golden_q + b * block_bytes, block_bytes), 0)
          << ggml_type_name(t) << " quantize differs in block " << b;
    }
  }
  EXPECT_EQ(off, file.size());
}

}  // namespace
}  // namespace maas
