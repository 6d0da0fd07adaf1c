// dispatch.cc — picks the kernel variant once per process (CPU features, lowered by MAAS_KERNELS)
// and routes the element-wise ops of kernels.h. Compiled without -mavx flags: it runs on any
// x86-64 (or other) CPU and only hands out a SIMD table after checking the CPU has it.
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "base/check.h"
#include "kernels/kernels_internal.h"

namespace maas::kern {

#if defined(MAAS_KERNELS_X86)
extern const KernelSet kAvx2Kernels;    // cpu/kernels_avx2.cc
extern const KernelSet kAvx512Kernels;  // cpu/kernels_avx512.cc

const KernelSet* avx2_kernels() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
  return ok ? &kAvx2Kernels : nullptr;
}

const KernelSet* avx512_kernels() {
  static const bool ok = avx2_kernels() != nullptr && __builtin_cpu_supports("avx512f") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  return ok ? &kAvx512Kernels : nullptr;
}

namespace {
// Linux hands out the AMX tile state (8 KiB per thread) only on request; the permission is
// process-wide, so threads started before or after the request may all use the tiles.
bool os_allows_amx() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

// The prompt path of CPUs with the bf16 tiles too: float weights there, the rest on the int8 tiles
// (each returns false for the types it does not take).
bool amx_matmul_all(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  return amx_matmul_float(w, x, n_tokens, y, pool) || amx_matmul(w, x, n_tokens, y, pool);
}
}  // namespace

const KernelSet* amx_kernels() {
  static const KernelSet* set = []() -> const KernelSet* {
    if (avx512_kernels() == nullptr || !__builtin_cpu_supports("amx-tile") ||
        !__builtin_cpu_supports("amx-int8") || !os_allows_amx()) {
      return nullptr;
    }
    const bool bf16 = __builtin_cpu_supports("amx-bf16") && __builtin_cpu_supports("avx512bf16");
    static KernelSet amx = kAvx512Kernels;
    amx.name = "amx";
    amx.mm_prompt = bf16 ? amx_matmul_all : amx_matmul;
    return &amx;
  }();
  return set;
}
#else
const KernelSet* avx2_kernels() { return nullptr; }
const KernelSet* avx512_kernels() { return nullptr; }
const KernelSet* amx_kernels() { return nullptr; }
bool amx_matmul(const WeightMatrix&, const float*, int64_t, float*, ThreadPool&) { return false; }
bool amx_matmul_float(const WeightMatrix&, const float*, int64_t, float*, ThreadPool&) { return false; }
#endif

namespace {

const KernelSet* pick_kernels() {
  const char* env = std::getenv("MAAS_KERNELS");
  const bool want_scalar = env != nullptr && std::strcmp(env, "scalar") == 0;
  const bool want_avx2 = env != nullptr && std::strcmp(env, "avx2") == 0;
  const bool want_avx512 = env != nullptr && std::strcmp(env, "avx512") == 0;
  if (!want_scalar && !want_avx2 && !want_avx512 && amx_kernels() != nullptr) return amx_kernels();
  if (!want_scalar && !want_avx2 && avx512_kernels() != nullptr) return avx512_kernels();
  if (!want_scalar && avx2_kernels() != nullptr) return avx2_kernels();
  return &scalar_kernels();
}

}  // namespace

const KernelSet& active_kernels() {
  static const KernelSet* ks = pick_kernels();
  return *ks;
}

MatmulFn KernelSet::for_type(GgmlType t) const {
  switch (t) {
    case GgmlType::kF32: return mm_f32;
    case GgmlType::kF16: return mm_f16;
    case GgmlType::kBF16: return mm_bf16;
    case GgmlType::kQ8_0: return mm_q8_0;
    case GgmlType::kQ4_0: return mm_q4_0;
    case GgmlType::kQ4_K: return mm_q4_k;
    case GgmlType::kQ6_K: return mm_q6_k;
    default: return nullptr;
  }
}

MatmulFn KernelSet::for_type_rows16(GgmlType t) const {
  switch (t) {
    case GgmlType::kQ8_0: return mm_q8_0x16;
    case GgmlType::kQ4_0: return mm_q4_0x16;
    case GgmlType::kQ4_K: return mm_q4_kx16;
    case GgmlType::kQ6_K: return mm_q6_kx16;
    default: return nullptr;
  }
}

}  // namespace maas::kern

namespace maas {

std::string kernel_variant() { return kern::active_kernels().name; }

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  ref::rms_norm(x, w, out, n, eps);
}
void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  ref::silu_mul(gate, up, out, n);
}
void add_inplace(float* y, const float* x, int64_t n) { ref::add_inplace(y, x, n); }

}  // namespace maas
