// Stand-in for the toolkit's mma.h (WMMA) in the CPU emulation (cuda_emu.h).
#pragma once
#include "kernels/cuda/emu/cuda_emu.h"
