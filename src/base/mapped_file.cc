// mapped_file.cc — mmap of a whole file, read-only and shared, optionally at an aligned address.
#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace maas {
namespace {

// Maps fd's first size bytes at a multiple of `alignment`: reserves size + alignment bytes of
// address space, maps the file over the aligned part and returns the rest.
void* map_aligned(int fd, size_t size, size_t alignment) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (alignment <= page || (alignment & (alignment - 1)) != 0) {
    return ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  }
  const size_t span = size + alignment;
  void* r = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return MAP_FAILED;
  const auto base = reinterpret_cast<uintptr_t>(r);
  const uintptr_t start = (base + alignment - 1) / alignment * alignment;
  void* p = ::mmap(reinterpret_cast<void*>(start), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::munmap(r, span);
    errno = err;
    return MAP_FAILED;
  }
  const uintptr_t end = start + (size + page - 1) / page * page;
  if (start > base) ::munmap(r, start - base);
  if (base + span > end) ::munmap(reinterpret_cast<void*>(end), base + span - end);
  return p;
}

}  // namespace

StatusOr<MappedFile> MappedFile::open(const std::string& path, const MapOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return not_found("no such file: " + path);
    return invalid_argument("cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument("not a regular file: " + path);
  }
  if (st.st_size == 0) {
    ::close(fd);
    return invalid_argument("empty file: " + path);
  }
  void* p = map_aligned(fd, static_cast<size_t>(st.st_size), options.alignment);
  int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) return internal_error("mmap failed for " + path + ": " + std::strerror(err));
  if (options.huge_pages) ::madvise(p, static_cast<size_t>(st.st_size), MADV_HUGEPAGE);
  MappedFile file;
  file.data_ = static_cast<const uint8_t*>(p);
  file.size_ = static_cast<size_t>(st.st_size);
  file.path_ = path;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), path_(std::move(other.path_)) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = other.data_;
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace maas
