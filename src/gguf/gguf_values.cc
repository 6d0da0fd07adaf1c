// gguf_values.cc — decoding metadata arrays and describing values for display.
// Arrays were bounds-checked when the file was parsed; here they are only decoded.
#include <cstring>

#include "gguf/gguf.h"

namespace maas {
namespace {

Status expect_array(const GgufValue* v, std::string_view key) {
  if (v == nullptr) return not_found("missing metadata '" + std::string(key) + "'");
  if (v->type != GgufValueType::kArray) return invalid_argument("metadata '" + std::string(key) + "' is not an array");
  return Status::Ok();
}

template <typename T>
T load(const uint8_t* p) {
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: return "u8";
    case GgufValueType::kI8: return "i8";
    case GgufValueType::kU16: return "u16";
    case GgufValueType::kI16: return "i16";
    case GgufValueType::kU32: return "u32";
    case GgufValueType::kI32: return "i32";
    case GgufValueType::kF32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kU64: return "u64";
    case GgufValueType::kI64: return "i64";
    case GgufValueType::kF64: return "f64";
  }
  return "?";
}

StatusOr<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  RETURN_IF_ERROR(expect_array(v, key));
  if (v->elem_type != GgufValueType::kString) {
    return invalid_argument("metadata '" + std::string(key) + "' holds " + std::string(gguf_value_type_name(v->elem_type)) + ", not strings");
  }
  std::vector<std::string> out;
  out.reserve(v->n_elems);
  const uint8_t* p = v->elems;
  for (uint64_t i = 0; i < v->n_elems; ++i) {
    uint64_t len = load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), len);
    p += 8 + len;
  }
  return out;
}

StatusOr<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  RETURN_IF_ERROR(expect_array(v, key));
  if (v->elem_type != GgufValueType::kF32) {
    return invalid_argument("metadata '" + std::string(key) + "' holds " + std::string(gguf_value_type_name(v->elem_type)) + ", not f32");
  }
  std::vector<float> out(v->n_elems);
  if (!out.empty()) std::memcpy(out.data(), v->elems, v->n_elems * 4);
  return out;
}

StatusOr<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  RETURN_IF_ERROR(expect_array(v, key));
  std::vector<int64_t> out;
  out.reserve(v->n_elems);
  const uint8_t* p = v->elems;
  for (uint64_t i = 0; i < v->n_elems; ++i) {
    switch (v->elem_type) {
      case GgufValueType::kU8: out.push_back(p[i]); break;
      case GgufValueType::kI8: out.push_back(static_cast<int8_t>(p[i])); break;
      case GgufValueType::kU16: out.push_back(load<uint16_t>(p + 2 * i)); break;
      case GgufValueType::kI16: out.push_back(load<int16_t>(p + 2 * i)); break;
      case GgufValueType::kU32: out.push_back(load<uint32_t>(p + 4 * i)); break;
      case GgufValueType::kI32: out.push_back(load<int32_t>(p + 4 * i)); break;
      case GgufValueType::kI64: out.push_back(load<int64_t>(p + 8 * i)); break;
      default:
        return invalid_argument("metadata '" + std::string(key) + "' holds " + std::string(gguf_value_type_name(v->elem_type)) + ", not integers");
    }
  }
  return out;
}

std::string gguf_value_summary(const GgufValue& v, size_t max_chars) {
  std::string s;
  switch (v.type) {
    case GgufValueType::kString: {
      s = "\"";
      for (char c : v.str.substr(0, max_chars)) s += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
      if (v.str.size() > max_chars) s += "...";
      s += "\"";
      return s;
    }
    case GgufValueType::kArray:
      return std::string(gguf_value_type_name(v.elem_type)) + "[" + std::to_string(v.n_elems) + "]";
    case GgufValueType::kF32: case GgufValueType::kF64: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%g", v.f64);
      return buf;
    }
    case GgufValueType::kBool: return v.b ? "true" : "false";
    case GgufValueType::kI8: case GgufValueType::kI16: case GgufValueType::kI32: case GgufValueType::kI64:
      return std::to_string(v.i64);
    default: return std::to_string(v.u64);
  }
}

}  // namespace maas
