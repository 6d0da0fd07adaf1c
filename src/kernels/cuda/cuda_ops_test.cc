// cuda_ops_test.cc — parity of the CUDA ops (cuda_ops.h) with kernels.h's scalar reference.
// Needs a GPU: without one, main() prints a line saying so and exits 77, which ctest reports as
// skipped (SKIP_RETURN_CODE; label gpu), never as passed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention_internal.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/kernels.h"
#include "kernels/kernels_internal.h"
#include "model/rope.h"

namespace maas::cuda {
namespace {

constexpr int kSkipped = 77;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& host) {
  auto b = DeviceBuffer::allocate(host.size() * sizeof(T));
  EXPECT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_TRUE(b->upload(host.data(), host.size() * sizeof(T)).ok());
  return std::move(*b);
}

std::vector<float> download(const DeviceBuffer& b, size_t n) {
  std::vector<float> host(n);
  Status s = synchronize();
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_TRUE(b.download(host.data(), n * sizeof(float)).ok());
  return host;
}

TEST(CudaOps, RmsNormMatchesReference) {
  for (int64_t d : {64, 2048, 4096, 5000}) {
    const int64_t n = 7;
    std::vector<float> x = random_floats(static_cast<size_t>(n * d), 1), w = random_floats(static_cast<size_t>(d), 2);
    std::vector<float> want(x.size());
    for (int64_t t = 0; t < n; ++t) maas::rms_norm(&x[t * d], w.data(), &want[t * d], d, 1e-5f);
    DeviceBuffer dx = upload(x), dw = upload(w);
    ASSERT_TRUE(rms_norm(static_cast<float*>(dx.data()), static_cast<float*>(dw.data()), static_cast<float*>(dx.data()), n, d,
                         1e-5f).ok());  // in place, as the forward pass may call it
    std::vector<float> got = download(dx, x.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f * (1.f + std::fabs(want[i]))) << "d " << d << " i " << i;
  }
}

TEST(CudaOps, EmbedMatchesDequantizedRows) {
  const int64_t n_vocab = 100, n_cols = 320;
  std::vector<int32_t> tokens = {5, 0, 99, 5, 42};
  std::vector<float> f32 = random_floats(static_cast<size_t>(n_vocab * n_cols), 3);
  std::vector<uint16_t> f16(f32.size()), bf16(f32.size());
  for (size_t i = 0; i < f32.size(); ++i) {
    f16[i] = fp32_to_fp16(f32[i]);
    bf16[i] = fp32_to_bf16(f32[i]);
  }
  DeviceBuffer dtok = upload(tokens);
  auto out = DeviceBuffer::allocate(tokens.size() * static_cast<size_t>(n_cols) * sizeof(float));
  ASSERT_TRUE(out.ok());
  struct Case { GgmlType type; const void* host; DeviceBuffer dev; };
  std::vector<uint8_t> q4_0(ggml_row_size(GgmlType::kQ4_0, n_cols) * n_vocab);
  quantize_row(GgmlType::kQ4_0, f32.data(), q4_0.data(), n_vocab * n_cols);
  Case cases[] = {{GgmlType::kF32, f32.data(), upload(f32)}, {GgmlType::kF16, f16.data(), upload(f16)},
                  {GgmlType::kBF16, bf16.data(), upload(bf16)}, {GgmlType::kQ4_0, q4_0.data(), upload(q4_0)}};
  for (Case& c : cases) {
    ASSERT_TRUE(embed(c.type, c.dev.data(), n_cols, static_cast<const int32_t*>(dtok.data()), static_cast<int64_t>(tokens.size()),
                      static_cast<float*>(out->data())).ok());
    std::vector<float> got = download(*out, tokens.size() * static_cast<size_t>(n_cols));
    const size_t row_bytes = ggml_row_size(c.type, n_cols);
    std::vector<float> want(static_cast<size_t>(n_cols));
    for (size_t t = 0; t < tokens.size(); ++t) {
      dequantize_row(c.type, static_cast<const uint8_t*>(c.host) + static_cast<size_t>(tokens[t]) * row_bytes, want.data(), n_cols);
      for (int64_t i = 0; i < n_cols; ++i) ASSERT_EQ(got[t * static_cast<size_t>(n_cols) + static_cast<size_t>(i)], want[static_cast<size_t>(i)]);
    }
  }
  EXPECT_EQ(embed(GgmlType::kQ5_0, nullptr, 32, nullptr, 1, nullptr).code(), StatusCode::kUnimplemented);
}

// A random matrix of `type` (file layout) and its dequantized floats.
struct HostMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // dequantized
  WeightMatrix w;
};
HostMatrix random_matrix(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
  HostMatrix m;
  const std::vector<float> f = random_floats(static_cast<size_t>(rows * cols), seed);
  m.bytes.resize(ggml_row_size(type, cols) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(type, &f[static_cast<size_t>(r * cols)], m.bytes.data() + static_cast<size_t>(r) * ggml_row_size(type, cols), cols);
  }
  m.values.resize(f.size());
  dequantize_row(type, m.bytes.data(), m.values.data(), rows * cols);
  m.w = WeightMatrix{type, m.bytes.data(), rows, cols};
  return m;
}

constexpr GgmlType kAllTypes[] = {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0,
                                  GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K};
bool k_quant(GgmlType t) { return t == GgmlType::kQ4_K || t == GgmlType::kQ6_K; }

// y = x · wᵀ on the device for n tokens, x starting `x_offset` floats into its buffer (an offset
// that is not a multiple of 4 takes the mat-vec kernel's unaligned fallback).
std::vector<float> device_matmul(const HostMatrix& m, const DeviceBuffer& dw, const std::vector<float>& x, int64_t n,
                                 size_t x_offset = 0) {
  std::vector<float> padded(x_offset, 0.f);
  padded.insert(padded.end(), x.begin(), x.end());
  DeviceBuffer dx = upload(padded);
  auto dy = DeviceBuffer::allocate(static_cast<size_t>(n * m.w.n_rows) * sizeof(float));
  EXPECT_TRUE(dy.ok());
  Status s = matmul({m.w.type, dw.data(), m.w.n_rows, m.w.n_cols}, static_cast<const float*>(dx.data()) + x_offset, n,
                    static_cast<float*>(dy->data()));
  EXPECT_TRUE(s.ok()) << s.to_string();
  return download(*dy, static_cast<size_t>(n * m.w.n_rows));
}

// Bound per output: tol * sum_c |w_rc x_c|; tol 1e-5 where the activations stay float (mat-vec,
// SGEMM), 2^-7 where cuBLAS takes them rounded to 16 bits (F16 / BF16 / block types dequantized
// to F16).
void expect_matches_reference(const HostMatrix& m, const std::vector<float>& x, int64_t n, const std::vector<float>& got,
                              const std::string& what) {
  const int64_t rows = m.w.n_rows, cols = m.w.n_cols;
  std::vector<float> want(static_cast<size_t>(n * rows));
  ref::matmul(m.w, x.data(), n, want.data());
  const bool rounded = !matmul_streams(m.w.type, n) && m.w.type != GgmlType::kF32;
  const double tol = rounded ? 1.0 / 128 : 1e-5;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double mag = 0;
      for (int64_t c = 0; c < cols; ++c) mag += std::fabs(m.values[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(t * cols + c)]);
      const size_t i = static_cast<size_t>(t * rows + r);
      ASSERT_NEAR(got[i], want[i], tol * mag) << what << " " << ggml_type_name(m.w.type) << " " << rows << "x" << cols << " n " << n
                                              << " t " << t << " r " << r;
    }
  }
}

// Every weight type, through the mat-vec kernel (n <= kMatvecMaxTokens) and cuBLAS (n above),
// against the double-precision reference on the same dequantized weights.
TEST(CudaOps, MatmulMatchesReferenceForEveryType) {
  const int64_t rows = 72, cols = 512;
  for (GgmlType type : kAllTypes) {
    HostMatrix m = random_matrix(type, rows, cols, 11);
    DeviceBuffer dw = upload(m.bytes);
    for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 12);
      expect_matches_reference(m, x, n, device_matmul(m, dw, x, n), "aligned");
    }
  }
  EXPECT_EQ(matmul({GgmlType::kQ5_0, nullptr, 1, 32}, nullptr, 1, nullptr).code(), StatusCode::kUnimplemented);
}

// Shapes the tiled kernel meets at the edges: an odd number of rows (the last warp has one), rows
// whose bytes are not 16-aligned (blocks of 18, 34, 210 bytes; F16 rows of 200), a last tile
// shorter than the others (1280 = 1024 + 256 elements), a width that is not a multiple of 8 and
// misaligned activations (both the one-element-per-lane fallback), and a matrix of 1 row.
TEST(CudaOps, MatmulMatchesReferenceOnOddShapes) {
  for (GgmlType type : kAllTypes) {
    const bool float_type = type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16;
    std::vector<std::pair<int64_t, int64_t>> shapes = {{37, k_quant(type) ? 1280 : 96}, {1, k_quant(type) ? 256 : 32},
                                                       {129, k_quant(type) ? 2304 : 1120}, {6, 14336}};
    if (float_type) shapes.push_back({45, 200});
    if (float_type) shapes.push_back({13, 36});
    for (auto [rows, cols] : shapes) {
      HostMatrix m = random_matrix(type, rows, cols, 13);
      DeviceBuffer dw = upload(m.bytes);
      for (int64_t n : {1, 3, 8, 9}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 14);
        expect_matches_reference(m, x, n, device_matmul(m, dw, x, n), "odd shape");
        if (matmul_streams(type, n)) expect_matches_reference(m, x, n, device_matmul(m, dw, x, n, 1), "misaligned x");
      }
    }
  }
}

// The fused ops against the unfused ones on the device: matmul_many (several matrices, one
// launch) and matmul_add (the epilogue) give the same bits as matmul and add; matmul_swiglu the
// same bits as matmul, matmul and silu_mul (the same float expression). Through cuBLAS (F types
// at n > 8) matmul_add is beta = 1, within float rounding of the sum; n = 12 on block types is
// two mat-vec passes.
TEST(CudaOps, FusedMatmulsMatchUnfused) {
  const int64_t cols = 768;
  for (GgmlType type : kAllTypes) {
    HostMatrix q = random_matrix(type, 96, cols, 21), k = random_matrix(type, 33, cols, 22), v = random_matrix(type, 32, cols, 23);
    DeviceBuffer dq = upload(q.bytes), dk = upload(k.bytes), dv = upload(v.bytes);
    for (int64_t n : {1, 2, 5, 8, 12}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 24);
      DeviceBuffer dx = upload(x);
      const float* px = static_cast<const float*>(dx.data());
      auto out = [&](int64_t rows) { return upload(std::vector<float>(static_cast<size_t>(n * rows), 0.f)); };
      DeviceBuffer yq = out(96), yk = out(33), yv = out(32);
      const DeviceMatrix mq{type, dq.data(), 96, cols}, mk{type, dk.data(), 33, cols}, mv{type, dv.data(), 32, cols};
      const MatmulTarget targets[] = {{mq, static_cast<float*>(yq.data())}, {mk, static_cast<float*>(yk.data())},
                                      {mv, static_cast<float*>(yv.data())}};
      ASSERT_TRUE(matmul_many(targets, 3, px, n).ok());
      EXPECT_EQ(download(yq, static_cast<size_t>(n * 96)), device_matmul(q, dq, x, n)) << ggml_type_name(type) << " n " << n;
      EXPECT_EQ(download(yk, static_cast<size_t>(n * 33)), device_matmul(k, dk, x, n)) << ggml_type_name(type) << " n " << n;
      EXPECT_EQ(download(yv, static_cast<size_t>(n * 32)), device_matmul(v, dv, x, n)) << ggml_type_name(type) << " n " << n;

      const std::vector<float> y0 = random_floats(static_cast<size_t>(n * 96), 25);
      DeviceBuffer ya = upload(y0);
      ASSERT_TRUE(matmul_add(mq, px, n, static_cast<float*>(ya.data())).ok());
      const std::vector<float> got_add = download(ya, y0.size()), prod = device_matmul(q, dq, x, n);
      for (size_t i = 0; i < y0.size(); ++i) {
        if (matmul_streams(type, n)) {
          ASSERT_EQ(got_add[i], y0[i] + prod[i]) << ggml_type_name(type) << " n " << n << " i " << i;
        } else {
          ASSERT_NEAR(got_add[i], y0[i] + prod[i], 1e-6f * (std::fabs(y0[i]) + std::fabs(prod[i]))) << ggml_type_name(type) << " i " << i;
        }
      }

      // SwiGLU over gate = q's matrix and up = a second matrix of its shape.
      HostMatrix u = random_matrix(type, 96, cols, 26);
      DeviceBuffer du = upload(u.bytes), ys = out(96), yu = out(96);
      ASSERT_TRUE(matmul_swiglu(mq, {type, du.data(), 96, cols}, px, n, static_cast<float*>(ys.data()),
                                static_cast<float*>(yu.data())).ok());
      std::vector<float> want = device_matmul(q, dq, x, n);
      const std::vector<float> up = device_matmul(u, du, x, n);
      DeviceBuffer dg = upload(want), dup = upload(up);
      ASSERT_TRUE(silu_mul(static_cast<float*>(dg.data()), static_cast<float*>(dup.data()), static_cast<float*>(dg.data()),
                           static_cast<int64_t>(want.size())).ok());
      want = download(dg, want.size());
      EXPECT_EQ(download(ys, want.size()), want) << ggml_type_name(type) << " n " << n;
    }
  }
}

TEST(CudaOps, ElementwiseOpsMatchReference) {
  const int64_t n = 100003;
  const std::vector<float> g = random_floats(n, 21), u = random_floats(n, 22);
  std::vector<float> want(n);
  maas::silu_mul(g.data(), u.data(), want.data(), n);
  DeviceBuffer dg = upload(g), du = upload(u);
  ASSERT_TRUE(silu_mul(static_cast<float*>(dg.data()), static_cast<float*>(du.data()), static_cast<float*>(dg.data()), n).ok());
  std::vector<float> got = download(dg, n);
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], want[i], 1e-6f * (1.f + std::fabs(want[i]))) << i;

  std::vector<float> y = g;
  maas::add_inplace(y.data(), u.data(), n);
  DeviceBuffer dy = upload(g);
  ASSERT_TRUE(add(static_cast<float*>(dy.data()), static_cast<float*>(du.data()), n).ok());
  EXPECT_EQ(download(dy, n), y);

  const int64_t d = 300;
  const std::vector<int32_t> rows = {4, 0, 9, 9};
  DeviceBuffer drows = upload(rows);
  auto out = DeviceBuffer::allocate(rows.size() * d * sizeof(float));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(gather_rows(static_cast<float*>(du.data()), static_cast<const int32_t*>(drows.data()), 4, d,
                          static_cast<float*>(out->data())).ok());
  got = download(*out, rows.size() * d);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int64_t i = 0; i < d; ++i) ASSERT_EQ(got[r * d + i], u[rows[r] * d + i]);
  }
}

// The step of a batch of two sequences over a shuffled paged cache, as the backend lays it out.
struct PagedStep {
  int32_t block_size = 4, n_blocks = 12, n_head = 8, n_head_kv = 2, head_dim = 64;
  std::vector<int32_t> pos, table_offset, tables;  // per token; every table concatenated
  int64_t n() const { return static_cast<int64_t>(pos.size()); }
  int32_t dkv() const { return n_head_kv * head_dim; }
  int64_t row(int64_t t, int32_t p) const {
    return static_cast<int64_t>(tables[table_offset[t] + p / block_size]) * block_size + p % block_size;
  }
};
PagedStep two_sequences() {
  PagedStep s;
  s.tables = {7, 2, 5, 0, 11, /* b: */ 3, 9, 1};
  for (int32_t p = 13; p < 19; ++p) {  // a: 6 new tokens after 13 cached
    s.pos.push_back(p);
    s.table_offset.push_back(0);
  }
  for (int32_t p = 0; p < 10; ++p) {  // b: a 10-token prefill
    s.pos.push_back(p);
    s.table_offset.push_back(5);
  }
  return s;
}

struct DeviceStep {
  DeviceBuffer pos, off, tables;
  DeviceTokens tokens(const PagedStep& s) const {
    return {static_cast<const int32_t*>(pos.data()), static_cast<const int32_t*>(off.data()),
            static_cast<const int32_t*>(tables.data()), s.n()};
  }
};
DeviceStep upload_step(const PagedStep& s) { return {upload(s.pos), upload(s.table_offset), upload(s.tables)}; }

// RoPE with Llama 3.1 factors and the KV write against model/rope.h and a host copy.
TEST(CudaOps, RopeStoreKvMatchesRope) {
  const PagedStep s = two_sequences();
  LlamaConfig c;
  c.n_head = s.n_head;
  c.n_head_kv = s.n_head_kv;
  c.head_dim = s.head_dim;
  c.n_rot = s.head_dim;
  c.rope_freq_base = 500000.f;
  std::vector<float> factors(static_cast<size_t>(c.n_rot / 2));
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.f + static_cast<float>(i % 7);
  const Rope rope(c, factors);
  const int64_t dq = s.n_head * s.head_dim, dkv = s.dkv(), n = s.n();
  std::vector<float> q = random_floats(static_cast<size_t>(n * dq), 31), k = random_floats(static_cast<size_t>(n * dkv), 32),
                     v = random_floats(static_cast<size_t>(n * dkv), 33);
  DeviceBuffer dq_ = upload(q), dk = upload(k), dv = upload(v);
  DeviceBuffer freqs = upload(rope.inv_freq());
  DeviceStep step = upload_step(s);
  for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
    const size_t esize = elem == KvElem::kF32 ? 4 : 2, cache_elems = static_cast<size_t>(s.n_blocks * s.block_size * dkv);
    auto kc = DeviceBuffer::allocate(cache_elems * esize), vc = DeviceBuffer::allocate(cache_elems * esize);
    ASSERT_TRUE(kc.ok() && vc.ok());
    DeviceBuffer qd = upload(q), kd = upload(k);
    DeviceKvLayer layer{kc->data(), vc->data(), elem, s.block_size, s.n_head_kv, s.head_dim};
    Status st = rope_store_kv(static_cast<const double*>(freqs.data()), c.n_rot, static_cast<float*>(qd.data()), s.n_head,
                              static_cast<float*>(kd.data()), static_cast<const float*>(dv.data()), layer, step.tokens(s));
    ASSERT_TRUE(st.ok()) << st.to_string();
    const std::vector<float> gq = download(qd, q.size()), gk = download(kd, k.size());
    std::vector<uint8_t> hk(cache_elems * esize), hv(cache_elems * esize);
    ASSERT_TRUE(kc->download(hk.data(), hk.size()).ok());
    ASSERT_TRUE(vc->download(hv.data(), hv.size()).ok());
    auto cached = [&](const std::vector<uint8_t>& b, int64_t i) {
      if (elem == KvElem::kF32) return reinterpret_cast<const float*>(b.data())[i];
      return fp16_to_fp32(reinterpret_cast<const uint16_t*>(b.data())[i]);
    };
    for (int64_t t = 0; t < n; ++t) {
      std::vector<float> wq(q.begin() + t * dq, q.begin() + (t + 1) * dq), wk(k.begin() + t * dkv, k.begin() + (t + 1) * dkv);
      rope.apply(wq.data(), s.n_head, s.pos[t]);
      rope.apply(wk.data(), s.n_head_kv, s.pos[t]);
      for (int64_t i = 0; i < dq; ++i) ASSERT_NEAR(gq[t * dq + i], wq[i], 1e-6f * (1.f + std::fabs(wq[i]))) << t << " " << i;
      const int64_t row = s.row(t, s.pos[t]);
      for (int64_t i = 0; i < dkv; ++i) {
        ASSERT_NEAR(gk[t * dkv + i], wk[i], 1e-6f * (1.f + std::fabs(wk[i]))) << t << " " << i;
        const float want_k = elem == KvElem::kF32 ? wk[i] : fp16_to_fp32(fp32_to_fp16(wk[i]));
        const float want_v = elem == KvElem::kF32 ? v[t * dkv + i] : fp16_to_fp32(fp32_to_fp16(v[t * dkv + i]));
        ASSERT_NEAR(cached(hk, row * dkv + i), want_k, 2e-3f * (1.f + std::fabs(want_k)));
        ASSERT_EQ(cached(hv, row * dkv + i), want_v);
      }
    }
  }
  EXPECT_EQ(rope_store_kv(nullptr, 2 * 1024, nullptr, 1, nullptr, nullptr, {nullptr, nullptr, KvElem::kF32, 4, 1, 64},
                          {nullptr, nullptr, nullptr, 1}).code(),
            StatusCode::kInvalidArgument);
}

// Attention over a shuffled paged cache (F32 and F16), decode and prefill tokens in one call,
// against kernels.h's scalar reference per (token, KV group) on the same (rounded) cache.
TEST(CudaOps, AttentionMatchesReference) {
  for (int32_t head_dim : {64, 128, 96}) {
    PagedStep s = two_sequences();
    s.head_dim = head_dim;
    const int64_t dq = s.n_head * s.head_dim, dkv = s.dkv(), n = s.n();
    const size_t cache_elems = static_cast<size_t>(s.n_blocks * s.block_size * dkv);
    const std::vector<float> q = random_floats(static_cast<size_t>(n * dq), 41);
    std::vector<float> k = random_floats(cache_elems, 42), v = random_floats(cache_elems, 43);
    DeviceBuffer dqb = upload(q);
    DeviceStep step = upload_step(s);
    for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
      std::vector<float> kr = k, vr = v;  // the cache as the reference sees it
      DeviceBuffer kc, vc;
      if (elem == KvElem::kF16) {
        std::vector<uint16_t> kh(cache_elems), vh(cache_elems);
        for (size_t i = 0; i < cache_elems; ++i) {
          kh[i] = fp32_to_fp16(k[i]);
          vh[i] = fp32_to_fp16(v[i]);
          kr[i] = fp16_to_fp32(kh[i]);
          vr[i] = fp16_to_fp32(vh[i]);
        }
        kc = upload(kh);
        vc = upload(vh);
      } else {
        kc = upload(k);
        vc = upload(v);
      }
      auto out = DeviceBuffer::allocate(q.size() * sizeof(float));
      ASSERT_TRUE(out.ok());
      const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
      Status st = attention(static_cast<const float*>(dqb.data()), s.n_head, {kc.data(), vc.data(), elem, s.block_size, s.n_head_kv, head_dim},
                            step.tokens(s), scale, static_cast<float*>(out->data()));
      ASSERT_TRUE(st.ok()) << st.to_string();
      const std::vector<float> got = download(*out, q.size());
      std::vector<float> want(q.size());
      const int32_t n_gqa = s.n_head / s.n_head_kv;
      for (int64_t t = 0; t < n; ++t) {
        for (int32_t g = 0; g < s.n_head_kv; ++g) {
          const int64_t first = t * dq + static_cast<int64_t>(g) * n_gqa * head_dim;
          ref::attention_paged({.q = &q[first], .out = &want[first], .stride = dq, .n_heads = n_gqa, .head_dim = head_dim,
                                .pos0 = s.pos[t], .n_tokens = 1, .scale = scale},
                               {.k = kr.data() + g * head_dim, .v = vr.data() + g * head_dim, .row_stride = dkv,
                                .block_table = &s.tables[s.table_offset[t]], .block_size = s.block_size});
        }
      }
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f * (1.f + std::fabs(want[i]))) << head_dim << " " << i;
    }
  }
}

}  // namespace
}  // namespace maas::cuda

int main(int argc, char** argv) {
  if (maas::cuda::device_count() == 0) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount failed or returned 0); the gpu-labelled tests need one\n");
    return maas::cuda::kSkipped;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
