// amx_tiles.h — the tile register configuration the AMX paths share. A thread's eight tile
// registers have one shape set at a time (LDTILECFG, which also zeroes them); the int8 path
// (kernels_amx.cc) and the bf16 path (kernels_amx_bf16.cc) want different shapes, so each call
// names its shapes and the thread reloads the configuration only when it last held another one:
// at most one LDTILECFG per thread and call, none while a thread keeps running one path.
//
// Include only from files compiled with -mamx-tile. Thread safety: the current shapes are
// per-thread state; Linux keeps a thread's tile configuration across context switches.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace maas::kern::amx {

// LDTILECFG's 64-byte operand (palette 1): per tile register, rows and bytes per row.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};

  void set(int tile, int n_rows, int n_colsb) {
    rows[tile] = static_cast<uint8_t>(n_rows);
    colsb[tile] = static_cast<uint16_t>(n_colsb);
  }
};
static_assert(sizeof(TileConfig) == 64);

// One value per configuration a path uses.
enum class TileShapes : uint8_t { kNone, kInt8, kBf16 };

// Makes the calling thread's tile registers hold `config` (tagged `shapes`). Call it at the start
// of each pool job before the first tile instruction: reloading zeroes the tiles' contents.
inline void use_tile_shapes(TileShapes shapes, const TileConfig& config) {
  // An inline function's thread_local is one object per thread for the whole program, so both
  // paths see the same "current shapes".
  thread_local TileShapes current = TileShapes::kNone;
  if (current == shapes) return;
  _tile_loadconfig(&config);
  current = shapes;
}

}  // namespace maas::kern::amx
