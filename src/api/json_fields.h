// json_fields.h — strictly typed reads of request fields, each failure a 400 naming the field.
//
// Types are never coerced (TESTPLAN C16, C6): booleans must be JSON true/false, integers must
// be JSON integers (10.5, 10.0, 1e3 and "10" are rejected), numbers may be integers or floats
// but never strings; NaN/Infinity cannot occur (invalid JSON) and every range check is written
// so that a non-finite value would fail it. A field that is absent or JSON null keeps its
// default (the get_* functions leave *out untouched).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace maas::api {

using Json = nlohmann::json;

// "string", "integer", "number", "boolean", "array", "object", "null".
const char* json_type_name(const Json& v);

// The value of `key` in object `obj`, or nullptr when absent or null.
const Json* find_field(const Json& obj, std::string_view key);

// Conversions of one value; `param` names it in errors ("temperature", "messages[0].role").
ApiError as_bool(const Json& v, const std::string& param, bool* out);
ApiError as_int(const Json& v, const std::string& param, int64_t lo, int64_t hi, int64_t* out);
// [lo, hi], or (lo, hi] when lo_open.
ApiError as_number(const Json& v, const std::string& param, double lo, double hi, bool lo_open, double* out);
ApiError as_string(const Json& v, const std::string& param, std::string* out);

// Field reads from an object; the key is the param.
ApiError get_bool(const Json& obj, const char* key, bool* out);
ApiError get_int32(const Json& obj, const char* key, int64_t lo, int64_t hi, int32_t* out);
ApiError get_float(const Json& obj, const char* key, double lo, double hi, bool lo_open, float* out);

// "must be of type T" errors for hand-written checks.
ApiError type_error(const std::string& param, const char* expected, const Json& got);

}  // namespace maas::api
