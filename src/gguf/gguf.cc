// gguf.cc — parsing a GGUF file with every read bounds-checked (see gguf.h for the layout).
//
// A Cursor walks the bytes and fails, rather than reads, past the end. Counts read from the file
// are checked against the bytes that remain before anything is reserved, so a header claiming
// 2^63 tensors costs nothing but an error.
#include "gguf/gguf.h"

#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>

#include "gguf/gguf_names.h"

namespace maas {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxAlignment = 1u << 16;
constexpr uint64_t kMaxKeyLength = 1u << 16;

std::string fmt_u64(uint64_t v) { return std::to_string(v); }

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }

  Status need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      return data_loss(std::string("file truncated reading ") + what + " at byte " + fmt_u64(pos_) +
                       " (needs " + fmt_u64(n) + " bytes, " + fmt_u64(remaining()) + " left)");
    }
    return Status::Ok();
  }
  template <typename T>
  Status read(T* out, const char* what) {
    RETURN_IF_ERROR(need(sizeof(T), what));
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status skip(uint64_t n, const char* what) {
    RETURN_IF_ERROR(need(n, what));
    pos_ += n;
    return Status::Ok();
  }
  Status read_string(std::string_view* out, const char* what) {
    uint64_t len = 0;
    RETURN_IF_ERROR(read(&len, what));
    RETURN_IF_ERROR(need(len, what));
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Size of one fixed-size value type; 0 for string and array.
size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: return 8;
    case GgufValueType::kString: case GgufValueType::kArray: return 0;
  }
  return 0;
}

bool valid_value_type(uint32_t t) { return t <= 12; }

Status read_scalar(Cursor& c, GgufValueType t, GgufValue* v) {
  const char* what = "metadata value";
  switch (t) {
    case GgufValueType::kU8: { uint8_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->u64 = x; v->i64 = x; break; }
    case GgufValueType::kI8: { int8_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->i64 = x; v->u64 = static_cast<uint64_t>(x); break; }
    case GgufValueType::kU16: { uint16_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->u64 = x; v->i64 = x; break; }
    case GgufValueType::kI16: { int16_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->i64 = x; v->u64 = static_cast<uint64_t>(x); break; }
    case GgufValueType::kU32: { uint32_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->u64 = x; v->i64 = x; break; }
    case GgufValueType::kI32: { int32_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->i64 = x; v->u64 = static_cast<uint64_t>(x); break; }
    case GgufValueType::kU64: { uint64_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->u64 = x; v->i64 = static_cast<int64_t>(x); break; }
    case GgufValueType::kI64: { int64_t x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->i64 = x; v->u64 = static_cast<uint64_t>(x); break; }
    case GgufValueType::kF32: { float x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->f64 = x; break; }
    case GgufValueType::kF64: { double x = 0; RETURN_IF_ERROR(c.read(&x, what)); v->f64 = x; break; }
    case GgufValueType::kBool: {
      uint8_t x = 0; RETURN_IF_ERROR(c.read(&x, what));
      if (x > 1) return invalid_argument("bool value is " + std::to_string(x) + ", not 0 or 1");
      v->b = x != 0; v->u64 = x; v->i64 = x; break;
    }
    default: return internal_error("read_scalar on a non-scalar type");
  }
  return Status::Ok();
}

Status read_value(Cursor& c, uint32_t raw_type, GgufValue* v) {
  if (!valid_value_type(raw_type)) return invalid_argument("unknown metadata value type " + std::to_string(raw_type));
  v->type = static_cast<GgufValueType>(raw_type);
  if (v->type == GgufValueType::kString) return c.read_string(&v->str, "string value");
  if (v->type != GgufValueType::kArray) return read_scalar(c, v->type, v);
  uint32_t elem = 0;
  RETURN_IF_ERROR(c.read(&elem, "array element type"));
  if (!valid_value_type(elem)) return invalid_argument("unknown array element type " + std::to_string(elem));
  v->elem_type = static_cast<GgufValueType>(elem);
  if (v->elem_type == GgufValueType::kArray) return unimplemented("nested arrays are not supported");
  RETURN_IF_ERROR(c.read(&v->n_elems, "array length"));
  v->elems = c.here();
  if (v->elem_type == GgufValueType::kString) {
    // Each string needs at least its 8-byte length: bound the count before walking.
    if (v->n_elems > c.remaining() / 8) {
      return data_loss("string array claims " + fmt_u64(v->n_elems) + " elements, more than the file holds");
    }
    for (uint64_t i = 0; i < v->n_elems; ++i) {
      std::string_view s;
      RETURN_IF_ERROR(c.read_string(&s, "string array element"));
    }
    return Status::Ok();
  }
  uint64_t esize = scalar_size(v->elem_type);
  if (v->n_elems > c.remaining() / esize) {
    return data_loss("array claims " + fmt_u64(v->n_elems) + " elements, more than the file holds");
  }
  return c.skip(v->n_elems * esize, "array data");
}

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kU16: case GgufValueType::kI16:
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kU64: case GgufValueType::kI64:
      return true;
    default: return false;
  }
}
bool is_signed(GgufValueType t) {
  return t == GgufValueType::kI8 || t == GgufValueType::kI16 || t == GgufValueType::kI32 || t == GgufValueType::kI64;
}

}  // namespace

StatusOr<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->data_ = mapped.data();
  f->size_ = mapped.size();
  f->path_ = path;
  f->file_.emplace(std::move(mapped));
  Status s = f->parse_all();
  if (!s.ok()) return s.with_context(path);
  return f;
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::parse(const uint8_t* data, size_t size) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->data_ = data;
  f->size_ = size;
  RETURN_IF_ERROR(f->parse_all());
  return f;
}

Status GgufFile::parse_all() {
  Cursor c(data_, size_);
  uint32_t magic = 0;
  if (size_ < 4) return invalid_argument("not a GGUF file (too short)");
  RETURN_IF_ERROR(c.read(&magic, "magic"));
  if (magic != kMagic) return invalid_argument("not a GGUF file (bad magic)");
  RETURN_IF_ERROR(c.read(&version_, "version"));
  if (version_ == 1) return unimplemented("GGUF version 1 is not supported (convert the file again)");
  if (version_ != 2 && version_ != 3) return unimplemented("unknown GGUF version " + std::to_string(version_));
  uint64_t n_tensors = 0, n_kv = 0;
  RETURN_IF_ERROR(c.read(&n_tensors, "tensor count"));
  RETURN_IF_ERROR(c.read(&n_kv, "metadata count"));
  // A key-value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8+4+8+4+8.
  if (n_kv > c.remaining() / 13) return data_loss("metadata count " + fmt_u64(n_kv) + " exceeds what the file can hold");
  if (n_tensors > c.remaining() / 32) return data_loss("tensor count " + fmt_u64(n_tensors) + " exceeds what the file can hold");

  kvs_.reserve(n_kv);
  std::unordered_set<std::string_view> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    RETURN_IF_ERROR(c.read_string(&key, "metadata key"));
    if (key.empty() || key.size() > kMaxKeyLength) return invalid_argument("metadata key " + std::to_string(i) + " has an invalid length");
    if (!keys.insert(key).second) return invalid_argument("duplicate metadata key '" + std::string(key) + "'");
    uint32_t type = 0;
    RETURN_IF_ERROR(c.read(&type, "metadata value type"));
    GgufKv kv;
    kv.key = std::string(key);
    Status s = read_value(c, type, &kv.value);
    if (!s.ok()) return s.with_context("metadata '" + kv.key + "'");
    kvs_.push_back(std::move(kv));
  }

  if (const GgufValue* a = find(gguf_key::kAlignment)) {
    if (a->type != GgufValueType::kU32) return invalid_argument("general.alignment must be u32, not " + std::string(gguf_value_type_name(a->type)));
    uint64_t al = a->u64;
    if (al == 0 || (al & (al - 1)) != 0 || al > kMaxAlignment) {
      return invalid_argument("general.alignment " + fmt_u64(al) + " is not a power of two in [1, 65536]");
    }
    alignment_ = al;
  }

  tensors_.reserve(n_tensors);
  std::unordered_set<std::string_view> names;
  std::vector<std::string_view> name_views;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    std::string_view name;
    RETURN_IF_ERROR(c.read_string(&name, "tensor name"));
    if (name.empty() || name.size() > 256) return invalid_argument("tensor " + std::to_string(i) + " has an invalid name length");
    if (!names.insert(name).second) return invalid_argument("duplicate tensor '" + std::string(name) + "'");
    t.name = std::string(name);
    uint32_t n_dims = 0;
    RETURN_IF_ERROR(c.read(&n_dims, "tensor dimension count"));
    if (n_dims == 0 || n_dims > kMaxDims) return invalid_argument("tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      RETURN_IF_ERROR(c.read(&ne, "tensor shape"));
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return invalid_argument("tensor '" + t.name + "' has an invalid dimension " + fmt_u64(ne));
      }
      if (n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ne) {
        return invalid_argument("tensor '" + t.name + "' element count overflows");
      }
      n_elements *= ne;
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    t.n_elements = n_elements;
    uint32_t type = 0;
    RETURN_IF_ERROR(c.read(&type, "tensor type"));
    const GgmlTypeTraits* tr = ggml_type_traits(type);
    if (tr == nullptr) return invalid_argument("tensor '" + t.name + "' has unknown type " + std::to_string(type));
    t.type = static_cast<GgmlType>(type);
    if (t.ne[0] % tr->block_size != 0) {
      return invalid_argument("tensor '" + t.name + "' row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                              std::string(tr->name) + " block size " + std::to_string(tr->block_size));
    }
    uint64_t n_blocks = n_elements / static_cast<uint64_t>(tr->block_size);
    if (n_blocks > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(tr->type_size)) {
      return invalid_argument("tensor '" + t.name + "' byte size overflows");
    }
    t.n_bytes = n_blocks * static_cast<uint64_t>(tr->type_size);
    RETURN_IF_ERROR(c.read(&t.offset, "tensor offset"));
    if (t.offset % alignment_ != 0) return invalid_argument("tensor '" + t.name + "' offset is not aligned");
    tensors_.push_back(std::move(t));
  }

  uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (n_tensors > 0 && data_start > size_) return data_loss("file truncated before the tensor data");
  for (GgufTensorInfo& t : tensors_) {
    uint64_t avail = size_ - data_start;
    if (t.offset > avail || t.n_bytes > avail - t.offset) {
      return data_loss("tensor '" + t.name + "' data (offset " + fmt_u64(t.offset) + ", " + fmt_u64(t.n_bytes) +
                       " bytes) lies outside the file");
    }
    t.data = data_ + data_start + t.offset;
  }
  return Status::Ok();
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const GgufKv& kv : kvs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

StatusOr<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (!is_integer(v->type)) return invalid_argument("metadata '" + std::string(key) + "' is " + std::string(gguf_value_type_name(v->type)) + ", not an integer");
  if (is_signed(v->type) && v->i64 < 0) return invalid_argument("metadata '" + std::string(key) + "' is negative");
  return v->u64;
}

StatusOr<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (!is_integer(v->type)) return invalid_argument("metadata '" + std::string(key) + "' is " + std::string(gguf_value_type_name(v->type)) + ", not an integer");
  if (v->type == GgufValueType::kU64 && v->u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return invalid_argument("metadata '" + std::string(key) + "' is too large");
  }
  return v->i64;
}

StatusOr<float> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (v->type != GgufValueType::kF32 && v->type != GgufValueType::kF64) {
    return invalid_argument("metadata '" + std::string(key) + "' is " + std::string(gguf_value_type_name(v->type)) + ", not a float");
  }
  return static_cast<float>(v->f64);
}

StatusOr<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (v->type != GgufValueType::kBool) return invalid_argument("metadata '" + std::string(key) + "' is not a bool");
  return v->b;
}

StatusOr<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (v->type != GgufValueType::kString) return invalid_argument("metadata '" + std::string(key) + "' is not a string");
  return std::string(v->str);
}

uint64_t GgufFile::array_length(std::string_view key) const {
  const GgufValue* v = find(key);
  return (v != nullptr && v->type == GgufValueType::kArray) ? v->n_elems : 0;
}

}  // namespace maas
