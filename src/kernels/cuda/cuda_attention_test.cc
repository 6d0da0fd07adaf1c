// cuda_attention_test.cc — the planned CUDA attention (split decode + tiled prefill, cuda_ops.h,
// attention_plan.h) against kernels.h's scalar reference (ref::attention_paged) on the same cache.
// Needs a GPU: without one, main() prints a line saying so and exits 77, which ctest reports as
// skipped (SKIP_RETURN_CODE; label gpu), never as passed.
//
// Tolerance: |got - want| <= 1e-4 (1 + |want|), for F32 and F16 caches alike (the reference
// reads the F16 cache's rounded values, so both sides see the same floats). The output is a convex
// combination of V rows (|v| < 6 for these normal draws); the kernels' scores are float dot
// products of <= 256 terms with q pre-scaled by scale * log2(e) (relative rounding ~1e-7 on
// |score| < ~15, i.e. weights off by ~1e-6 relative), and their sums run in float over at most
// split_size (decode) or the context (prefill) terms, against the reference's double sums: the
// expected error is ~1e-6, the worst case (float sums of 16k terms) a few 1e-5.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention_internal.h"
#include "kernels/cuda/attention_plan.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/kernels.h"

namespace maas::cuda {
namespace {

constexpr int kSkipped = 77;
constexpr double kTolerance = 1e-4;
// The tensor-core prefill (DeviceAttentionPlan::prefill_mma) rounds q (scaled), K, V and the
// probabilities to half (relative 2^-11 each): scores off by ~1e-3 of sum |q_i k_i| (< ~20 here,
// in base-2 units), so weights off by up to ~1%, outputs (|v| < 6) by a few 1e-3 (the CPU
// emulation, which rounds the same way, saw at most 2.7e-3).
constexpr double kMmaTolerance = 1e-2;

std::vector<float> random_floats(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& host) {
  auto b = DeviceBuffer::allocate(std::max<size_t>(host.size(), 1) * sizeof(T));
  EXPECT_TRUE(b.ok()) << b.status().to_string();
  if (!host.empty()) {
    EXPECT_TRUE(b->upload(host.data(), host.size() * sizeof(T)).ok());
  }
  return std::move(*b);
}

struct Shape {
  int32_t n_head, n_head_kv, head_dim, block_size;
  KvElem elem;
  std::string name() const {
    return std::to_string(n_head) + "/" + std::to_string(n_head_kv) + " heads, head_dim " + std::to_string(head_dim) +
           ", block " + std::to_string(block_size) + (elem == KvElem::kF16 ? ", f16" : ", f32");
  }
};

// A step over a paged cache whose blocks are handed out shuffled; every slot of the cache holds
// random values, so a position read past a token's own (a mask or table bug) changes the result.
class Step {
 public:
  // capacity[s]: positions sequence s's table covers (at least n_past + n_tokens).
  Step(const Shape& shape, std::vector<AttentionSeqSpan> seqs, std::vector<int32_t> capacity, uint32_t seed)
      : shape_(shape), seqs_(std::move(seqs)) {
    int32_t n_blocks = 0;
    std::vector<int32_t> n_table;
    for (size_t s = 0; s < seqs_.size(); ++s) {
      const int32_t cap = std::max(capacity.empty() ? 0 : capacity[s], seqs_[s].n_past + seqs_[s].n_tokens);
      n_table.push_back((cap + shape.block_size - 1) / shape.block_size);
      n_blocks += n_table.back();
    }
    n_blocks += 3;  // blocks no sequence owns
    std::vector<int32_t> ids(static_cast<size_t>(n_blocks));
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
    size_t next = 0;
    for (size_t s = 0; s < seqs_.size(); ++s) {
      const int32_t offset = static_cast<int32_t>(tables_.size());
      for (int32_t b = 0; b < n_table[s]; ++b) tables_.push_back(ids[next++]);
      for (int32_t j = 0; j < seqs_[s].n_tokens; ++j) {
        pos_.push_back(seqs_[s].n_past + j);
        table_offset_.push_back(offset);
      }
    }
    const size_t cache = static_cast<size_t>(n_blocks) * shape.block_size * dkv();
    k_ = random_floats(cache, seed + 1, 1.f);
    v_ = random_floats(cache, seed + 2, 1.f);
    if (shape.elem == KvElem::kF16) {
      std::vector<uint16_t> kh(cache), vh(cache);
      for (size_t i = 0; i < cache; ++i) {
        kh[i] = fp32_to_fp16(k_[i]);
        vh[i] = fp32_to_fp16(v_[i]);
        k_[i] = fp16_to_fp32(kh[i]);
        v_[i] = fp16_to_fp32(vh[i]);
      }
      dk_ = upload(kh);
      dv_ = upload(vh);
    } else {
      dk_ = upload(k_);
      dv_ = upload(v_);
    }
    // sigma 2: sharper softmax rows than unit queries give, so the max bookkeeping matters.
    q_ = random_floats(static_cast<size_t>(n() * dq()), seed + 3, 2.f);
    dq_ = upload(q_);
    dpos_ = upload(pos_);
    doff_ = upload(table_offset_);
    dtables_ = upload(tables_);
  }

  int64_t n() const { return static_cast<int64_t>(pos_.size()); }
  int64_t dq() const { return static_cast<int64_t>(shape_.n_head) * shape_.head_dim; }
  int64_t dkv() const { return static_cast<int64_t>(shape_.n_head_kv) * shape_.head_dim; }
  float scale() const { return 1.f / std::sqrt(static_cast<float>(shape_.head_dim)); }
  const std::vector<AttentionSeqSpan>& seqs() const { return seqs_; }
  AttentionShape attention_shape() const { return {shape_.n_head, shape_.n_head_kv, shape_.head_dim}; }
  DeviceKvLayer layer() const {
    return {dk_.data(), dv_.data(), shape_.elem, shape_.block_size, shape_.n_head_kv, shape_.head_dim};
  }
  DeviceTokens tokens() const {
    return {static_cast<const int32_t*>(dpos_.data()), static_cast<const int32_t*>(doff_.data()),
            static_cast<const int32_t*>(dtables_.data()), n()};
  }
  const float* q() const { return static_cast<const float*>(dq_.data()); }

  // New positions for the same tokens (each sequence's new tokens move together; the tables
  // already cover them): what a replayed CUDA graph sees from one step to the next.
  void move_to(const std::vector<int32_t>& n_past) {
    pos_.clear();
    for (size_t s = 0; s < seqs_.size(); ++s) {
      seqs_[s].n_past = n_past[s];
      for (int32_t j = 0; j < seqs_[s].n_tokens; ++j) pos_.push_back(n_past[s] + j);
    }
    ASSERT_TRUE(dpos_.upload(pos_.data(), pos_.size() * sizeof(int32_t)).ok());
  }

  // ref::attention_paged per (sequence, KV group), on the cache as stored.
  std::vector<float> reference() const {
    std::vector<float> want(q_.size());
    const int32_t n_gqa = shape_.n_head / shape_.n_head_kv, hd = shape_.head_dim;
    int64_t t = 0;
    for (size_t s = 0; s < seqs_.size(); ++s) {
      for (int32_t g = 0; g < shape_.n_head_kv; ++g) {
        const int64_t first = t * dq() + static_cast<int64_t>(g) * n_gqa * hd;
        ref::attention_paged({.q = &q_[first],
                              .out = &want[first],
                              .stride = dq(),
                              .n_heads = n_gqa,
                              .head_dim = hd,
                              .pos0 = seqs_[s].n_past,
                              .n_tokens = seqs_[s].n_tokens,
                              .scale = scale()},
                             {.k = k_.data() + g * hd,
                              .v = v_.data() + g * hd,
                              .row_stride = dkv(),
                              .block_table = &tables_[table_offset_[t]],
                              .block_size = shape_.block_size});
      }
      t += seqs_[s].n_tokens;
    }
    return want;
  }

 private:
  Shape shape_;
  std::vector<AttentionSeqSpan> seqs_;
  std::vector<int32_t> pos_, table_offset_, tables_;
  std::vector<float> k_, v_, q_;  // k_, v_: the cache as stored (rounded for F16)
  DeviceBuffer dk_, dv_, dq_, dpos_, doff_, dtables_;
};

// A plan's device side: its indices uploaded, a workspace filled with NaN (a partial the reduce
// should not read poisons the output).
struct DevicePlan {
  AttentionPlan plan;
  DeviceBuffer indices, workspace;
  bool mma = false;  // prefill tiles on tensor cores
  DeviceAttentionPlan view() const {
    DeviceAttentionPlan d = device_plan(plan, static_cast<const int32_t*>(indices.data()),
                                        static_cast<float*>(workspace.data()), workspace.bytes());
    d.prefill_mma = mma;
    return d;
  }
};
DevicePlan upload_plan(const Step& step, int32_t ctx_bound) {
  DevicePlan d;
  auto plan = plan_attention(step.seqs(), step.attention_shape(), ctx_bound);
  EXPECT_TRUE(plan.ok()) << plan.status().to_string();
  d.plan = *plan;
  d.indices = upload(d.plan.device_indices());
  d.workspace = upload(std::vector<float>(std::max<size_t>(d.plan.workspace_bytes / sizeof(float), 1), NAN));
  return d;
}

// Runs the planned attention and checks it against the reference; returns the largest error.
double run_and_check(const Step& step, const DevicePlan& plan, const std::string& what, double tolerance = kTolerance) {
  auto out = DeviceBuffer::allocate(static_cast<size_t>(step.n() * step.dq()) * sizeof(float));
  EXPECT_TRUE(out.ok());
  Status s = attention(step.q(), step.attention_shape().n_head, step.layer(), step.tokens(), plan.view(), step.scale(),
                       static_cast<float*>(out->data()));
  EXPECT_TRUE(s.ok()) << what << ": " << s.to_string();
  s = synchronize();
  EXPECT_TRUE(s.ok()) << what << ": " << s.to_string();
  std::vector<float> got(static_cast<size_t>(step.n() * step.dq()));
  EXPECT_TRUE(out->download(got.data(), got.size() * sizeof(float)).ok());
  const std::vector<float> want = step.reference();
  double worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= tolerance * (1 + std::fabs(want[i])))) {  // NaN fails too
      if (bad++ < 5) {
        ADD_FAILURE() << what << ": element " << i << " (token " << i / step.dq() << ", head "
                      << (i % step.dq()) / step.attention_shape().head_dim << ") got " << got[i] << " want " << want[i];
      }
    }
    if (!(err <= worst)) worst = err;
  }
  EXPECT_EQ(bad, 0u) << what;
  std::printf("  %-70s max |err| %.2e (%lld tokens, %lld decode, %lld tiles, %d splits of %d)\n", what.c_str(), worst,
              static_cast<long long>(step.n()), static_cast<long long>(plan.plan.n_decode()),
              static_cast<long long>(plan.plan.n_tiles()), plan.plan.max_splits, plan.plan.split_size);
  return worst;
}

const int32_t kGqaRatios[] = {1, 4, 8};

// Decode at long contexts: several sequences of very different lengths in one launch, lengths
// that are multiples of neither the split nor the block size.
TEST(CudaAttention, SplitDecodeAtLongContexts) {
  for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
    for (int32_t head_dim : {64, 128}) {
      for (int32_t gqa : kGqaRatios) {
        const Shape shape{2 * gqa, 2, head_dim, 16, elem};
        // positions 1023, 4096, 16000, 0, 511 (a split's last), 512 (the next split's first)
        Step step(shape, {{1023, 1}, {4096, 1}, {16000, 1}, {0, 1}, {511, 1}, {512, 1}}, {}, 100 + gqa);
        const DevicePlan plan = upload_plan(step, 0);
        EXPECT_TRUE(plan.plan.decode_identity);
        run_and_check(step, plan, "decode 1k/4k/16k, " + shape.name());
      }
    }
  }
}

// Block sizes other than 16 and a head_dim that is neither 64 nor 128; more query heads per
// group than one split CTA holds (16 and 12 > kDecodeHeadsPerCta: two head chunks, the second
// full or not).
TEST(CudaAttention, SplitDecodeOtherShapes) {
  for (const Shape& shape :
       {Shape{8, 2, 128, 32, KvElem::kF16}, Shape{8, 2, 64, 7, KvElem::kF32}, Shape{6, 2, 96, 5, KvElem::kF16},
        Shape{32, 2, 128, 16, KvElem::kF16}, Shape{16, 2, 256, 16, KvElem::kF32}, Shape{24, 2, 64, 16, KvElem::kF16}}) {
    Step step(shape, {{3000, 1}, {77, 1}, {1, 1}}, {}, 7);
    run_and_check(step, upload_plan(step, 0), "decode, " + shape.name());
  }
}

// Prefill: fresh prompts, chunks after cached positions (chunked prefill), runs that are not a
// multiple of the tile, and a 5-token run (just above kDecodeMaxRun: still tiled).
TEST(CudaAttention, TiledPrefillWithCachedPositions) {
  for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
    for (int32_t head_dim : {64, 128}) {
      for (int32_t gqa : kGqaRatios) {
        const Shape shape{2 * gqa, 2, head_dim, 16, elem};
        Step step(shape, {{0, 130}, {300, 77}, {1000, 5}, {37, 64}}, {}, 200 + gqa);
        const DevicePlan plan = upload_plan(step, 0);
        EXPECT_EQ(plan.plan.n_decode(), 0);
        run_and_check(step, plan, "prefill chunks, " + shape.name());
      }
    }
  }
}

// One launch mixing decode tokens, prefill chunks and short runs, sequences of very different
// lengths, odd block sizes, head_dim 96 and 256, 16 query heads per group, and 3 (21-token
// tiles of 63 rows).
TEST(CudaAttention, MixedBatch) {
  for (const Shape& shape :
       {Shape{8, 2, 128, 16, KvElem::kF16}, Shape{2, 2, 64, 32, KvElem::kF32}, Shape{16, 2, 128, 7, KvElem::kF16},
        Shape{32, 2, 64, 16, KvElem::kF32}, Shape{8, 2, 256, 16, KvElem::kF16}, Shape{6, 2, 96, 5, KvElem::kF32}}) {
    Step step(shape, {{700, 1}, {300, 37}, {2000, 3}, {0, 16}, {5, 1}, {5000, 1}, {0, 1}, {128, 200}}, {}, 300);
    const DevicePlan plan = upload_plan(step, 0);
    EXPECT_GT(plan.plan.n_decode(), 0);
    EXPECT_GT(plan.plan.n_tiles(), 0);
    run_and_check(step, plan, "mixed, " + shape.name());
  }
}

// The tensor-core prefill on the cases above (head_dim 64 and 128), decode tokens beside it.
TEST(CudaAttention, TensorCorePrefill) {
  for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
    for (int32_t head_dim : {64, 128}) {
      for (int32_t gqa : kGqaRatios) {
        const Shape shape{2 * gqa, 2, head_dim, 16, elem};
        Step step(shape, {{0, 130}, {300, 77}, {1000, 5}, {37, 64}, {700, 1}, {2000, 3}}, {}, 600 + gqa);
        DevicePlan plan = upload_plan(step, 0);
        plan.mma = true;
        run_and_check(step, plan, "tensor-core prefill, " + shape.name(), kMmaTolerance);
      }
    }
  }
  const Shape odd{6, 2, 128, 7, KvElem::kF16};  // 3 heads per group: 21-token tiles of 63 rows
  Step step(odd, {{128, 200}, {5, 1}, {0, 16}}, {}, 700);
  DevicePlan plan = upload_plan(step, 0);
  plan.mma = true;
  run_and_check(step, plan, "tensor-core prefill, " + odd.name(), kMmaTolerance);
}

// What a CUDA graph replay does: one plan (fixed context bound, so one grid and one workspace)
// launched again after the positions changed on the device, longer and shorter, with the previous
// launch's partials still in the workspace.
TEST(CudaAttention, SamePlanServesNewPositions) {
  for (KvElem elem : {KvElem::kF32, KvElem::kF16}) {
    const Shape shape{32, 8, 128, 16, elem};
    const int32_t bound = 8192;
    Step step(shape, {{8000, 1}, {10, 1}, {4000, 1}, {300, 1}}, {bound, bound, bound, bound}, 400);
    const DevicePlan plan = upload_plan(step, bound);
    EXPECT_EQ(plan.plan.max_splits, 32);
    run_and_check(step, plan, "graph-style launch 1, " + shape.name());
    step.move_to({20, 8191, 4001, 299});
    run_and_check(step, plan, "graph-style launch 2 (same plan), " + shape.name());
    step.move_to({7000, 0, 256, 8100});
    run_and_check(step, plan, "graph-style launch 3 (same plan), " + shape.name());
  }
}

TEST(CudaAttention, RefusesASmallWorkspaceAndBadShapes) {
  const Shape shape{8, 2, 64, 16, KvElem::kF32};
  Step step(shape, {{100, 1}}, {}, 500);
  DevicePlan plan = upload_plan(step, 0);
  DeviceAttentionPlan small = plan.view();
  small.workspace_bytes -= 4;
  auto out = DeviceBuffer::allocate(static_cast<size_t>(step.dq()) * sizeof(float));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(
      attention(step.q(), 8, step.layer(), step.tokens(), small, step.scale(), static_cast<float*>(out->data())).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      attention(step.q(), 7, step.layer(), step.tokens(), plan.view(), step.scale(), static_cast<float*>(out->data()))
          .code(),
      StatusCode::kInvalidArgument);
}

// Performance mode (disabled by default; the device check runs it): Llama 3 8B's attention shape
// (32 heads over 8 KV heads, head_dim 128, F16 cache, 16-slot blocks) timed in the planned form
// and the simple one on the same step, whose outputs must agree (same tolerance as above), and for
// prefill the tensor-core tiles too (kMmaTolerance). Prints microseconds per call, the KV bytes
// read per second (each cached row once per KV group) and, for prefill, TFLOP/s.
// Run: cuda_attention_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Perf*'
struct PerfCase {
  int32_t n_seqs, n_past, n_tokens;  // n_seqs sequences of n_tokens new tokens after n_past
};

double time_us(const std::function<Status()>& launch) {
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(launch().ok());
  EXPECT_TRUE(synchronize().ok());
  constexpr int kIters = 20;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) EXPECT_TRUE(launch().ok());
  EXPECT_TRUE(synchronize().ok());
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kIters;
}

TEST(CudaAttention, DISABLED_PerfLlama8bShape) {
  const int32_t n_head = 32, n_head_kv = 8, hd = 128, bs = 16;
  const int64_t dq = n_head * hd, dkv = n_head_kv * hd;
  for (const PerfCase& c : {PerfCase{1, 1023, 1}, PerfCase{1, 16383, 1}, PerfCase{16, 1023, 1}, PerfCase{16, 4095, 1},
                            PerfCase{64, 1023, 1}, PerfCase{256, 1023, 1}, PerfCase{1, 0, 512}, PerfCase{4, 0, 512},
                            PerfCase{1, 3584, 512}}) {
    const int32_t len = c.n_past + c.n_tokens, per_seq = (len + bs - 1) / bs;
    std::vector<AttentionSeqSpan> spans;
    std::vector<int32_t> pos, off, tables;
    for (int32_t s = 0; s < c.n_seqs; ++s) {
      spans.push_back({c.n_past, c.n_tokens});
      for (int32_t j = 0; j < c.n_tokens; ++j) {
        pos.push_back(c.n_past + j);
        off.push_back(s * per_seq);
      }
      for (int32_t b = 0; b < per_seq; ++b) tables.push_back(s * per_seq + b);
    }
    const int64_t n = static_cast<int64_t>(pos.size());
    const size_t cache = static_cast<size_t>(c.n_seqs) * per_seq * bs * dkv;
    std::vector<uint16_t> kv_host(cache);
    std::mt19937 rng(1);
    for (uint16_t& x : kv_host) x = fp32_to_fp16(static_cast<float>(static_cast<int32_t>(rng() % 2001) - 1000) / 500.f);
    DeviceBuffer k = upload(kv_host), v = upload(kv_host),
                 q = upload(random_floats(static_cast<size_t>(n * dq), 9, 1.f));
    DeviceBuffer dpos = upload(pos), doff = upload(off), dtab = upload(tables);
    auto out_planned = DeviceBuffer::allocate(static_cast<size_t>(n * dq) * sizeof(float));
    auto out_simple = DeviceBuffer::allocate(static_cast<size_t>(n * dq) * sizeof(float));
    ASSERT_TRUE(out_planned.ok() && out_simple.ok());
    const DeviceKvLayer layer{k.data(), v.data(), KvElem::kF16, bs, n_head_kv, hd};
    const DeviceTokens tokens{static_cast<const int32_t*>(dpos.data()), static_cast<const int32_t*>(doff.data()),
                              static_cast<const int32_t*>(dtab.data()), n};
    auto plan = plan_attention(spans, {n_head, n_head_kv, hd}, 0);
    ASSERT_TRUE(plan.ok());
    DeviceBuffer indices = upload(plan->device_indices());
    DeviceBuffer workspace = upload(std::vector<float>(std::max<size_t>(plan->workspace_bytes / sizeof(float), 1)));
    const DeviceAttentionPlan dplan = device_plan(*plan, static_cast<const int32_t*>(indices.data()),
                                                  static_cast<float*>(workspace.data()), workspace.bytes());
    const float scale = 1.f / std::sqrt(static_cast<float>(hd));
    const float* qp = static_cast<const float*>(q.data());
    const double planned = time_us(
        [&] { return attention(qp, n_head, layer, tokens, dplan, scale, static_cast<float*>(out_planned->data())); });
    const double simple =
        time_us([&] { return attention(qp, n_head, layer, tokens, scale, static_cast<float*>(out_simple->data())); });
    std::vector<float> a(static_cast<size_t>(n * dq)), b(a.size());
    ASSERT_TRUE(out_planned->download(a.data(), a.size() * sizeof(float)).ok());
    ASSERT_TRUE(out_simple->download(b.data(), b.size() * sizeof(float)).ok());
    size_t bad = 0;
    for (size_t i = 0; i < a.size(); ++i) bad += !(std::fabs(a[i] - b[i]) <= kTolerance * (1 + std::fabs(b[i])));
    EXPECT_EQ(bad, 0u);
    // Bytes the planned form must read at least: every cached row a token attends to, K and V,
    // once per sequence (decode tokens) or per tile (prefill; counted here once per sequence).
    const double bytes = static_cast<double>(c.n_seqs) * len * dkv * 2 * 2;
    std::printf(
        "  %3d seqs x %3d tokens after %5d: planned %9.1f us (%7.1f GB/s of KV, %lld decode, %lld tiles, "
        "%d splits of %d), simple %9.1f us, %.1fx\n",
        c.n_seqs, c.n_tokens, c.n_past, planned, bytes / planned * 1e-3, static_cast<long long>(plan->n_decode()),
        static_cast<long long>(plan->n_tiles()), plan->max_splits, plan->split_size, simple, simple / planned);
    if (plan->n_tiles() == 0) continue;
    DeviceAttentionPlan mma = dplan;
    mma.prefill_mma = true;
    const double tensor = time_us(
        [&] { return attention(qp, n_head, layer, tokens, mma, scale, static_cast<float*>(out_planned->data())); });
    ASSERT_TRUE(out_planned->download(a.data(), a.size() * sizeof(float)).ok());
    bad = 0;
    for (size_t i = 0; i < a.size(); ++i) bad += !(std::fabs(a[i] - b[i]) <= kMmaTolerance * (1 + std::fabs(b[i])));
    EXPECT_EQ(bad, 0u);
    // FLOPs of the causal products Q Kᵀ and P V (each 2 x n_head x head_dim per pair).
    double pairs = 0;
    for (int32_t j = 0; j < c.n_tokens; ++j) pairs += c.n_past + j + 1;
    const double flops = pairs * c.n_seqs * n_head * hd * 4;
    std::printf("  %42s tensor cores %9.1f us (%.1f TFLOP/s; float tiles %.1f TFLOP/s)\n", "", tensor,
                flops / tensor * 1e-6, flops / planned * 1e-6);
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
