// json_fields.cc — typed field reads with OpenAI-style 400s.
#include "api/json_fields.h"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace maas::api {
namespace {

// The shortest %g text that reads back as v (0.7 -> "0.7", not 0.69999999999999996).
std::string format_number(double v) {
  char buf[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string range_text(double lo, double hi, bool lo_open) {
  return std::string(lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) + "]";
}

}  // namespace

const char* json_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "null";
  }
}

const Json* find_field(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

ApiError type_error(const std::string& param, const char* expected, const Json& got) {
  return invalid_request("'" + param + "' must be " + expected + ", got " + json_type_name(got) + ".", param);
}

ApiError as_bool(const Json& v, const std::string& param, bool* out) {
  if (!v.is_boolean()) return type_error(param, "a boolean", v);
  *out = v.get<bool>();
  return ApiError{};
}

ApiError as_int(const Json& v, const std::string& param, int64_t lo, int64_t hi, int64_t* out) {
  if (!v.is_number_integer()) return type_error(param, "an integer", v);
  std::string got;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(hi) && hi >= 0 && static_cast<int64_t>(u) >= lo) {
      *out = static_cast<int64_t>(u);
      return ApiError{};
    }
    got = std::to_string(u);
  } else {
    const int64_t x = v.get<int64_t>();
    if (x >= lo && x <= hi) {
      *out = x;
      return ApiError{};
    }
    got = std::to_string(x);
  }
  return invalid_request("'" + param + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                             got + ".",
                         param);
}

ApiError as_number(const Json& v, const std::string& param, double lo, double hi, bool lo_open, double* out) {
  if (!v.is_number()) return type_error(param, "a number", v);
  const double x = v.get<double>();
  const bool in_range = lo_open ? (x > lo && x <= hi) : (x >= lo && x <= hi);
  if (!in_range) {
    return invalid_request(
        "'" + param + "' must be in " + range_text(lo, hi, lo_open) + ", got " + format_number(x) + ".", param);
  }
  *out = x + 0.0;  // -0.0 -> 0.0
  return ApiError{};
}

ApiError as_string(const Json& v, const std::string& param, std::string* out) {
  if (!v.is_string()) return type_error(param, "a string", v);
  *out = v.get<std::string>();
  return ApiError{};
}

ApiError get_bool(const Json& obj, const char* key, bool* out) {
  const Json* v = find_field(obj, key);
  return v ? as_bool(*v, key, out) : ApiError{};
}

ApiError get_int32(const Json& obj, const char* key, int64_t lo, int64_t hi, int32_t* out) {
  const Json* v = find_field(obj, key);
  if (!v) return ApiError{};
  int64_t x = 0;
  RETURN_IF_API_ERROR(as_int(*v, key, lo, hi, &x));
  *out = static_cast<int32_t>(x);
  return ApiError{};
}

ApiError get_float(const Json& obj, const char* key, double lo, double hi, bool lo_open, float* out) {
  const Json* v = find_field(obj, key);
  if (!v) return ApiError{};
  double x = 0;
  RETURN_IF_API_ERROR(as_number(*v, key, lo, hi, lo_open, &x));
  *out = static_cast<float>(x);
  return ApiError{};
}

}  // namespace maas::api
