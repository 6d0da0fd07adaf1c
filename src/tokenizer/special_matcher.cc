// special_matcher.cc — a byte trie over special-token strings.
#include "tokenizer/special_matcher.h"

#include <algorithm>

namespace maas {

int32_t SpecialMatcher::child(int32_t node, uint8_t byte) const {
  const auto& c = nodes_[node].children;
  auto it = std::lower_bound(c.begin(), c.end(), std::make_pair(byte, int32_t{-1}));
  return it != c.end() && it->first == byte ? it->second : -1;
}

void SpecialMatcher::add(std::string_view text, int32_t id) {
  if (text.empty()) return;
  int32_t node = 0;
  for (char ch : text) {
    const uint8_t b = static_cast<uint8_t>(ch);
    int32_t next = child(node, b);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& c = nodes_[node].children;
      c.insert(std::lower_bound(c.begin(), c.end(), std::make_pair(b, int32_t{-1})), {b, next});
    }
    node = next;
  }
  if (nodes_[node].token < 0) nodes_[node].token = id;
}

size_t SpecialMatcher::longest_at(std::string_view text, size_t pos, int32_t* id) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<uint8_t>(text[i]));
    if (node < 0) break;
    if (nodes_[node].token >= 0) {
      best = i + 1 - pos;
      *id = nodes_[node].token;
    }
  }
  return best;
}

std::vector<SpecialMatcher::Fragment> SpecialMatcher::split(std::string_view text) const {
  std::vector<Fragment> out;
  size_t start = 0;
  for (size_t pos = 0; pos < text.size();) {
    int32_t id = -1;
    const size_t len = nodes_[0].children.empty() ? 0 : longest_at(text, pos, &id);
    if (len == 0) {
      ++pos;
      continue;
    }
    if (pos > start) out.push_back(Fragment{text.substr(start, pos - start), -1});
    out.push_back(Fragment{text.substr(pos, len), id});
    pos += len;
    start = pos;
  }
  if (start < text.size()) out.push_back(Fragment{text.substr(start), -1});
  return out;
}

}  // namespace maas
