// mapped_file.h — a read-only memory map of a whole file (how model weights are loaded: the
// kernel pages them in on first touch and they are shared between processes).
// Move-only; unmaps on destruction. Thread-safe to read concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace maas {

// Where and how the file is mapped.
struct MapOptions {
  // The mapping's address is a multiple of this (a power of two, at least the page size); 0
  // leaves it to the kernel. 2 MiB lets the kernel map the file's pages with huge pages.
  size_t alignment = 0;
  // MADV_HUGEPAGE over the mapping: a hint, honoured only where the kernel maps file pages with
  // huge pages (large page-cache folios, CONFIG_READ_ONLY_THP_FOR_FS); refused silently elsewhere.
  bool huge_pages = false;
};

class MappedFile {
 public:
  // NotFound if the file does not exist; InvalidArgument if it is a directory or empty.
  static StatusOr<MappedFile> open(const std::string& path, const MapOptions& options = {});

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
