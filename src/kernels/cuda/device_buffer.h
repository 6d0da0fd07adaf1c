// device_buffer.h — one allocation of device memory (cudaMalloc / cudaFree), owned, movable.
// Thread safety: none; one thread uses a buffer at a time.
#pragma once

#include <cstddef>

#include "base/status.h"

namespace maas::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // ResourceExhausted naming the bytes asked and free when the device has not the memory;
  // Unavailable when there is no device.
  static StatusOr<DeviceBuffer> allocate(size_t bytes);

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

  // Copies n bytes from host memory to the start of the buffer, and back (synchronous).
  Status upload(const void* host, size_t n);
  Status download(void* host, size_t n) const;

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace maas::cuda
