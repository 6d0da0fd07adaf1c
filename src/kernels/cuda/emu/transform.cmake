# transform.cmake — rewrites a .cu file into C++ for the CPU emulation (cuda_emu.h):
#   cmake -DIN=x.cu -DOUT=x.cc -P transform.cmake
# kernel<<<cfg>>>(args) -> emu::launch(kernel, cfg)(args); `extern __shared__ float smem[];` ->
# a pointer to the launch's dynamic shared memory; other __shared__ -> static.
file(READ "${IN}" text)
string(REGEX REPLACE "extern __shared__ (__align__\\([0-9]+\\) )?float ([A-Za-z_][A-Za-z0-9_]*)\\[\\];"
       "float* \\2 = emu::dynamic_smem();" text "${text}")
string(REPLACE "__shared__" "static" text "${text}")
string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_:]*(<[^;<>]*>)?)<<<([^;>]*)>>>\\(" "emu::launch(\\1, \\3)(" text "${text}")
file(WRITE "${OUT}" "// Generated from ${IN} by transform.cmake for the CPU emulation; do not edit.\n${text}")
