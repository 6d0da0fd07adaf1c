// batch.h — one step's work for the forward pass: the new tokens of every running sequence.
//
// The tokens of all sequences are stacked into one [n_tokens, n_embd] activation, so each weight
// is streamed once per step however many sequences run (continuous batching). Sequence s's new
// tokens are consecutive in Batch::tokens, in the order of Batch::seqs. Plain host data: a
// backend copies what it needs to its device.
#pragma once

#include <cstdint>
#include <vector>

namespace maas {

// One sequence's part of a batch.
struct BatchSequence {
  const int32_t* block_table = nullptr;  // KV blocks for positions 0.. (see kv_cache.h)
  int32_t n_table = 0;                   // entries in block_table
  int32_t n_past = 0;                    // positions already in the cache
  int32_t n_tokens = 0;                  // new tokens, at positions n_past .. n_past+n_tokens-1
  bool all_logits = false;               // logits for every new token, else only for the last
};

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<BatchSequence> seqs;
};

// Number of logit rows a forward pass writes for this batch (all tokens or the last, per sequence).
inline int32_t n_logit_rows(const Batch& batch) {
  int32_t n = 0;
  for (const BatchSequence& s : batch.seqs) n += s.all_logits ? s.n_tokens : 1;
  return n;
}

}  // namespace maas
