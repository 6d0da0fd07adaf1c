// matmul.cc — the matmul driver: quantize the activations once into the weight type's activation
// format (kernels_internal.h), then split the output rows across the pool's threads, each running
// the variant's tile kernel over its rows. Tokens are taken in chunks of kTokenChunk so the chunk's
// activations stay in L2 while a thread's weight rows stream past them.
#include <algorithm>
#include <span>
#include <vector>

#include "base/check.h"
#include "kernels/kernels_internal.h"

namespace maas::kern {
namespace {

constexpr int64_t kTokenChunk = 64;
constexpr long kRowAlign = 16;  // row tiles are 1..8 rows; 16 keeps threads off shared y lines
constexpr int64_t kChunksPerThread = 8;  // row chunks dealt per thread and call, on average

bool is_float_type(GgmlType t) {
  return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16;
}

// Activation formats: floats as they are, BlockQ8A (Q8_0 / Q4_0) or BlockQ8K (K-quants).
enum class ActKind { kFloat, kQ8A, kQ8K };
ActKind act_kind(GgmlType t) {
  if (is_float_type(t)) return ActKind::kFloat;
  return t == GgmlType::kQ8_0 || t == GgmlType::kQ4_0 ? ActKind::kQ8A : ActKind::kQ8K;
}

// Quantizes x (n_tokens rows of n_cols) into scratch slot `slot` in the format `type` wants.
const uint8_t* prepare_acts(GgmlType type, const float* x, int64_t n_cols, int64_t n_tokens, int slot,
                            ThreadPool& pool) {
  const size_t row_bytes = act_row_bytes(type, n_cols);
  thread_local std::vector<uint8_t> bufs[2];  // grow-only: the hot path does not allocate
  std::vector<uint8_t>& buf = bufs[slot];
  if (buf.size() < row_bytes * static_cast<size_t>(n_tokens)) buf.resize(row_bytes * static_cast<size_t>(n_tokens));
  uint8_t* act = buf.data();
  auto prepare = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) prepare_act_row(type, x + t * n_cols, act + static_cast<size_t>(t) * row_bytes, n_cols);
  };
  if (n_tokens >= 4 && pool.n_threads() > 1) {
    pool.run([&](int ith, int nth) {
      long t0, t1;
      ThreadPool::split(static_cast<long>(n_tokens), ith, nth, 1, &t0, &t1);
      prepare(t0, t1);
    });
  } else {
    prepare(0, n_tokens);
  }
  return act;
}

// A kRows16 matrix on a variant without kRows16 kernels: each 16-row group goes back to ggml's
// layout first.
void matmul_regrouped(const MatmulFn fn, const WeightMatrix& w, const MatmulArgs& a, int64_t n_tokens,
                      ThreadPool& pool) {
  pool.run([&](int ith, int nth) {
    thread_local std::vector<uint8_t> rows;
    rows.resize(a.w_row_bytes * 16);
    long r0, r1;
    ThreadPool::split(static_cast<long>(w.n_rows), ith, nth, kRowAlign, &r0, &r1);
    for (int64_t r = r0; r < r1; r += 16) {
      deinterleave_group16(w, r / 16, rows.data());
      MatmulArgs g = a;
      g.w = rows.data();
      g.y = a.y + r;
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenChunk) fn(g, 0, 16, t0, std::min(n_tokens, t0 + kTokenChunk));
    }
  });
}

}  // namespace

void matmul_many_with(const KernelSet& ks, std::span<const MatmulOut> outs, const float* x, int64_t n_tokens,
                      ThreadPool& pool) {
  if (n_tokens <= 0) return;
  struct Job {
    MatmulArgs a;
    MatmulFn fn;
    int64_t first_chunk, rows_per_chunk;
  };
  constexpr size_t kMaxJobs = 4;
  CHECK(outs.size() <= kMaxJobs);
  Job jobs[kMaxJobs];
  size_t n_jobs = 0;
  const uint8_t* acts[3] = {nullptr, nullptr, nullptr};  // per ActKind, quantized once
  int slots = 0;
  int64_t n_chunks = 0;
  for (const MatmulOut& o : outs) {
    const WeightMatrix& w = *o.w;
    const bool rows16 = w.layout == WeightLayout::kRows16;
    CHECK(!rows16 || w.n_rows % 16 == 0);
    const MatmulFn fn16 = rows16 ? ks.for_type_rows16(w.type) : nullptr;
    const MatmulFn fn = fn16 != nullptr ? fn16 : ks.for_type(w.type);
    CHECK_MSG(fn != nullptr, "matmul: unsupported weight type");
    CHECK(w.n_cols % ggml_traits(w.type).block_size == 0);
    if (w.n_rows <= 0) continue;
    if (ks.mm_prompt != nullptr && ks.mm_prompt(w, x, n_tokens, o.y, pool)) continue;

    MatmulArgs a;
    a.w = static_cast<const uint8_t*>(w.data);
    a.w_row_bytes = w.row_bytes();
    a.n_cols = w.n_cols;
    a.x_row_bytes = act_row_bytes(w.type, w.n_cols);
    a.y = o.y;
    a.y_stride = w.n_rows;
    const ActKind kind = act_kind(w.type);
    if (kind == ActKind::kFloat) {
      a.x = reinterpret_cast<const uint8_t*>(x);  // float kernels read x as it is
    } else {
      const uint8_t*& act = acts[static_cast<int>(kind)];
      if (act == nullptr) act = prepare_acts(w.type, x, w.n_cols, n_tokens, slots++, pool);
      a.x = act;
    }
    if (rows16 && fn16 == nullptr) {
      matmul_regrouped(fn, w, a, n_tokens, pool);
      continue;
    }
    const int64_t n_units = (w.n_rows + kRowAlign - 1) / kRowAlign;
    const int64_t per = std::max<int64_t>(1, n_units / (kChunksPerThread * pool.n_threads()));
    jobs[n_jobs++] = {a, fn, n_chunks, per * kRowAlign};
    n_chunks += (n_units + per - 1) / per;
  }
  if (n_jobs == 0) return;

  // Rows are dealt in chunks from one shared counter (over every matrix of the call) instead of a
  // fixed share per thread: on a shared host one core is often slower for a while, and a fixed
  // split makes the other wait at the join (perf: 6% of 1B Q4_0 decode spent spinning there;
  // dealing chunks gave tg64 25.2 -> 26.9 t/s, alternating runs). One call for Q, K and V (gate and
  // up) is one join instead of three (two). A chunk's weights stay in cache across its token chunks.
  pool.deal(static_cast<long>(n_chunks), 1, [&](long c, long) {
    size_t j = 0;
    while (j + 1 < n_jobs && jobs[j + 1].first_chunk <= c) ++j;
    const Job& job = jobs[j];
    const int64_t n_rows = job.a.y_stride;
    const int64_t r0 = (c - job.first_chunk) * job.rows_per_chunk, r1 = std::min(n_rows, r0 + job.rows_per_chunk);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenChunk) job.fn(job.a, r0, r1, t0, std::min(n_tokens, t0 + kTokenChunk));
  });
}

void matmul_with(const KernelSet& ks, const WeightMatrix& w, const float* x, int64_t n_tokens,
                 float* y, ThreadPool& pool) {
  const MatmulOut out{&w, y};
  matmul_many_with(ks, std::span<const MatmulOut>(&out, 1), x, n_tokens, pool);
}

}  // namespace maas::kern

namespace maas {

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  kern::matmul_with(kern::active_kernels(), w, x, n_tokens, y, pool);
}

void matmul_many(std::initializer_list<MatmulOut> outs, const float* x, int64_t n_tokens, ThreadPool& pool) {
  kern::matmul_many_with(kern::active_kernels(), std::span<const MatmulOut>(outs.begin(), outs.size()), x, n_tokens,
                         pool);
}

}  // namespace maas
