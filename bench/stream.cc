// stream.cc — `maas_stream`: a STREAM-like memory bandwidth benchmark, the ceiling that decode
// (one token = one pass over every weight) runs against on a CPU.
//
// Three kernels over arrays of doubles far larger than the last-level cache:
//   copy   a[i] = b[i]            counted as 2 arrays moved (as STREAM counts it)
//   read   s += b[i]              1 array: a pure streaming read, what decode does to weights
//   triad  a[i] = b[i] + q * c[i] 3 arrays
// Bytes are counted as STREAM does: the extra read for the write-allocate of `a` (without --nt)
// is real traffic but is not counted, so copy and triad understate what the bus carried.
// Each of N threads owns one contiguous slice of every array and touches it first (first-touch
// places the pages near that thread on NUMA machines); one repetition runs each kernel once over
// all slices between two barriers, and the table reports the best and the median of --reps.
// The loops are plain C++ for the compiler to vectorize (-O3 -march=native, bench/CMakeLists.txt);
// --nt swaps the stores of copy and triad for non-temporal (streaming) stores.
//
//   build/bin/maas_stream [--size-mib 1024] [--threads N] [--reps 10] [--pin] [--nt] [--no-thp]
#include <sys/mman.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace {

struct Options {
  size_t size_mib = 1024;  // all three arrays together
  int threads = 0;         // 0: hardware_concurrency
  int reps = 10;
  bool pin = false;        // pin thread t to the t-th CPU this process may run on
  bool nt = false;         // non-temporal stores in copy and triad
  bool thp = true;         // madvise(MADV_HUGEPAGE) on the arrays
};

enum Kernel { kCopy, kRead, kTriad, kNumKernels };
constexpr const char* kName[kNumKernels] = {"copy", "read", "triad"};
constexpr int kArraysMoved[kNumKernels] = {2, 1, 3};
constexpr double kScalar = 3.0;
constexpr size_t kVec = 8;  // slices start on 64-byte boundaries (8 doubles)

// ---- the kernels, over one slice [0, n) ----
// Not inlined: `__restrict` then holds (no aliasing checks), and `perf` shows each by name.
#define KERNEL __attribute__((noinline))

KERNEL void copy(double* __restrict a, const double* __restrict b, size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] = b[i];
}

// 32 independent partial sums: the compiler keeps them in 4 vector registers (AVX-512) so the
// loop is not bound by the latency of one chain of adds.
KERNEL double read_sum(const double* __restrict b, size_t n) {
  constexpr size_t kLanes = 32;
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) acc[j] += b[i + j];
  }
  double s = 0;
  for (; i < n; ++i) s += b[i];
  for (double x : acc) s += x;
  return s;
}

KERNEL void triad(double* __restrict a, const double* __restrict b, const double* __restrict c, size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] = b[i] + kScalar * c[i];
}

// Non-temporal variants: the widest streaming store the build has; `a` is 64-byte aligned.
#if defined(__AVX512F__)
constexpr const char* kNtStore = "_mm512_stream_pd";
constexpr size_t kNtWidth = 8;
inline void nt_store(double* p, const double* b, const double* c, bool fma) {
  __m512d v = _mm512_load_pd(b);
  if (fma) v = _mm512_fmadd_pd(_mm512_set1_pd(kScalar), _mm512_load_pd(c), v);
  _mm512_stream_pd(p, v);
}
#elif defined(__AVX__)
constexpr const char* kNtStore = "_mm256_stream_pd";
constexpr size_t kNtWidth = 4;
inline void nt_store(double* p, const double* b, const double* c, bool fma) {
  __m256d v = _mm256_load_pd(b);
  if (fma) v = _mm256_add_pd(v, _mm256_mul_pd(_mm256_set1_pd(kScalar), _mm256_load_pd(c)));
  _mm256_stream_pd(p, v);
}
#elif defined(__SSE2__)
constexpr const char* kNtStore = "_mm_stream_pd";
constexpr size_t kNtWidth = 2;
inline void nt_store(double* p, const double* b, const double* c, bool fma) {
  __m128d v = _mm_load_pd(b);
  if (fma) v = _mm_add_pd(v, _mm_mul_pd(_mm_set1_pd(kScalar), _mm_load_pd(c)));
  _mm_stream_pd(p, v);
}
#else
constexpr const char* kNtStore = nullptr;  // no streaming stores: --nt is refused
constexpr size_t kNtWidth = 1;
inline void nt_store(double*, const double*, const double*, bool) {}
#endif

// a = b (c == nullptr) or a = b + q * c, streaming stores, scalar tail.
KERNEL void store_nt(double* a, const double* b, const double* c, size_t n) {
  size_t i = 0;
  for (; i + kNtWidth <= n; i += kNtWidth) nt_store(a + i, b + i, c ? c + i : nullptr, c != nullptr);
  for (; i < n; ++i) a[i] = c ? b[i] + kScalar * c[i] : b[i];
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// ---- threads ----

struct Slice {
  double *a, *b, *c;
  size_t n;
};

double run_kernel(Kernel k, const Slice& s, bool nt) {
  switch (k) {
    case kCopy: nt ? store_nt(s.a, s.b, nullptr, s.n) : copy(s.a, s.b, s.n); return 0;
    case kRead: return read_sum(s.b, s.n);
    case kTriad: nt ? store_nt(s.a, s.b, s.c, s.n) : triad(s.a, s.b, s.c, s.n); return 0;
    default: return 0;
  }
}

#if defined(__linux__)
// Pins the calling thread to the t-th CPU of this process's affinity mask (respects taskset).
void pin_to(int t) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  if (cpus.empty()) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpus[static_cast<size_t>(t) % cpus.size()], &one);
  pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}
#else
void pin_to(int) {}
#endif

// Runs every repetition; returns seconds[kernel][rep] as thread 0 saw them between barriers.
std::vector<std::vector<double>> run_all(const Options& o, double* a, double* b, double* c, size_t n,
                                         double* sum_out) {
  const int nt = o.threads;
  std::vector<std::vector<double>> secs(kNumKernels, std::vector<double>(static_cast<size_t>(o.reps)));
  std::vector<double> sums(static_cast<size_t>(nt));
  std::barrier sync(nt);
  auto worker = [&](int t) {
    if (o.pin) pin_to(t);
    // Slice boundaries on multiples of kVec; the last thread takes the remainder.
    const size_t per = n / static_cast<size_t>(nt) / kVec * kVec;
    const size_t lo = per * static_cast<size_t>(t), hi = t == nt - 1 ? n : lo + per;
    const Slice s{a + lo, b + lo, c + lo, hi - lo};
    for (size_t i = 0; i < s.n; ++i) s.a[i] = 1.0, s.b[i] = 2.0, s.c[i] = 0.5;  // first touch
    for (int r = 0; r < o.reps; ++r) {
      for (int k = 0; k < kNumKernels; ++k) {
        sync.arrive_and_wait();
        const auto t0 = std::chrono::steady_clock::now();
        const double sum = run_kernel(static_cast<Kernel>(k), s, o.nt);
        if (k == kRead) sums[static_cast<size_t>(t)] = sum;
        sync.arrive_and_wait();
        if (t == 0) secs[k][static_cast<size_t>(r)] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (std::thread& th : pool) th.join();
  *sum_out = 0;
  for (double s : sums) *sum_out += s;
  return secs;
}

// ---- main ----

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    const bool has_value = i + 1 < argc;
    if (f == "--size-mib" && has_value) o->size_mib = std::strtoull(argv[++i], nullptr, 10);
    else if (f == "--threads" && has_value) o->threads = std::atoi(argv[++i]);
    else if (f == "--reps" && has_value) o->reps = std::atoi(argv[++i]);
    else if (f == "--pin") o->pin = true;
    else if (f == "--nt") o->nt = true;
    else if (f == "--no-thp") o->thp = false;
    else return false;
  }
  if (o->threads <= 0) o->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return o->size_mib >= 3 && o->reps >= 1;
}

double* allocate(size_t bytes, bool thp) {
  constexpr size_t kHuge = 2u << 20;  // 2 MiB: lets transparent huge pages back the arrays
  bytes = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, bytes);  // untouched: each thread's first write places it
#if defined(MADV_HUGEPAGE)
  if (p != nullptr && thp) madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)thp;
#endif
  return static_cast<double*>(p);
}

const char* isa() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE2__)
  return "sse2";
#else
  return "generic";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: maas_stream [--size-mib 1024] [--threads N] [--reps 10] [--pin] [--nt] [--no-thp]\n");
    return 2;
  }
  if (o.nt && kNtStore == nullptr) {
    std::fprintf(stderr, "maas_stream: --nt needs x86 streaming stores, not in this build\n");
    return 2;
  }
  const size_t n = o.size_mib * (1u << 20) / 3 / sizeof(double);
  double *a = allocate(n * sizeof(double), o.thp), *b = allocate(n * sizeof(double), o.thp),
         *c = allocate(n * sizeof(double), o.thp);
  if (a == nullptr || b == nullptr || c == nullptr) {
    std::fprintf(stderr, "maas_stream: cannot allocate %zu MiB\n", o.size_mib);
    return 1;
  }
  std::printf("maas_stream: 3 arrays x %zu doubles (%.1f MiB each, %zu MiB total), %d threads%s, %d reps\n", n,
              n * sizeof(double) / 1048576.0, o.size_mib, o.threads, o.pin ? " (pinned)" : " (not pinned)", o.reps);
  std::printf("build: %s loops; stores: %s; huge pages: %s\n", isa(),
              o.nt ? kNtStore : "regular (write-allocate, not counted)", o.thp ? "madvise" : "off");

  double sum = 0;
  const auto secs = run_all(o, a, b, c, n, &sum);

  // Check the arithmetic, as STREAM does: the last triad left a = 2 + 3 * 0.5; read summed b = 2.
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += a[i] != 3.5;
  const bool ok = bad == 0 && sum == 2.0 * static_cast<double>(n);

  std::printf("| kernel | bytes/pass | best GB/s | median GB/s | worst GB/s |\n");
  std::printf("| ------ | ---------: | --------: | ----------: | ---------: |\n");
  for (int k = 0; k < kNumKernels; ++k) {
    std::vector<double> t = secs[static_cast<size_t>(k)];
    std::sort(t.begin(), t.end());
    const double bytes = static_cast<double>(kArraysMoved[k]) * static_cast<double>(n) * sizeof(double);
    const double median = t.size() % 2 ? t[t.size() / 2] : (t[t.size() / 2 - 1] + t[t.size() / 2]) / 2;
    std::printf("| %-6s | %7.0f MB | %9.2f | %11.2f | %10.2f |\n", kName[k], bytes / 1e6, bytes / t.front() / 1e9,
                bytes / median / 1e9, bytes / t.back() / 1e9);
  }
  std::printf("GB = 10^9 bytes. check: %s\n", ok ? "ok" : "FAILED");
  std::free(a), std::free(b), std::free(c);
  return ok ? 0 : 1;
}
