// bpe.cc — byte-level BPE merging by rank.
#include "tokenizer/bpe.h"

#include <queue>

#include "tokenizer/byte_level.h"

namespace maas {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

size_t slot_of(uint64_t key, size_t mask) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask; }

// A candidate merge of the symbol at `left` with its right neighbour, valid only while both
// still hold the ids recorded here.
struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t left_id;
  int32_t right_id;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

}  // namespace

StatusOr<std::unique_ptr<BpeEncoder>> BpeEncoder::build(const Vocab& vocab, const std::vector<std::string>& merges,
                                                        bool ignore_merges) {
  std::unique_ptr<BpeEncoder> enc(new BpeEncoder(vocab));
  enc->ignore_merges_ = ignore_merges;
  for (int b = 0; b < 256; ++b) {
    auto id = vocab.find_plain(byte_to_unicode(static_cast<uint8_t>(b)));
    enc->byte_id_[b] = id ? *id : -1;
  }
  size_t cap = 16;
  while (cap < merges.size() * 2) cap *= 2;
  enc->merges_.assign(cap, Merge{0, -1, -1});
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size()) {
      return invalid_argument("tokenizer.ggml.merges[" + std::to_string(rank) + "] is not \"left right\"");
    }
    const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
    joined.assign(left).append(right);
    auto l = vocab.find_plain(left), r = vocab.find_plain(right), res = vocab.find_plain(joined);
    if (!l || !r || !res) continue;
    const uint64_t key = pair_key(*l, *r);
    size_t pos = slot_of(key, cap - 1);
    while (enc->merges_[pos].rank >= 0 && enc->merges_[pos].key != key) pos = (pos + 1) & (cap - 1);
    if (enc->merges_[pos].rank >= 0) continue;  // the first (lowest) rank wins
    enc->merges_[pos] = Merge{key, static_cast<int32_t>(rank), *res};
    ++enc->n_merges_;
  }
  return enc;
}

const BpeEncoder::Merge* BpeEncoder::find_merge(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  for (size_t pos = slot_of(key, mask);; pos = (pos + 1) & mask) {
    const Merge& m = merges_[pos];
    if (m.rank < 0) return nullptr;
    if (m.key == key) return &m;
  }
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  const bool cacheable = WordCache::cacheable(word);
  if (cacheable && cache_.lookup(word, out)) return;
  std::vector<int32_t> ids;
  merge_word(word, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  if (cacheable) cache_.insert(word, std::move(ids));
}

void BpeEncoder::merge_word(std::string_view word, std::vector<int32_t>* out) const {
  if (ignore_merges_) {
    std::string text;
    byte_level_encode(word, &text);
    if (auto id = vocab_.find_plain(text)) {
      out->push_back(*id);
      return;
    }
  }
  const int32_t n = static_cast<int32_t>(word.size());
  std::vector<int32_t> ids(n), prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    ids[i] = byte_id_[static_cast<uint8_t>(word[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t left) {
    if (left < 0 || next[left] < 0) return;
    if (const Merge* m = find_merge(ids[left], ids[next[left]])) {
      queue.push(Candidate{m->rank, left, ids[left], ids[next[left]]});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int32_t right = next[c.left];
    if (ids[c.left] != c.left_id || right < 0 || ids[right] != c.right_id) continue;  // stale
    ids[c.left] = find_merge(c.left_id, c.right_id)->result;
    next[c.left] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.left;
    ids[right] = -2;  // dead
    consider(prev[c.left]);
    consider(c.left);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) {
    if (ids[i] >= 0) out->push_back(ids[i]);
  }
}

}  // namespace maas
