// gguf_writer.h — writes GGUF v3 files: the embedded default model, test models with chosen
// vocabularies and weight types, converted checkpoints. Keys are written in insertion order;
// tensors are aligned to `general.alignment` (32). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf.h"

namespace maas {

class GgufWriter {
 public:
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_u64(std::string_view key, uint64_t v);
  void add_f32(std::string_view key, float v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);
  void add_string_array(std::string_view key, const std::vector<std::string>& v);
  void add_f32_array(std::string_view key, const std::vector<float>& v);
  void add_i32_array(std::string_view key, const std::vector<int32_t>& v);
  // Copies one key/value from another file (any type, arrays included).
  void copy_kv(const GgufKv& kv);
  // Raw escape hatch for tests that build hostile files: the encoded value bytes after the type.
  void add_raw(std::string_view key, GgufValueType type, std::string encoded_value);

  // ne[0] is the contiguous dimension; data holds ggml_row_size(type, ne[0]) * rows bytes.
  void add_tensor(std::string_view name, std::vector<int64_t> ne, GgmlType type, std::vector<uint8_t> data);

  // The complete file as bytes, or written to `path` (atomically: temp file + rename).
  std::vector<uint8_t> serialize() const;
  Status write(const std::string& path) const;

  // Little-endian encoders, for tests that assemble values by hand.
  static void put_u32(std::string& out, uint32_t v);
  static void put_u64(std::string& out, uint64_t v);
  static void put_string(std::string& out, std::string_view s);

 private:
  std::string header() const;  // everything before the tensor data, padded

  struct Tensor {
    std::string name;
    std::vector<int64_t> ne;
    GgmlType type;
    std::vector<uint8_t> data;
  };
  std::string kv_bytes_;
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace maas
