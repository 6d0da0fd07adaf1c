// device_emu.cc — device.cc's API (cuda_ops.h, device_buffer.h) on host memory, for the CPU
// emulation (cuda_emu.h): one "device", allocations filled with 0xAB bytes, copies are memcpy,
// kernels run to completion inside their launch (synchronize has nothing to wait for).
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"

namespace maas::cuda {

int device_count() { return 1; }
Status synchronize() { return Status::Ok(); }
Status last_error(const char* what) {
  (void)what;
  return Status::Ok();
}

DeviceBuffer::~DeviceBuffer() { std::free(data_); }
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) {
  o.data_ = nullptr;
  o.bytes_ = 0;
}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = o.data_;
    bytes_ = o.bytes_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}
StatusOr<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  DeviceBuffer b;
  b.data_ = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);  // cudaMalloc's alignment
  if (b.data_ == nullptr)
    return resource_exhausted("emulated device: cannot allocate " + std::to_string(bytes) + " bytes");
  std::memset(b.data_, 0xAB, bytes);
  b.bytes_ = bytes;
  return b;
}
Status DeviceBuffer::upload(const void* host, size_t n) {
  if (n > bytes_) return invalid_argument("upload of " + std::to_string(n) + " bytes into " + std::to_string(bytes_));
  std::memcpy(data_, host, n);
  return Status::Ok();
}
Status DeviceBuffer::download(void* host, size_t n) const {
  if (n > bytes_) return invalid_argument("download of " + std::to_string(n) + " bytes from " + std::to_string(bytes_));
  std::memcpy(host, data_, n);
  return Status::Ok();
}

}  // namespace maas::cuda
