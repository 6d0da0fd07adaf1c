// gguf_writer.cc — serializing GGUF v3 (layout in gguf.h).
#include "gguf/gguf_writer.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "gguf/gguf_names.h"

namespace maas {
namespace {
constexpr uint64_t kAlignment = 32;

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}
}  // namespace

void GgufWriter::put_u32(std::string& out, uint32_t v) { put(out, v); }
void GgufWriter::put_u64(std::string& out, uint64_t v) { put(out, v); }
void GgufWriter::put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

void GgufWriter::add_raw(std::string_view key, GgufValueType type, std::string encoded_value) {
  put_string(kv_bytes_, key);
  put_u32(kv_bytes_, static_cast<uint32_t>(type));
  kv_bytes_ += encoded_value;
  ++n_kv_;
}

void GgufWriter::add_u32(std::string_view key, uint32_t v) { std::string b; put(b, v); add_raw(key, GgufValueType::kU32, b); }
void GgufWriter::add_i32(std::string_view key, int32_t v) { std::string b; put(b, v); add_raw(key, GgufValueType::kI32, b); }
void GgufWriter::add_u64(std::string_view key, uint64_t v) { std::string b; put(b, v); add_raw(key, GgufValueType::kU64, b); }
void GgufWriter::add_f32(std::string_view key, float v) { std::string b; put(b, v); add_raw(key, GgufValueType::kF32, b); }
void GgufWriter::add_bool(std::string_view key, bool v) { std::string b; put<uint8_t>(b, v ? 1 : 0); add_raw(key, GgufValueType::kBool, b); }
void GgufWriter::add_string(std::string_view key, std::string_view v) { std::string b; put_string(b, v); add_raw(key, GgufValueType::kString, b); }

void GgufWriter::add_string_array(std::string_view key, const std::vector<std::string>& v) {
  std::string b;
  put_u32(b, static_cast<uint32_t>(GgufValueType::kString));
  put_u64(b, v.size());
  for (const std::string& s : v) put_string(b, s);
  add_raw(key, GgufValueType::kArray, b);
}

void GgufWriter::add_f32_array(std::string_view key, const std::vector<float>& v) {
  std::string b;
  put_u32(b, static_cast<uint32_t>(GgufValueType::kF32));
  put_u64(b, v.size());
  for (float x : v) put(b, x);
  add_raw(key, GgufValueType::kArray, b);
}

void GgufWriter::add_i32_array(std::string_view key, const std::vector<int32_t>& v) {
  std::string b;
  put_u32(b, static_cast<uint32_t>(GgufValueType::kI32));
  put_u64(b, v.size());
  for (int32_t x : v) put(b, x);
  add_raw(key, GgufValueType::kArray, b);
}

void GgufWriter::copy_kv(const GgufKv& kv) {
  const GgufValue& v = kv.value;
  std::string b;
  switch (v.type) {
    case GgufValueType::kString: put_string(b, v.str); break;
    case GgufValueType::kArray: {
      put_u32(b, static_cast<uint32_t>(v.elem_type));
      put_u64(b, v.n_elems);
      // Array bytes run from v.elems to the end of the last element; measure them.
      const uint8_t* p = v.elems;
      if (v.elem_type == GgufValueType::kString) {
        for (uint64_t i = 0; i < v.n_elems; ++i) {
          uint64_t len;
          std::memcpy(&len, p, 8);
          p += 8 + len;
        }
      } else {
        static const int kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        p += v.n_elems * kSizes[static_cast<int>(v.elem_type)];
      }
      b.append(reinterpret_cast<const char*>(v.elems), static_cast<size_t>(p - v.elems));
      break;
    }
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: put<uint8_t>(b, static_cast<uint8_t>(v.u64)); break;
    case GgufValueType::kU16: case GgufValueType::kI16: put<uint16_t>(b, static_cast<uint16_t>(v.u64)); break;
    case GgufValueType::kU32: case GgufValueType::kI32: put<uint32_t>(b, static_cast<uint32_t>(v.u64)); break;
    case GgufValueType::kU64: case GgufValueType::kI64: put<uint64_t>(b, v.u64); break;
    case GgufValueType::kF32: put<float>(b, static_cast<float>(v.f64)); break;
    case GgufValueType::kF64: put<double>(b, v.f64); break;
  }
  add_raw(kv.key, v.type, b);
}

void GgufWriter::add_tensor(std::string_view name, std::vector<int64_t> ne, GgmlType type, std::vector<uint8_t> data) {
  tensors_.push_back(Tensor{std::string(name), std::move(ne), type, std::move(data)});
}

std::string GgufWriter::header() const {
  std::string head;
  put_u32(head, 0x46554747);
  put_u32(head, 3);
  put_u64(head, tensors_.size());
  put_u64(head, n_kv_);
  head += kv_bytes_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(head, t.name);
    put_u32(head, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_u64(head, static_cast<uint64_t>(d));
    put_u32(head, static_cast<uint32_t>(t.type));
    put_u64(head, offset);
    offset += (t.data.size() + kAlignment - 1) / kAlignment * kAlignment;
  }
  head.resize((head.size() + kAlignment - 1) / kAlignment * kAlignment, '\0');
  return head;
}

std::vector<uint8_t> GgufWriter::serialize() const {
  std::string head = header();
  std::vector<uint8_t> out(head.begin(), head.end());
  for (const Tensor& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    out.resize((out.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return invalid_argument("cannot write " + tmp + ": " + std::strerror(errno));
  std::string head = header();
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  static const char kZeros[kAlignment] = {};
  for (const Tensor& t : tensors_) {
    ok = ok && std::fwrite(t.data.data(), 1, t.data.size(), f) == t.data.size();
    size_t pad = (kAlignment - t.data.size() % kAlignment) % kAlignment;
    ok = ok && std::fwrite(kZeros, 1, pad, f) == pad;
  }
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return internal_error("failed writing " + path);
  }
  return Status::Ok();
}

}  // namespace maas
