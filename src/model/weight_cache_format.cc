// weight_cache_format.cc — the cache file's header: laying it out for a plan, sealing it, and
// checking a mapped file against what a load expects.
#include "model/weight_cache_format.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <unordered_map>

namespace maas {
namespace {

constexpr char kMagic[8] = {'M', 'A', 'A', 'S', 'R', 'L', 'D', '\n'};
constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;  // odd: multiplying by it is a bijection

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A bijection of v for each w and injective in w for each v: one changed word changes the state.
inline uint64_t step(uint64_t v, uint64_t w) {
  v = (v ^ w) * kMul;
  return v ^ (v >> 29);
}

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

uint64_t source_fingerprint(const WeightMatrix& m) {
  const auto* p = static_cast<const uint8_t*>(m.data);
  const size_t n = std::min<size_t>(64, m.bytes());
  return checksum64(p, n) ^ (checksum64(p + m.bytes() - n, n) * kMul);
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string fixed_string(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

Status differs(const char* field, const std::string& got, const std::string& want) {
  return failed_precondition(std::string("its ") + field + " is " + got + ", this load's is " + want);
}

Status check_entries(const RelaidEntry* got, const RelaidLayout& e) {
  for (size_t i = 0; i < e.entries.size(); ++i) {
    const RelaidEntry& a = got[i];
    const RelaidEntry& b = e.entries[i];
    if (a.source_offset != b.source_offset || a.offset != b.offset || a.bytes != b.bytes || a.type != b.type ||
        a.layout != b.layout || a.n_rows != b.n_rows || a.n_cols != b.n_cols) {
      return failed_precondition("matrix " + std::to_string(i) + " differs from this model's (another file's tensors)");
    }
    if (a.source_fingerprint != b.source_fingerprint) {
      return failed_precondition("matrix " + std::to_string(i) +
                                 " was re-laid from other bytes than this file's (a wrong SHA-256?)");
    }
  }
  return Status::Ok();
}

}  // namespace

uint64_t checksum64(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t v[4] = {1, 2, 3, 4};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) v[k] = step(v[k], load64(p + i + 8 * k));
  }
  for (; i + 8 <= n; i += 8) v[0] = step(v[0], load64(p + i));
  uint64_t tail = 0;
  if (i < n) std::memcpy(&tail, p + i, n - i);
  v[1] = step(v[1], tail);
  uint64_t h = step(0, n);
  for (uint64_t x : v) h = step(h, x);
  return h;
}

std::string relaid_file_name(const std::string& sha256, const std::string& variant) {
  return lowercase(sha256) + "." + variant + ".v" + std::to_string(kRelaidVersion) + ".relaid";
}

RelaidLayout relaid_layout(const RelayPlan& plan, const GgufFile& file, const std::string& sha256,
                           const std::string& variant) {
  std::unordered_map<const void*, uint64_t> source_offset;
  for (const GgufTensorInfo& t : file.tensors()) source_offset[t.data] = t.offset;
  RelaidLayout l;
  RelaidHeader& h = l.header;
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kRelaidVersion;
  h.n_entries = static_cast<uint32_t>(plan.matrices.size());
  const std::string sha = lowercase(sha256);
  std::memcpy(h.sha256, sha.data(), std::min(sizeof(h.sha256), sha.size()));
  std::memcpy(h.variant, variant.data(), std::min(sizeof(h.variant), variant.size()));
  h.source_size = file.file_size();
  const size_t header_bytes = sizeof(RelaidHeader) + sizeof(RelaidEntry) * plan.matrices.size();
  h.data_offset = round_up(header_bytes, kRelaidBufferAlign);
  h.data_bytes = plan.total_bytes;
  for (size_t i = 0; i < plan.matrices.size(); ++i) {
    const WeightMatrix& m = *plan.matrices[i];
    auto it = source_offset.find(m.data);
    RelaidEntry e{};
    e.source_offset = it == source_offset.end() ? ~uint64_t{0} : it->second;
    e.offset = plan.offsets[i];
    e.bytes = m.bytes();
    e.type = static_cast<uint32_t>(m.type);
    e.layout = static_cast<uint32_t>(WeightLayout::kRows16);
    e.n_rows = m.n_rows;
    e.n_cols = m.n_cols;
    e.source_fingerprint = source_fingerprint(m);
    l.entries.push_back(e);
  }
  return l;
}

void write_relaid_header(const RelaidLayout& layout, uint8_t* p) {
  std::memcpy(p, &layout.header, sizeof(RelaidHeader));
  std::memcpy(p + sizeof(RelaidHeader), layout.entries.data(), sizeof(RelaidEntry) * layout.entries.size());
  seal_relaid_header(p);
}

void seal_relaid_header(uint8_t* p) {
  RelaidHeader h;
  std::memcpy(&h, p, sizeof(h));
  h.header_checksum = 0;
  std::memcpy(p, &h, sizeof(h));
  h.header_checksum = checksum64(p, sizeof(RelaidHeader) + sizeof(RelaidEntry) * size_t{h.n_entries});
  std::memcpy(p, &h, sizeof(h));
}

Status check_relaid_header(const uint8_t* p, size_t size, const RelaidLayout& e) {
  RelaidHeader h;
  if (size < sizeof(h)) return data_loss("it is shorter than its header (" + std::to_string(size) + " bytes)");
  std::memcpy(&h, p, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return data_loss("it is not a maas weights cache file");
  if (h.version != kRelaidVersion) {
    return failed_precondition("its format version is " + std::to_string(h.version) + ", this build's is " +
                               std::to_string(kRelaidVersion));
  }
  const size_t header_bytes = sizeof(RelaidHeader) + sizeof(RelaidEntry) * size_t{h.n_entries};
  if (h.n_entries > (1u << 20) || header_bytes > size) return data_loss("its header is truncated");
  RelaidHeader zeroed = h;
  zeroed.header_checksum = 0;
  // The checksum covers the header with its own field zeroed, then the entries.
  std::vector<uint8_t> copy(p, p + header_bytes);
  std::memcpy(copy.data(), &zeroed, sizeof(zeroed));
  if (checksum64(copy.data(), header_bytes) != h.header_checksum) return data_loss("its header checksum does not match");
  const RelaidHeader& w = e.header;
  const std::string sha = fixed_string(h.sha256, sizeof(h.sha256)), want_sha = fixed_string(w.sha256, sizeof(w.sha256));
  if (sha != want_sha) return differs("source SHA-256", sha, want_sha);
  const std::string var = fixed_string(h.variant, sizeof(h.variant)), want_var = fixed_string(w.variant, sizeof(w.variant));
  if (var != want_var) return differs("kernel variant", var, want_var);
  if (h.source_size != w.source_size) {
    return differs("source file size", std::to_string(h.source_size), std::to_string(w.source_size));
  }
  if (h.n_entries != w.n_entries || h.data_offset != w.data_offset || h.data_bytes != w.data_bytes) {
    return failed_precondition("its matrices differ from this model's (" + std::to_string(h.n_entries) + " vs " +
                               std::to_string(w.n_entries) + " re-laid)");
  }
  if (size != e.file_bytes()) {
    return data_loss("it is " + std::to_string(size) + " bytes, its header says " + std::to_string(e.file_bytes()));
  }
  std::vector<RelaidEntry> entries(h.n_entries);
  std::memcpy(entries.data(), p + sizeof(RelaidHeader), sizeof(RelaidEntry) * entries.size());
  return check_entries(entries.data(), e);
}

Status check_relaid_data(const uint8_t* p) {
  RelaidHeader h;
  std::memcpy(&h, p, sizeof(h));
  std::vector<RelaidEntry> entries(h.n_entries);
  std::memcpy(entries.data(), p + sizeof(RelaidHeader), sizeof(RelaidEntry) * entries.size());
  std::atomic<int64_t> bad{-1};
  for_each_parallel(entries.size(), [&](size_t i) {
    const RelaidEntry& e = entries[i];
    if (checksum64(p + h.data_offset + e.offset, e.bytes) != e.data_checksum) bad.store(static_cast<int64_t>(i));
  });
  if (bad.load() >= 0) return data_loss("the bytes of matrix " + std::to_string(bad.load()) + " do not match its checksum");
  return Status::Ok();
}

}  // namespace maas
