// rms_norm.cu — RMSNorm over n rows of d floats: one block of 256 threads per row.
// Reference: kernels/reference/ops_ref.cc rms_norm (it sums in double; here each thread sums in
// float and the block in float, within the parity test's tolerance).
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_ops.h"

namespace maas::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_kernel(const float* x, const float* w, float* out, int64_t d, float eps) {
  const float* xr = x + blockIdx.x * d;
  float* outr = out + blockIdx.x * d;
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < d; i += kThreads) sum += xr[i] * xr[i];
  // Reduce within each warp, then across the warps through shared memory.
  for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  __shared__ float warp_sums[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    sum = threadIdx.x < kThreads / 32 ? warp_sums[threadIdx.x] : 0.f;
    for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (threadIdx.x == 0) warp_sums[0] = sum;
  }
  __syncthreads();
  const float scale = rsqrtf(warp_sums[0] / static_cast<float>(d) + eps);
  for (int64_t i = threadIdx.x; i < d; i += kThreads) outr[i] = xr[i] * scale * w[i];
}

}  // namespace

Status rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps) {
  if (n <= 0) return Status::Ok();
  rms_norm_kernel<<<static_cast<unsigned>(n), kThreads>>>(x, w, out, d, eps);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return internal_error(std::string("CUDA rms_norm: ") + cudaGetErrorString(e));
  return Status::Ok();
}

}  // namespace maas::cuda
