// data_collection.cc — JSON Lines files per deployment and day, rotated by size.
#include "control/data_collection.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "base/log.h"

namespace maas {

DataCollector::DataCollector(std::string dir, const Clock& clock, int64_t max_file_bytes)
    : dir_(std::move(dir)), clock_(clock), max_file_bytes_(max_file_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

uint64_t DataCollector::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

void DataCollector::append(const std::string& line) {
  const std::time_t t = static_cast<std::time_t>(clock_.now_unix_s());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char day[16];
  std::strftime(day, sizeof(day), "%Y-%m-%d", &tm);
  const std::string path = dir_ + "/" + day + ".jsonl";
  std::lock_guard<std::mutex> lock(mu_);
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && st.st_size + static_cast<int64_t>(line.size()) + 1 > max_file_bytes_) {
    int n = 1;
    while (::access((dir_ + "/" + day + "." + std::to_string(n) + ".jsonl").c_str(), F_OK) == 0) ++n;
    ::rename(path.c_str(), (dir_ + "/" + day + "." + std::to_string(n) + ".jsonl").c_str());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const std::string data = line + "\n";
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    ++failures_;
    LOG_ERROR("data collection: cannot append to %s", path.c_str());
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace maas
