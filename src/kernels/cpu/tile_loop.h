// tile_loop.h — walks a matmul slice (rows [r0, r1) x tokens [t0, t1)) in NR x NT tiles, with
// NR x 1, 1 x NT and 1 x 1 tiles for the edges. Kern::tile<R, T>(args, r, t) computes R rows x T
// tokens starting at (r, t). Register tiles let one weight load serve NT tokens and one
// activation load serve NR rows, which is what makes prompt processing compute-bound.
//
// Included by the per-ISA sources: Kern must live in that source's anonymous namespace so each
// instantiation is private to its translation unit (compiled with that unit's ISA flags).
#pragma once

#include <cstdint>

#include "kernels/kernels_internal.h"

// Fully unrolls the loops over a tile's rows and tokens. GCC otherwise unrolls them only after
// it has decided the accumulator arrays live in memory, and then stores every accumulator on
// every iteration (measured: 3x slower tiles).
#define MAAS_UNROLL _Pragma("GCC unroll 16")
// For per-block kernel bodies that a block loop composes: inlined, their accumulators stay in
// registers across the loop.
#define MAAS_INLINE inline __attribute__((always_inline))

namespace maas::kern {

template <int NR, int NT, class Kern>
void run_tiles(const MatmulArgs& a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  int64_t r = r0;
  for (; r + NR <= r1; r += NR) {
    int64_t t = t0;
    for (; t + NT <= t1; t += NT) Kern::template tile<NR, NT>(a, r, t);
    for (; t < t1; ++t) Kern::template tile<NR, 1>(a, r, t);
  }
  for (; r < r1; ++r) {
    int64_t t = t0;
    for (; t + NT <= t1; t += NT) Kern::template tile<1, NT>(a, r, t);
    for (; t < t1; ++t) Kern::template tile<1, 1>(a, r, t);
  }
}

}  // namespace maas::kern
