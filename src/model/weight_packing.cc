// weight_packing.cc — re-lays the model's Q8_0 / Q4_0 / Q4_K / Q6_K matrices at load time in the
// kRows16 layout (kernels.h) that the decode kernels stream fastest. Without a weights cache one
// anonymous (huge-page) buffer per process holds the copies, the matrices point into it, and the
// file's pages behind them are dropped from this process (MADV_DONTNEED: they stay in the page
// cache, but would otherwise count a second time in resident memory). With one, the copies live
// in a file shared by every process of the model (weight_cache.cc). MAAS_INTERLEAVE=0 keeps the
// file's layout.
#include "model/weight_packing.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/log.h"
#include "model/weight_cache.h"

namespace maas {
namespace {

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// Drops the whole pages inside [p, p + n) of the mapped file from this process.
void release_pages(const void* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// The private copy: one buffer of this process.
void relay_privately(LlamaWeights& w, const RelayPlan& plan) {
  // 2 MiB-aligned and advised for transparent huge pages: decode streams every byte once per
  // token, and with 4 KiB pages every 4 KiB is a TLB miss and a page walk (Q4_0 tg64 medians of 3
  // alternating runs: 31.8 -> 33.8 t/s; Q8_0 within noise; bench/NOTES.md).
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(kRelaidBufferAlign, plan.total_bytes));
  if (buf == nullptr) {
    LOG_WARN("no memory to interleave %zu bytes of weights; keeping the file's layout", plan.total_bytes);
    return;
  }
  madvise(buf, plan.total_bytes, MADV_HUGEPAGE);
  std::shared_ptr<const void> storage(buf, std::free);
  for_each_parallel(plan.matrices.size(), [&](size_t i) { relay_matrix(plan, i, buf); });
  bind_relaid(w, plan, buf, std::move(storage), RelaidStorage::kPrivate);
}

}  // namespace

RelayPlan plan_relayout(LlamaWeights& w) {
  RelayPlan plan;
  const char* env = std::getenv("MAAS_INTERLEAVE");
  if (env != nullptr && std::strcmp(env, "0") == 0) return plan;
  auto consider = [&](WeightMatrix& m) {
    if (interleave_pays(m)) plan.matrices.push_back(&m);
  };
  consider(w.token_embd);
  plan.tied = w.output.data == w.token_embd.data;
  if (!plan.tied) consider(w.output);
  for (LlamaLayerWeights& l : w.layers) {
    for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) consider(*m);
  }
  for (WeightMatrix* m : plan.matrices) {
    plan.offsets.push_back(plan.total_bytes);
    plan.total_bytes += round_up(m->bytes(), kRelaidAlign);
  }
  plan.total_bytes = round_up(plan.total_bytes, kRelaidBufferAlign);
  return plan;
}

void for_each_parallel(size_t n, const std::function<void(size_t)>& fn) {
  const size_t n_threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), std::max<size_t>(n, 1));
  auto work = [&](size_t ith) {
    for (size_t i = ith; i < n; i += n_threads) fn(i);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& t : threads) t.join();
}

void relay_matrix(const RelayPlan& plan, size_t i, uint8_t* buf) {
  const WeightMatrix& m = *plan.matrices[i];
  interleave_rows16(m, buf + plan.offsets[i]);
  release_pages(m.data, m.bytes());
}

void bind_relaid(LlamaWeights& w, const RelayPlan& plan, const uint8_t* buf, std::shared_ptr<const void> storage,
                 RelaidStorage how) {
  for (size_t i = 0; i < plan.matrices.size(); ++i) {
    WeightMatrix& m = *plan.matrices[i];
    m.data = buf + plan.offsets[i];
    m.layout = WeightLayout::kRows16;
  }
  if (plan.tied) w.output = w.token_embd;
  w.storage = std::move(storage);
  w.relaid = how;
}

Status interleave_for_decode(LlamaWeights& w, const GgufFile& file, const LoadOptions& options) {
  RETURN_IF_ERROR(options.validate());
  RelayPlan plan = plan_relayout(w);
  if (plan.empty()) return Status::Ok();
  if (options.uses_weights_cache() && relay_through_cache(w, plan, file, options)) return Status::Ok();
  relay_privately(w, plan);
  return Status::Ok();
}

}  // namespace maas
