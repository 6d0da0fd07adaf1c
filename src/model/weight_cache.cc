// weight_cache.cc — finding, checking, building and mapping the shared weights cache file.
#include "model/weight_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/log.h"
#include "base/mapped_file.h"
#include "model/weight_cache_format.h"

namespace maas {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status errno_status(const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT) return resource_exhausted(what + ": " + std::strerror(err));
  return failed_precondition(what + ": " + std::strerror(err));
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The cache file mapped and checked against `want` (its data too, when check_data); NotFound
// when there is none (or its directory is missing or unusable: the build will tell).
StatusOr<std::shared_ptr<MappedFile>> map_checked(const std::string& path, const RelaidLayout& want, bool check_data) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return not_found(path + ": " + std::strerror(errno));
  ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path, MapOptions{kRelaidBufferAlign, true}));
  RETURN_IF_ERROR(check_relaid_header(f.data(), f.size(), want));
  if (check_data) RETURN_IF_ERROR(check_relaid_data(f.data()));
  return std::make_shared<MappedFile>(std::move(f));
}

// Waits up to wait_ms for the exclusive flock on fd. False on timeout; true too when the file
// system has no flock (concurrent builds are then only wasteful: each renames a whole file).
bool lock_exclusive(int fd, int wait_ms, const std::string& path) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  bool told = false;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      LOG_WARN("weights cache %s: cannot lock (%s); building it unlocked", path.c_str(), std::strerror(errno));
      return true;
    }
    if (Clock::now() >= deadline) return false;
    if (!told) {
      LOG_INFO("weights cache %s: another process is building it; waiting up to %.1f s", path.c_str(), wait_ms / 1000.0);
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Temporary files of this cache file left behind by a builder that died (the caller holds the lock).
void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(p.parent_path(), ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove(e.path(), ec);
  }
}

// Re-lays the plan's matrices into a new file at path (see weight_cache.h for the steps).
Status build(const std::string& path, const RelayPlan& plan, RelaidLayout layout) {
  std::string tmp = path + ".tmp.XXXXXX";
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (fd.fd < 0) return errno_status("cannot create " + tmp, errno);
  struct Unlink {
    const std::string* p;
    bool keep = false;
    ~Unlink() {
      if (!keep) ::unlink(p->c_str());
    }
  } unlink_tmp{&tmp};
  ::fchmod(fd.fd, 0644);
  const size_t size = layout.file_bytes();
  if (int err = ::posix_fallocate(fd.fd, 0, static_cast<off_t>(size)); err != 0) {
    return errno_status("cannot reserve " + std::to_string(size >> 20) + " MiB for " + tmp, err);
  }
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (m == MAP_FAILED) return errno_status("cannot map " + tmp, errno);
  auto* p = static_cast<uint8_t*>(m);
  uint8_t* data = p + layout.header.data_offset;
  for_each_parallel(plan.matrices.size(), [&](size_t i) {
    relay_matrix(plan, i, data);
    layout.entries[i].data_checksum = checksum64(data + plan.offsets[i], plan.matrices[i]->bytes());
  });
  write_relaid_header(layout, p);
  ::munmap(m, size);
  if (::fsync(fd.fd) != 0) return errno_status("cannot write " + tmp, errno);
  // The write faults above filled the page cache with 4 KiB pages, which every process would then
  // map as such. Dropped now (clean after the fsync), they are read back on first touch through
  // the readers' MADV_HUGEPAGE mappings as 2 MiB folios where the file system allows large ones.
  ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("cannot rename " + tmp, errno);
  unlink_tmp.keep = true;
  Fd dir(::open(std::filesystem::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd >= 0) ::fsync(dir.fd);
  return Status::Ok();
}

void bind_mapped(LlamaWeights& w, const RelayPlan& plan, const std::shared_ptr<MappedFile>& f,
                 const RelaidLayout& layout, RelaidStorage how) {
  const uint8_t* data = f->data() + layout.header.data_offset;
  bind_relaid(w, plan, data, std::shared_ptr<const void>(f, f->data()), how);
}

}  // namespace

std::string weights_cache_path(const LoadOptions& options) {
  return (std::filesystem::path(options.weights_cache_dir) / relaid_file_name(options.weights_sha256, kernel_variant()))
      .string();
}

bool relay_through_cache(LlamaWeights& w, const RelayPlan& plan, const GgufFile& file, const LoadOptions& options) {
  const Clock::time_point t0 = Clock::now();
  const std::string path = weights_cache_path(options);
  const RelaidLayout layout = relaid_layout(plan, file, options.weights_sha256, kernel_variant());
  const double mib = static_cast<double>(plan.total_bytes) / (1 << 20);
  auto found = map_checked(path, layout, true);
  if (found.ok()) {
    bind_mapped(w, plan, *found, layout, RelaidStorage::kCacheMapped);
    LOG_INFO("weights cache: mapped %s (%.0f MiB shared) in %.2f s", path.c_str(), mib, seconds_since(t0));
    return true;
  }
  if (found.status().code() != StatusCode::kNotFound) {
    LOG_WARN("weights cache %s is not usable: %s; rebuilding it", path.c_str(), found.status().message().c_str());
  }
  std::error_code ec;
  std::filesystem::create_directories(options.weights_cache_dir, ec);
  Fd lock(::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (lock.fd < 0) {
    LOG_WARN("weights cache %s: cannot open its lock file (%s); using a private copy", path.c_str(), std::strerror(errno));
    return false;
  }
  if (!lock_exclusive(lock.fd, options.weights_cache_wait_ms, path)) {
    LOG_WARN("weights cache %s: still being built by another process after %.1f s; using a private copy", path.c_str(),
             options.weights_cache_wait_ms / 1000.0);
    return false;
  }
  auto again = map_checked(path, layout, true);  // another process may have built it meanwhile
  if (again.ok()) {
    bind_mapped(w, plan, *again, layout, RelaidStorage::kCacheMapped);
    LOG_INFO("weights cache: mapped %s (%.0f MiB shared) in %.2f s", path.c_str(), mib, seconds_since(t0));
    return true;
  }
  if (again.status().code() != StatusCode::kNotFound && again.status().message() != found.status().message()) {
    LOG_WARN("weights cache %s is not usable: %s; rebuilding it", path.c_str(), again.status().message().c_str());
  }
  remove_stale_temporaries(path);
  if (Status s = build(path, plan, layout); !s.ok()) {
    LOG_WARN("weights cache %s: %s; using a private copy", path.c_str(), s.message().c_str());
    return false;
  }
  auto f = map_checked(path, layout, false);  // data checksums were just computed from these bytes
  if (!f.ok()) {
    LOG_WARN("weights cache %s: %s after building it; using a private copy", path.c_str(), f.status().message().c_str());
    return false;
  }
  bind_mapped(w, plan, *f, layout, RelaidStorage::kCacheBuilt);
  LOG_INFO("weights cache: built %s (%.0f MiB) in %.2f s", path.c_str(), mib, seconds_since(t0));
  return true;
}

}  // namespace maas
