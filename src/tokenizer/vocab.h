// vocab.h — the vocabulary the encoders share (internal to the tokenizer library): token texts,
// scores and types by id, and a text -> id index. Built once by Tokenizer::from_gguf, then
// immutable; the index refers to `text`, so a Vocab is neither copied nor moved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_names.h"

namespace maas {

// Open-addressing hash index from token text to id (a flat table: one probe is usually one
// cache line, where a node-based map costs several misses — this lookup is the encoders' hot path).
class TokenIndex {
 public:
  // `texts` must outlive the index and not change. The first id of a duplicated text wins.
  void build(const std::vector<std::string>* texts) {
    texts_ = texts;
    size_t cap = 16;
    while (cap < texts->size() * 2) cap *= 2;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    for (size_t i = 0; i < texts->size(); ++i) {
      const std::string_view t = (*texts)[i];
      const uint64_t h = hash(t);
      size_t pos = h & mask_;
      bool duplicate = false;
      while (slots_[pos].id >= 0) {
        if (slots_[pos].hash == h && (*texts)[slots_[pos].id] == t) duplicate = true;
        if (duplicate) break;
        pos = (pos + 1) & mask_;
      }
      if (!duplicate) slots_[pos] = Slot{h, static_cast<int32_t>(i)};
    }
  }
  std::optional<int32_t> find(std::string_view t) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = hash(t);
    for (size_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const Slot& s = slots_[pos];
      if (s.id < 0) return std::nullopt;
      if (s.hash == h && (*texts_)[s.id] == t) return s.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t id;  // -1: empty
  };
  static uint64_t hash(std::string_view t) {  // FNV-1a, then a final mix for the low bits
    uint64_t h = 1469598103934665603ull;
    for (char c : t) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  const std::vector<std::string>* texts_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

struct Vocab {
  Vocab() = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::vector<std::string> text;  // raw vocabulary strings, by id
  std::vector<float> score;       // SentencePiece merge priority (0 when absent)
  std::vector<int32_t> type;      // gguf_tensor::kToken* values
  TokenIndex index;               // text -> first id with that text

  int32_t n() const { return static_cast<int32_t>(text.size()); }
  std::optional<int32_t> find(std::string_view s) const { return index.find(s); }
  // Tokens the encoders may produce from plain text: not control, unknown or byte tokens
  // (those come only from special-token parsing or byte fallback).
  bool is_plain(int32_t id) const {
    const int32_t t = type[id];
    return t != gguf_tensor::kTokenControl && t != gguf_tensor::kTokenUnknown && t != gguf_tensor::kTokenByte;
  }
  std::optional<int32_t> find_plain(std::string_view s) const {
    auto id = find(s);
    if (id && !is_plain(*id)) return std::nullopt;
    return id;
  }
};

}  // namespace maas
