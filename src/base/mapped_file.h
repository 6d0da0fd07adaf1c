// mapped_file.h — a read-only memory map of a whole file (how model weights are loaded: the
// kernel pages them in on first touch and they are shared between processes).
// Move-only; unmaps on destruction. Thread-safe to read concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace maas {

class MappedFile {
 public:
  // NotFound if the file does not exist; InvalidArgument if it is a directory or empty.
  static StatusOr<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace maas
