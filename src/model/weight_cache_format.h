// weight_cache_format.h — the shared weights cache file (load_options.h, weight_cache.h): its
// layout, what a load expects of it, and the checks that decide whether a file may be used.
//
//   <dir>/<sha256>.<variant>.v1.relaid   sha256: the GGUF file's, lowercase hex; variant: the
//                                        kernel variant that chose the re-laid matrices (kernel_variant())
//   offset 0     RelaidHeader, 128 bytes
//                  char magic[8] "MAASRLD\n" | u32 version (1) | u32 n_entries
//                  char sha256[64] | char variant[16] (NUL-padded)
//                  u64 source_size (bytes of the GGUF file)
//                  u64 data_offset (a multiple of 2 MiB) | u64 data_bytes (a multiple of 2 MiB)
//                  u64 header_checksum (checksum64 of the header and entries, this field 0)
//   offset 128   RelaidEntry[n_entries], 64 bytes each, in the load's RelayPlan order:
//                  u64 source_offset (of the tensor's data, from the GGUF data section's start)
//                  u64 offset (of the copy, from data_offset; a multiple of 64) | u64 bytes
//                  u32 type (GgmlType) | u32 layout (1 = kRows16) | i64 n_rows | i64 n_cols
//                  u64 source_fingerprint (checksum64 of the tensor's first and last 64 bytes)
//                  u64 data_checksum (checksum64 of the copy's bytes)
//   data_offset  the re-laid matrices (kernels.h kRows16); the file ends at data_offset + data_bytes
//
// Integers little-endian (x86-64's). A file is used only when every field but the data
// checksums equals what this load computes from the GGUF file, the SHA-256 it was given and the
// active kernel variant, the file is exactly as long as the header says, and every copy's bytes
// match their checksum. The version changes whenever the layout of the file or of kRows16 does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf.h"
#include "model/weight_packing.h"

namespace maas {

constexpr uint32_t kRelaidVersion = 1;

struct RelaidHeader {
  char magic[8];
  uint32_t version;
  uint32_t n_entries;
  char sha256[64];
  char variant[16];
  uint64_t source_size;
  uint64_t data_offset;
  uint64_t data_bytes;
  uint64_t header_checksum;
};
static_assert(sizeof(RelaidHeader) == 128);

struct RelaidEntry {
  uint64_t source_offset;
  uint64_t offset;
  uint64_t bytes;
  uint32_t type;
  uint32_t layout;
  int64_t n_rows;
  int64_t n_cols;
  uint64_t source_fingerprint;
  uint64_t data_checksum;
};
static_assert(sizeof(RelaidEntry) == 64);

// A 64-bit checksum that tells any change confined to one aligned 8-byte word, and almost
// surely any other change, at memory speed (four independent multiply chains).
uint64_t checksum64(const void* p, size_t n);

// "<sha256>.<variant>.v<kRelaidVersion>.relaid"; sha256 lowercase.
std::string relaid_file_name(const std::string& sha256, const std::string& variant);

// What one load expects the file to hold: the header and entries for its plan (data_checksum 0).
struct RelaidLayout {
  RelaidHeader header{};
  std::vector<RelaidEntry> entries;
  size_t file_bytes() const { return header.data_offset + header.data_bytes; }
};
RelaidLayout relaid_layout(const RelayPlan& plan, const GgufFile& file, const std::string& sha256,
                           const std::string& variant);

// Writes the header and entries (with their data checksums) at p and seals the header checksum.
void write_relaid_header(const RelaidLayout& layout, uint8_t* p);
// Recomputes and stores the header checksum of the header at p (tests use it to forge files).
void seal_relaid_header(uint8_t* p);

// Whether the mapped file [p, p + size) matches `expected` in everything but the data:
// DataLoss naming the problem for a truncated or corrupt file, FailedPrecondition naming the
// field for a file made for another model, variant or version.
Status check_relaid_header(const uint8_t* p, size_t size, const RelaidLayout& expected);
// Whether every copy's bytes match the checksum in the (checked) entries at p; DataLoss if not.
Status check_relaid_data(const uint8_t* p);

}  // namespace maas
