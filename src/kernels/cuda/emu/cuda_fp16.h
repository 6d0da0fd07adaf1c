// Stand-in for the toolkit's cuda_fp16.h in the CPU emulation (cuda_emu.h).
#pragma once
#include "kernels/cuda/emu/cuda_emu.h"
