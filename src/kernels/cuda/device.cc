// device.cc — device count, synchronisation and buffers over the CUDA runtime (host code).
#include <cuda_runtime.h>

#include <string>
#include <utility>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"

namespace maas::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

Status set_device(int index) {
  const int n = device_count();
  if (index < 0 || index >= n) {
    return unavailable("CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(n) + " present)");
  }
  cudaError_t e = cudaSetDevice(index);
  if (e != cudaSuccess) return unavailable(std::string("CUDA: cannot use device: ") + cudaGetErrorString(e));
  return Status::Ok();
}

const char* device_name() {
  static thread_local cudaDeviceProp prop;
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return prop.name;
}

Status memory_info(size_t* free_bytes, size_t* total_bytes) {
  cudaError_t e = cudaMemGetInfo(free_bytes, total_bytes);
  if (e != cudaSuccess) return internal_error(std::string("CUDA memory info: ") + cudaGetErrorString(e));
  return Status::Ok();
}

Status last_error(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return internal_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
  return Status::Ok();
}

namespace {
Status copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, const char* what) {
  if (n == 0) return Status::Ok();
  cudaError_t e = kind == cudaMemcpyDeviceToDevice ? cudaMemcpyAsync(dst, src, n, kind) : cudaMemcpy(dst, src, n, kind);
  if (e != cudaSuccess) return internal_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
  return Status::Ok();
}
}  // namespace

Status copy_device(void* dst, const void* src, size_t n) { return copy(dst, src, n, cudaMemcpyDeviceToDevice, "copy"); }
Status copy_to_device(void* dst, const void* src, size_t n) { return copy(dst, src, n, cudaMemcpyHostToDevice, "upload"); }
Status copy_to_host(void* dst, const void* src, size_t n) { return copy(dst, src, n, cudaMemcpyDeviceToHost, "download"); }

namespace {
uint64_t g_scratch_generation = 0;  // one driving thread (cuda_ops.h)
}  // namespace
uint64_t scratch_generation() { return g_scratch_generation; }
void bump_scratch_generation() { ++g_scratch_generation; }

bool supports_weight_type(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: case GgmlType::kF16: case GgmlType::kBF16: case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: case GgmlType::kQ4_K: case GgmlType::kQ6_K: return true;
    default: return false;
  }
}

Status synchronize() {
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return internal_error(std::string("CUDA: ") + cudaGetErrorString(e));
  return Status::Ok();
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) cudaFree(data_);
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

StatusOr<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  if (device_count() == 0) return unavailable("no CUDA device");
  DeviceBuffer b;
  cudaError_t e = cudaMalloc(&b.data_, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    return resource_exhausted("CUDA: cannot allocate " + std::to_string(bytes) + " bytes (" +
                              std::to_string(free_bytes) + " free): " + cudaGetErrorString(e));
  }
  b.bytes_ = bytes;
  return b;
}

Status DeviceBuffer::upload(const void* host, size_t n) {
  if (n > bytes_) return invalid_argument("upload of " + std::to_string(n) + " bytes into a buffer of " + std::to_string(bytes_));
  cudaError_t e = cudaMemcpy(data_, host, n, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) return internal_error(std::string("CUDA upload: ") + cudaGetErrorString(e));
  return Status::Ok();
}

Status DeviceBuffer::download(void* host, size_t n) const {
  if (n > bytes_) return invalid_argument("download of " + std::to_string(n) + " bytes from a buffer of " + std::to_string(bytes_));
  cudaError_t e = cudaMemcpy(host, data_, n, cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) return internal_error(std::string("CUDA download: ") + cudaGetErrorString(e));
  return Status::Ok();
}

}  // namespace maas::cuda
