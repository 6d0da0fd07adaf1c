// word_cache.h — a bounded, thread-safe cache of word -> token ids for the encoders (English
// text repeats its words, so most words are merged once). Cleared when full.
// Thread safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace maas {

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 256;
  static constexpr size_t kMaxEntries = 1 << 16;

  static bool cacheable(std::string_view word) { return word.size() <= kMaxWordBytes; }

  // Appends the cached ids of `word` to *out and returns true, or returns false.
  bool lookup(std::string_view word, std::vector<int32_t>* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(word));
    if (it == map_.end()) return false;
    out->insert(out->end(), it->second.begin(), it->second.end());
    return true;
  }

  void insert(std::string_view word, std::vector<int32_t> ids) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(std::string(word), std::move(ids));
  }

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> map_;  // guarded by mu_
};

}  // namespace maas
