// weight_packing.cc — re-lays the model's Q8_0 / Q4_0 / Q4_K / Q6_K matrices at load time in the
// kRows16 layout (kernels.h) that the decode kernels stream fastest: one anonymous (huge-page)
// buffer holds the copies, the matrices point into it, and the file's pages behind them are
// dropped from this process (MADV_DONTNEED: they stay in the page cache, but would otherwise
// count a second time in resident memory). MAAS_INTERLEAVE=0 keeps the file's layout.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <cstring>
#include <thread>
#include <vector>

#include "base/log.h"
#include "model/llama_weights.h"

namespace maas {
namespace {

constexpr size_t kAlign = 64;

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// Drops the whole pages inside [p, p + n) of the mapped file from this process.
void release_pages(const void* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

void interleave_for_decode(LlamaWeights& w) {
  const char* env = std::getenv("MAAS_INTERLEAVE");
  if (env != nullptr && std::strcmp(env, "0") == 0) return;

  std::vector<WeightMatrix*> todo;
  auto consider = [&](WeightMatrix& m) {
    if (interleave_pays(m)) todo.push_back(&m);
  };
  consider(w.token_embd);
  const bool tied = w.output.data == w.token_embd.data;
  if (!tied) consider(w.output);
  for (LlamaLayerWeights& l : w.layers) {
    for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) consider(*m);
  }
  if (todo.empty()) return;

  std::vector<size_t> offset(todo.size());
  size_t total = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    offset[i] = total;
    total += round_up(todo[i]->bytes(), kAlign);
  }
  // 2 MiB-aligned and advised for transparent huge pages: decode streams every byte once per
  // token, and with 4 KiB pages every 4 KiB is a TLB miss and a page walk (Q4_0 tg64 medians of 3
  // alternating runs: 31.8 -> 33.8 t/s; Q8_0 within noise; bench/NOTES.md).
  constexpr size_t kHuge = size_t{2} << 20;
  total = round_up(total, kHuge);
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(kHuge, total));
  if (buf == nullptr) {
    LOG_WARN("no memory to interleave %zu bytes of weights; keeping the file's layout", total);
    return;
  }
  madvise(buf, total, MADV_HUGEPAGE);
  w.storage = std::shared_ptr<uint8_t>(buf, std::free);

  // Matrices dealt round-robin over the cores; each is independent.
  const unsigned n_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<WeightMatrix> done(todo.size());
  auto work = [&](unsigned ith) {
    for (size_t i = ith; i < todo.size(); i += n_threads) {
      done[i] = interleave_rows16(*todo[i], buf + offset[i]);
      release_pages(todo[i]->data, todo[i]->bytes());
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < todo.size(); ++i) *todo[i] = done[i];
  if (tied) w.output = w.token_embd;
}

}  // namespace maas
