#include "base/status.h"

#include <gtest/gtest.h>

#include "base/fp16.h"

namespace maas {
namespace {

StatusOr<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("not positive");
  return v;
}

Status use_macros(int v, int* out) {
  ASSIGN_OR_RETURN(int x, parse_positive(v));
  RETURN_IF_ERROR(x > 100 ? out_of_range("too big") : Status::Ok());
  *out = x;
  return Status::Ok();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = not_found("file x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.to_string(), "NOT_FOUND: file x");
  EXPECT_EQ(s.with_context("loading").message(), "loading: file x");
}

TEST(Status, Macros) {
  int out = 0;
  EXPECT_TRUE(use_macros(5, &out).ok());
  EXPECT_EQ(out, 5);
  EXPECT_EQ(use_macros(-1, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(use_macros(101, &out).code(), StatusCode::kOutOfRange);
}

TEST(Fp16, RoundTripsAllHalfValues) {
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t v = static_cast<uint16_t>(h);
    float f = fp16_to_fp32(v);
    if (f != f) continue;  // NaN payloads need not round-trip bit-exactly
    EXPECT_EQ(fp32_to_fp16(f), v) << h;
  }
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 4096), 0x3c00);  // tie to even
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
}

}  // namespace
}  // namespace maas
