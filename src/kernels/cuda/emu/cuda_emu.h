// cuda_emu.h — runs CUDA kernel sources on the CPU, for checking kernel logic where no GPU is
// (this machine, CI). Not a CUDA implementation: only the subset the attention kernels use.
//
// Model: a launch runs its CTAs one after another; a CTA's CUDA threads are fibers on the calling
// thread (own stacks, switched by emu_switch, switch_x86_64.cc), each running until it reaches a
// barrier: __syncthreads waits for the CTA, __shfl_xor_sync exchanges through a per-warp barrier.
// __shared__ becomes `static` (one CTA at a time), dynamic shared memory a buffer filled with NaN
// before each launch; WMMA 16x16x16 fragments hold the whole tile on every lane (loads and stores
// warp-collective); device memory is host memory (device_emu.cc). Kernel sources are rewritten
// by transform.cmake (launch syntax, __shared__); cuda_fp16.h / cuda_runtime.h / mma.h here stand
// in for the toolkit's. What it cannot see: timing, occupancy, launch limits, alignment faults
// (WMMA's 32-byte rule included), races that a fixed schedule hides, fast-math differences (its
// exp2f is the host's).
// Thread safety: one launch at a time, from one thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "base/fp16.h"

struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}  // NOLINT: as CUDA's
};
struct EmuIndex {
  unsigned x, y, z;
};
struct float2 {
  float x, y;
};
struct float4 {
  float x, y, z, w;
};
struct uint2 {
  unsigned x, y;
};
struct uint4 {
  unsigned x, y, z, w;
};
struct __half {
  uint16_t bits;
};
struct __half2 {
  __half x, y;
};
inline float __half2float(__half h) { return maas::fp16_to_fp32(h.bits); }
inline __half __float2half(float f) { return {maas::fp32_to_fp16(f)}; }
inline float2 __half22float2(__half2 h) { return {__half2float(h.x), __half2float(h.y)}; }
using std::max;
using std::min;

using cudaError_t = int;
constexpr int cudaSuccess = 0;
constexpr int cudaFuncAttributeMaxDynamicSharedMemorySize = 8;
constexpr int kEmuMaxSharedBytes = 227 * 1024;  // an H100 / H200 CTA's opt-in maximum
inline const char* cudaGetErrorString(int) { return "emulated: more shared memory than an sm_90 CTA has"; }
template <typename F>
int cudaFuncSetAttribute(F, int, int bytes) {
  return bytes <= kEmuMaxSharedBytes ? cudaSuccess : 1;
}

extern "C" void emu_switch(void** from_sp, void* to_sp);  // saves callee-saved registers, swaps stacks

namespace emu {

struct Fiber {
  void* sp = nullptr;
  std::vector<char> stack;
  EmuIndex thread{0, 0, 0}, block{0, 0, 0};
  bool done = false;
  int wait_group = -1;  // the barrier it waits at, and that barrier's generation then
  long wait_gen = 0;
  std::function<void()> body;
};
struct Group {
  int size = 0, arrived = 0;
  long gen = 0;
};
inline Fiber* cur = nullptr;
inline void* sched_sp = nullptr;
inline std::vector<Group> groups;  // 0: the CTA, 1 + w: warp w
inline std::vector<float> xchg;    // one slot per thread, for shuffles
inline std::vector<float> dynamic_shared;
inline float* dynamic_smem() { return dynamic_shared.data(); }

inline void barrier(int g) {
  Group& group = groups[static_cast<size_t>(g)];
  cur->wait_group = g;
  cur->wait_gen = group.gen;
  if (++group.arrived == group.size) {
    group.arrived = 0;
    ++group.gen;
  }
  emu_switch(&cur->sp, sched_sp);
}

inline void fiber_entry() {
  cur->body();
  cur->done = true;
  emu_switch(&cur->sp, sched_sp);
  std::abort();  // never resumed
}

// A fresh stack whose first switch "returns" into fiber_entry with the ABI's alignment.
inline void start_fiber(Fiber& f) {
  f.stack.resize(size_t{1} << 18);
  uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack.data()) + f.stack.size()) & ~uintptr_t{15};
  void** sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;                                // fiber_entry's return address (never used)
  *--sp = reinterpret_cast<void*>(&fiber_entry);  // where emu_switch's ret goes
  for (int r = 0; r < 6; ++r) *--sp = nullptr;    // rbp rbx r12 r13 r14 r15
  f.sp = sp;
}

// Runs every fiber until it finishes or waits at a barrier not yet complete, round after round.
inline void schedule(std::vector<std::unique_ptr<Fiber>>& fibers) {
  for (;;) {
    bool all_done = true, progress = false;
    for (auto& f : fibers) {
      if (f->done) continue;
      all_done = false;
      if (f->wait_group >= 0 && groups[static_cast<size_t>(f->wait_group)].gen == f->wait_gen) continue;
      f->wait_group = -1;
      cur = f.get();
      emu_switch(&sched_sp, f->sp);
      progress = true;
    }
    if (all_done) return;
    if (!progress) {
      std::fprintf(stderr, "cuda_emu: deadlock (threads wait at barriers others never reach)\n");
      std::abort();
    }
  }
}

struct Launch {
  dim3 grid, block;
  size_t shared_bytes;
  template <typename K, typename... A>
  void run(K kernel, A... args) {
    if (block.x % 32 != 0 || block.y != 1 || block.z != 1) {
      std::fprintf(stderr, "cuda_emu: only 1-D blocks of whole warps\n");
      std::abort();
    }
    dynamic_shared.assign(shared_bytes / sizeof(float) + 1, NAN);
    const int n = static_cast<int>(block.x);
    groups.assign(static_cast<size_t>(1 + n / 32), Group{});
    groups[0].size = n;
    for (int w = 0; w < n / 32; ++w) groups[static_cast<size_t>(1 + w)].size = 32;
    xchg.assign(static_cast<size_t>(n), 0.f);
    std::vector<std::unique_ptr<Fiber>> fibers;
    for (int t = 0; t < n; ++t) {
      auto f = std::make_unique<Fiber>();
      f->thread = {static_cast<unsigned>(t), 0, 0};
      Fiber* self = f.get();
      const dim3 g = grid;
      f->body = [self, g, kernel, args...] {
        for (unsigned z = 0; z < g.z; ++z) {
          for (unsigned y = 0; y < g.y; ++y) {
            for (unsigned x = 0; x < g.x; ++x) {
              self->block = {x, y, z};
              kernel(args...);
              barrier(0);  // the CTA ends; its shared memory is the next one's
            }
          }
        }
      };
      start_fiber(*f);
      fibers.push_back(std::move(f));
    }
    schedule(fibers);
  }
};
template <typename K>
struct BoundLaunch {
  K kernel;
  Launch launch;
  template <typename... A>
  void operator()(A... args) {
    launch.run(kernel, args...);
  }
};
// kernel<<<grid, block, shared>>>(args) is rewritten to emu::launch(kernel, grid, block, shared)(args).
template <typename K>
BoundLaunch<K> launch(K kernel, dim3 grid, dim3 block, size_t shared_bytes = 0) {
  return {kernel, {grid, block, shared_bytes}};
}

}  // namespace emu

#define blockIdx (emu::cur->block)
#define threadIdx (emu::cur->thread)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)

inline void __syncthreads() { emu::barrier(0); }
inline void __syncwarp() { emu::barrier(1 + static_cast<int>(threadIdx.x) / 32); }
inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  emu::xchg[static_cast<size_t>(tid)] = v;
  emu::barrier(1 + warp);
  const float r = emu::xchg[static_cast<size_t>(warp * 32 + (lane ^ lane_mask))];
  emu::barrier(1 + warp);
  return r;
}

// WMMA (mma.h), 16x16x16 only: every lane of the warp holds the whole tile (as floats, rounded
// to the fragment's element type on load) and computes the whole product; loads and stores are
// warp-collective (a warp barrier on each side), as on the device.
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 16, "the emulation has 16x16x16 only");
  float x[16 * 16];  // row-major
};
inline float emu_value(float v) { return v; }
inline float emu_value(__half v) { return __half2float(v); }
template <typename Use, typename T, typename Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm) {
  __syncwarp();
  const bool col = std::is_same_v<Layout, col_major>;
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 16; ++c) f.x[r * 16 + c] = emu_value(col ? p[c * ldm + r] : p[r * ldm + c]);
  }
  __syncwarp();
}
inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm, layout_t l) {
  __syncwarp();
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 16; ++c) f.x[r * 16 + c] = l == mem_col_major ? p[c * ldm + r] : p[r * ldm + c];
  }
  __syncwarp();
}
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t l) {
  __syncwarp();
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 16; ++c) (l == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[r * 16 + c];
  }
  __syncwarp();
}
template <typename Use, typename T, typename Layout>
void fill_fragment(fragment<Use, 16, 16, 16, T, Layout>& f, float v) {
  for (float& x : f.x) x = v;
}
template <typename LA, typename LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, __half, LA>& a,
              const fragment<matrix_b, 16, 16, 16, __half, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
  float out[16 * 16];
  for (int r = 0; r < 16; ++r) {
    for (int n = 0; n < 16; ++n) {
      float acc = c.x[r * 16 + n];
      for (int k = 0; k < 16; ++k) acc += a.x[r * 16 + k] * b.x[k * 16 + n];
      out[r * 16 + n] = acc;
    }
  }
  std::memcpy(d.x, out, sizeof out);
}
}  // namespace nvcuda::wmma
