// kl_base_file.h — the KL-divergence base file: the log-probabilities of a reference run, saved
// so another run (a quantized type, another kernel variant, another engine) can be compared
// with it position by position.
//
// The layout is llama.cpp's `llama-perplexity --kl-divergence-base` file, byte for byte, so
// files move both ways between `maas perplexity` and llama-perplexity. Little-endian, packed:
//
//   offset  bytes                 field
//   0       8                     magic "_logits_"
//   8       4    uint32           n_ctx     tokens per chunk
//   12      4    int32            n_vocab
//   16      4    int32            n_chunk
//   20      4 * n_ctx * n_chunk   int32 tokens: the text's tokens, chunk after chunk, as in the
//                                 text (the evaluator puts BOS in place of each chunk's first)
//   then, for each chunk, one record per scored position p = n_ctx/2 .. n_ctx-2 (the
//   distribution over the token at p + 1; n_ctx - 1 - n_ctx/2 records per chunk):
//           4    float            scale          (max_logit - min_logit) / 65535
//           4    float            min_log_prob   the log-probability that code 0 stands for
//           2 * n_vocab_even      uint16 code[v], v < n_vocab (n_vocab rounded up to even,
//                                 the pad is 0):  log p(v) = min_log_prob + scale * code[v]
//
// min_logit is clamped to max_logit - 16: tokens less likely than e^-16 times the top one all
// read back as that floor (their share of any sum is below the code's resolution). The code's
// step is at most 16/65535 = 2.4e-4 in log-probability, which bounds how small a KL divergence
// a base file can resolve (about 1e-7 per position on a 128k vocabulary; noise, not bias).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace maas::eval {

struct KlBaseHeader {
  int32_t n_ctx = 0;
  int32_t n_vocab = 0;
  int32_t n_chunk = 0;
  std::vector<int32_t> tokens;  // n_ctx * n_chunk

  int32_t first_scored() const { return n_ctx / 2; }
  int32_t n_scored() const { return n_ctx - 1 - n_ctx / 2; }  // records per chunk
};

// uint16 words per record (the two floats count as four words).
size_t kl_record_words(int32_t n_vocab);

// Encodes one position's logits (n_vocab floats) into a record of kl_record_words(n_vocab) words.
void encode_log_probs(const float* logits, int32_t n_vocab, uint16_t* record);
// Decodes a record into n_vocab log-probabilities.
void decode_log_probs(const uint16_t* record, int32_t n_vocab, double* log_probs);

// Writes a base file: create() writes the header, append() one record per scored position in
// order, finish() checks the count and closes. Not thread-safe. A file left unfinished (error,
// crash) fails the reader's size check.
class KlBaseWriter {
 public:
  static StatusOr<std::unique_ptr<KlBaseWriter>> create(const std::string& path, const KlBaseHeader& header);
  ~KlBaseWriter();
  Status append(const float* logits);
  Status finish();

 private:
  KlBaseWriter() = default;
  std::FILE* f_ = nullptr;
  std::string path_;
  KlBaseHeader header_;
  std::vector<uint16_t> record_;
  int64_t n_written_ = 0;
};

// Reads a base file: open() validates the header and the file's exact size (a truncated or
// foreign file is an error value, never a crash); next() decodes the records in order.
class KlBaseReader {
 public:
  static StatusOr<std::unique_ptr<KlBaseReader>> open(const std::string& path);
  ~KlBaseReader();
  const KlBaseHeader& header() const { return header_; }
  // The next record's n_vocab log-probabilities.
  Status next(double* log_probs);

 private:
  KlBaseReader() = default;
  std::FILE* f_ = nullptr;
  std::string path_;
  KlBaseHeader header_;
  std::vector<uint16_t> record_;
  int64_t n_read_ = 0;
};

}  // namespace maas::eval
