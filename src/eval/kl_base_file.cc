// kl_base_file.cc — reading and writing KL-divergence base files (layout in kl_base_file.h).
#include "eval/kl_base_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace maas::eval {
namespace {

constexpr char kMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
constexpr size_t kHeaderBytes = 20;

int64_t expected_size(const KlBaseHeader& h) {
  return static_cast<int64_t>(kHeaderBytes) + 4 * int64_t{h.n_ctx} * h.n_chunk +
         2 * static_cast<int64_t>(kl_record_words(h.n_vocab)) * h.n_scored() * h.n_chunk;
}

Status validate(const KlBaseHeader& h) {
  if (h.n_ctx < 4 || h.n_ctx > (1 << 24)) return invalid_argument("context " + std::to_string(h.n_ctx) + " out of range");
  if (h.n_vocab < 2 || h.n_vocab > (1 << 24)) return invalid_argument("vocabulary " + std::to_string(h.n_vocab) + " out of range");
  if (h.n_chunk < 1 || h.n_chunk > (1 << 20)) return invalid_argument("chunk count " + std::to_string(h.n_chunk) + " out of range");
  if (h.tokens.size() != static_cast<size_t>(h.n_ctx) * static_cast<size_t>(h.n_chunk)) {
    return invalid_argument("token count is not n_ctx * n_chunk");
  }
  for (int32_t t : h.tokens) {
    if (t < 0 || t >= h.n_vocab) return invalid_argument("token " + std::to_string(t) + " outside the vocabulary");
  }
  return Status::Ok();
}

}  // namespace

size_t kl_record_words(int32_t n_vocab) { return 2 * ((static_cast<size_t>(n_vocab) + 1) / 2) + 4; }

void encode_log_probs(const float* logits, int32_t n_vocab, uint16_t* record) {
  float max_logit = logits[0], min_logit = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) {
    max_logit = std::max(max_logit, logits[i]);
    min_logit = std::min(min_logit, logits[i]);
  }
  min_logit = std::max(min_logit, max_logit - 16.f);
  double sum_exp = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum_exp += std::exp(static_cast<double>(logits[i]) - max_logit);
  const float log_sum_exp = static_cast<float>(std::log(sum_exp));
  const float head[2] = {(max_logit - min_logit) / 65535.f, min_logit - max_logit - log_sum_exp};
  std::memcpy(record, head, sizeof(head));
  uint16_t* code = record + 4;
  std::memset(code, 0, (kl_record_words(n_vocab) - 4) * sizeof(uint16_t));
  if (head[0] == 0.f) return;
  const float inv_scale = 1.f / head[0];
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (logits[i] > min_logit) code[i] = static_cast<uint16_t>(std::min(65535.f, std::nearbyint(inv_scale * (logits[i] - min_logit))));
  }
}

void decode_log_probs(const uint16_t* record, int32_t n_vocab, double* log_probs) {
  float head[2];
  std::memcpy(head, record, sizeof(head));
  const uint16_t* code = record + 4;
  for (int32_t i = 0; i < n_vocab; ++i) log_probs[i] = head[1] + static_cast<double>(head[0]) * code[i];
}

// ---- writer ----

StatusOr<std::unique_ptr<KlBaseWriter>> KlBaseWriter::create(const std::string& path, const KlBaseHeader& header) {
  RETURN_IF_ERROR(validate(header));
  std::unique_ptr<KlBaseWriter> w(new KlBaseWriter());
  w->f_ = std::fopen(path.c_str(), "wb");
  if (w->f_ == nullptr) return unavailable("cannot write " + path + ": " + std::strerror(errno));
  w->path_ = path;
  w->header_ = header;
  w->record_.resize(kl_record_words(header.n_vocab));
  const uint32_t n_ctx = static_cast<uint32_t>(header.n_ctx);
  bool ok = std::fwrite(kMagic, 1, 8, w->f_) == 8 && std::fwrite(&n_ctx, 4, 1, w->f_) == 1 &&
            std::fwrite(&header.n_vocab, 4, 1, w->f_) == 1 && std::fwrite(&header.n_chunk, 4, 1, w->f_) == 1 &&
            std::fwrite(header.tokens.data(), 4, header.tokens.size(), w->f_) == header.tokens.size();
  if (!ok) return unavailable("cannot write " + path);
  return w;
}

KlBaseWriter::~KlBaseWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

Status KlBaseWriter::append(const float* logits) {
  if (f_ == nullptr) return failed_precondition("base file " + path_ + " already finished");
  if (n_written_ >= int64_t{header_.n_scored()} * header_.n_chunk) return out_of_range("more records than the header's chunks");
  encode_log_probs(logits, header_.n_vocab, record_.data());
  if (std::fwrite(record_.data(), 2, record_.size(), f_) != record_.size()) return unavailable("cannot write " + path_);
  ++n_written_;
  return Status::Ok();
}

Status KlBaseWriter::finish() {
  if (f_ == nullptr) return failed_precondition("base file " + path_ + " already finished");
  const int64_t want = int64_t{header_.n_scored()} * header_.n_chunk;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!closed) return unavailable("cannot write " + path_);
  if (n_written_ != want) {
    return failed_precondition("base file " + path_ + " has " + std::to_string(n_written_) + " of " + std::to_string(want) + " records");
  }
  return Status::Ok();
}

// ---- reader ----

StatusOr<std::unique_ptr<KlBaseReader>> KlBaseReader::open(const std::string& path) {
  std::unique_ptr<KlBaseReader> r(new KlBaseReader());
  r->f_ = std::fopen(path.c_str(), "rb");
  if (r->f_ == nullptr) return not_found("cannot open " + path + ": " + std::strerror(errno));
  r->path_ = path;
  char magic[8];
  uint32_t n_ctx = 0;
  KlBaseHeader& h = r->header_;
  if (std::fread(magic, 1, 8, r->f_) != 8 || std::memcmp(magic, kMagic, 8) != 0) {
    return data_loss(path + " is not a KL-divergence base file (no _logits_ magic)");
  }
  if (std::fread(&n_ctx, 4, 1, r->f_) != 1 || std::fread(&h.n_vocab, 4, 1, r->f_) != 1 ||
      std::fread(&h.n_chunk, 4, 1, r->f_) != 1) {
    return data_loss(path + ": truncated header");
  }
  h.n_ctx = n_ctx > (1u << 24) ? -1 : static_cast<int32_t>(n_ctx);
  if (h.n_ctx < 4 || h.n_vocab < 2 || h.n_vocab > (1 << 24) || h.n_chunk < 1 || h.n_chunk > (1 << 20)) {
    return data_loss(path + ": implausible header (n_ctx " + std::to_string(n_ctx) + ", n_vocab " + std::to_string(h.n_vocab) +
                     ", n_chunk " + std::to_string(h.n_chunk) + ")");
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || st.st_size != expected_size(h)) {
    return data_loss(path + ": size " + std::to_string(st.st_size) + " bytes, the header implies " + std::to_string(expected_size(h)));
  }
  h.tokens.resize(static_cast<size_t>(h.n_ctx) * static_cast<size_t>(h.n_chunk));
  if (std::fread(h.tokens.data(), 4, h.tokens.size(), r->f_) != h.tokens.size()) return data_loss(path + ": truncated tokens");
  RETURN_IF_ERROR(validate(h).with_context(path));
  r->record_.resize(kl_record_words(h.n_vocab));
  return r;
}

KlBaseReader::~KlBaseReader() {
  if (f_ != nullptr) std::fclose(f_);
}

Status KlBaseReader::next(double* log_probs) {
  if (n_read_ >= int64_t{header_.n_scored()} * header_.n_chunk) return out_of_range(path_ + ": no more records");
  if (std::fread(record_.data(), 2, record_.size(), f_) != record_.size()) return data_loss(path_ + ": truncated record");
  ++n_read_;
  decode_log_probs(record_.data(), header_.n_vocab, log_probs);
  return Status::Ok();
}

}  // namespace maas::eval
