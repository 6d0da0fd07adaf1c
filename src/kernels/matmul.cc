// matmul.cc — the matmul driver: quantize the activations once into the weight type's activation
// format (kernels_internal.h), then split the output rows across the pool's threads, each running
// the variant's tile kernel over its rows. Tokens are taken in chunks of kTokenChunk so the chunk's
// activations stay in L2 while a thread's weight rows stream past them.
#include <algorithm>
#include <atomic>
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

// Grow-only per-calling-thread scratch for the quantized activations: after the first call at a
// given size the hot path does not allocate. (The pool is driven by one thread at a time.)
uint8_t* act_scratch(size_t bytes) {
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < bytes) buf.resize(bytes);
  return buf.data();
}

}  // namespace

void matmul_with(const KernelSet& ks, const WeightMatrix& w, const float* x, int64_t n_tokens,
                 float* y, ThreadPool& pool) {
  const bool rows16 = w.layout == WeightLayout::kRows16;
  CHECK(!rows16 || w.n_rows % 16 == 0);
  const MatmulFn fn16 = rows16 ? ks.for_type_rows16(w.type) : nullptr;
  const MatmulFn fn = fn16 != nullptr ? fn16 : ks.for_type(w.type);
  CHECK_MSG(fn != nullptr, "matmul: unsupported weight type");
  CHECK(w.n_cols % ggml_traits(w.type).block_size == 0);
  if (n_tokens <= 0 || w.n_rows <= 0) return;
  if (ks.mm_prompt != nullptr && ks.mm_prompt(w, x, n_tokens, y, pool)) return;

  MatmulArgs a;
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_row_bytes = w.row_bytes();
  a.n_cols = w.n_cols;
  a.x_row_bytes = act_row_bytes(w.type, w.n_cols);
  a.y = y;
  a.y_stride = w.n_rows;
  if (is_float_type(w.type)) {
    a.x = reinterpret_cast<const uint8_t*>(x);  // float kernels read x as it is
  } else {
    uint8_t* act = act_scratch(a.x_row_bytes * static_cast<size_t>(n_tokens));
    auto prepare = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        prepare_act_row(w.type, x + t * w.n_cols, act + static_cast<size_t>(t) * a.x_row_bytes,
                        w.n_cols);
      }
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
    a.x = act;
  }

  if (rows16 && fn16 == nullptr) {
    // No kRows16 kernels in this variant: each 16-row group goes back to ggml's layout first.
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
    return;
  }
  // Rows are dealt in chunks from a shared counter instead of one fixed share per thread: on a
  // shared host one core is often slower for a while, and a fixed split makes the other wait at
  // the join (perf: 6% of 1B Q4_0 decode spent spinning there; dealing chunks gave tg64 25.2 ->
  // 26.9 t/s, alternating runs). A chunk's weights stay in cache across its token chunks.
  const int64_t n_units = (w.n_rows + kRowAlign - 1) / kRowAlign;
  const int64_t per = std::max<int64_t>(1, n_units / (kChunksPerThread * pool.n_threads()));
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    for (;;) {
      const int64_t u = next.fetch_add(per, std::memory_order_relaxed);
      if (u >= n_units) return;
      const int64_t r0 = u * kRowAlign, r1 = std::min<int64_t>(w.n_rows, (u + per) * kRowAlign);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenChunk) fn(a, r0, r1, t0, std::min(n_tokens, t0 + kTokenChunk));
    }
  });
}

}  // namespace maas::kern

namespace maas {

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  kern::matmul_with(kern::active_kernels(), w, x, n_tokens, y, pool);
}

}  // namespace maas
