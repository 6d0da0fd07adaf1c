// gguf.h — reader for GGUF model files, versions 2 and 3 (the format llama.cpp writes).
//
// Layout (little-endian throughout):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv  x { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | n_dims x u64 ne | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32)
//   tensor data: each tensor at data_start + offset, offset a multiple of the alignment
// string = u64 length + bytes (no NUL). array = u32 elem_type + u64 count + elements.
// value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array,
//              10 u64, 11 i64, 12 f64.
// ne[0] is the innermost (contiguous) dimension: a weight matrix with ne = {n_cols, n_rows}
// stores n_rows rows of n_cols elements.
//
// The file is untrusted input. Every count, length, offset, type, shape and size is checked
// against the bytes actually present before use: a hostile file gets an error naming the
// problem, never a crash, an overflow or an allocation larger than the file itself.
//
// Thread safety: immutable after open(); concurrent readers are fine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "gguf/ggml_type.h"

namespace maas {

enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);

// One metadata value. Scalars are decoded; strings and arrays point into the mapped file.
struct GgufValue {
  GgufValueType type = GgufValueType::kU8;
  // scalars (the one matching `type` is set; integers are also widened into i64/u64 when they fit)
  uint64_t u64 = 0;
  int64_t i64 = 0;
  double f64 = 0;
  bool b = false;
  std::string_view str;  // kString
  // kArray
  GgufValueType elem_type = GgufValueType::kU8;
  uint64_t n_elems = 0;
  const uint8_t* elems = nullptr;  // raw little-endian elements; strings are length-prefixed
};

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] contiguous
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;      // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;
};

class GgufFile {
 public:
  // Maps and parses a file. NotFound for a missing file, InvalidArgument / DataLoss naming the
  // problem for anything malformed.
  static StatusOr<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses bytes that the caller keeps alive (tests, fuzzer).
  static StatusOr<std::unique_ptr<GgufFile>> parse(const uint8_t* data, size_t size);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& path() const { return path_; }
  size_t file_size() const { return size_; }

  const std::vector<GgufKv>& kvs() const { return kvs_; }
  const GgufValue* find(std::string_view key) const;

  // Typed getters: NotFound when absent, InvalidArgument when of another type. Integer getters
  // accept any integer type whose value fits.
  StatusOr<uint64_t> get_uint(std::string_view key) const;
  StatusOr<int64_t> get_int(std::string_view key) const;
  StatusOr<float> get_float(std::string_view key) const;  // f32 or f64
  StatusOr<bool> get_bool(std::string_view key) const;
  StatusOr<std::string> get_string(std::string_view key) const;
  // Arrays. Element type must match (f32 arrays: f32 only; int arrays: any integer type).
  StatusOr<std::vector<std::string>> get_string_array(std::string_view key) const;
  StatusOr<std::vector<float>> get_float_array(std::string_view key) const;
  StatusOr<std::vector<int64_t>> get_int_array(std::string_view key) const;
  uint64_t array_length(std::string_view key) const;  // 0 if absent or not an array

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  Status parse_all();

  std::optional<MappedFile> file_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
};

// Describes a metadata value for display ("u32 4096", "string[128256]", "\"llama\"").
std::string gguf_value_summary(const GgufValue& v, size_t max_chars = 60);

}  // namespace maas
