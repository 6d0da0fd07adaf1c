// special_matcher.h — finds special-token strings (control, user-defined, unknown tokens) in
// text: at each position the longest token that starts there, scanning left to right (a trie,
// so the cost per byte is bounded by the longest token, not the number of tokens).
// Thread safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace maas {

class SpecialMatcher {
 public:
  void add(std::string_view text, int32_t id);  // empty texts are ignored; first id wins

  struct Fragment {
    std::string_view text;  // plain text when token < 0
    int32_t token = -1;
  };
  // Splits `text` into plain-text fragments and special tokens, in order; no empty fragments.
  std::vector<Fragment> split(std::string_view text) const;

 private:
  struct Node {
    int32_t token = -1;
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  };
  int32_t child(int32_t node, uint8_t byte) const;
  // Length of the longest token at text[pos], or 0; its id in *id.
  size_t longest_at(std::string_view text, size_t pos, int32_t* id) const;

  std::vector<Node> nodes_{Node{}};
};

}  // namespace maas
