// jinja_value.cc — Value construction, truthiness, equality, printing and JSON (see jinja_value.h).
#include "chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace maas::jinja {

namespace {

constexpr int kMaxPrintDepth = 64;

const std::string& empty_string() {
  static const std::string* s = new std::string();
  return *s;
}

// JSON.stringify's string escaping (also what Python's json.dumps(ensure_ascii=False) does).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string json_number(const Value& v) {
  if (v.is_int()) return std::to_string(v.as_int());
  double d = v.as_double();
  if (!std::isfinite(d)) return "null";
  if (d == 0) return "0";
  std::string s = format_float(d);
  // JSON.stringify prints integral floats without ".0".
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

struct JsonOptions {
  int indent;
  bool sort_keys;
  bool undef_null;
  size_t max_bytes;
};

Status append_json(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  if (depth > kMaxPrintDepth) return invalid_argument("value nested too deeply to print");
  if (out.size() > o.max_bytes) return resource_exhausted("chat template value too large to print");
  const int indent = o.indent;
  switch (v.kind()) {
    case Value::Kind::kUndefined: out += o.undef_null ? "null" : "undefined"; return Status::Ok();
    case Value::Kind::kNone: out += "null"; return Status::Ok();
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return Status::Ok();
    case Value::Kind::kInt:
    case Value::Kind::kFloat: out += json_number(v); return Status::Ok();
    case Value::Kind::kString: append_json_string(out, v.str()); return Status::Ok();
    case Value::Kind::kFunction: return invalid_argument("cannot convert a function to JSON");
    default: break;
  }
  const std::string item_sep = indent >= 0 ? "," : ", ";
  std::string pad, child_pad;
  if (indent > 0) {
    pad.push_back('\n');
    pad.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
    child_pad = pad;
    child_pad.append(static_cast<size_t>(indent), ' ');
  }
  if (v.is_array()) {
    out += '[';
    const Array& items = v.items();
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_sep;
      out += child_pad;
      RETURN_IF_ERROR(append_json(out, items[i], o, depth + 1));
    }
    if (!items.empty()) out += pad;
    out += ']';
    return Status::Ok();
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& e : v.obj().entries) entries.push_back(&e);
  if (o.sort_keys) {
    std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  }
  out += '{';
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += item_sep;
    out += child_pad;
    append_json_string(out, entries[i]->first);
    out += ": ";
    RETURN_IF_ERROR(append_json(out, entries[i]->second, o, depth + 1));
  }
  if (!entries.empty()) out += pad;
  out += '}';
  return Status::Ok();
}

}  // namespace

const Value* Object::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Object::set(std::string key, Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

Value Value::none() { Value v; v.kind_ = Kind::kNone; return v; }
Value Value::boolean(bool b) { Value v; v.kind_ = Kind::kBool; v.b_ = b; return v; }
Value Value::integer(int64_t i) { Value v; v.kind_ = Kind::kInt; v.i_ = i; return v; }
Value Value::number(double d) { Value v; v.kind_ = Kind::kFloat; v.d_ = d; return v; }
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
Value Value::array(Array items) {
  Value v;
  v.kind_ = Kind::kArray;
  v.a_ = std::make_shared<const Array>(std::move(items));
  return v;
}
Value Value::object(Object obj) {
  Value v;
  v.kind_ = Kind::kObject;
  v.obj_ = std::make_shared<Object>(std::move(obj));
  return v;
}
Value Value::make_namespace(Object obj) {
  Value v = object(std::move(obj));
  v.kind_ = Kind::kNamespace;
  return v;
}
Value Value::function(std::shared_ptr<const Callable> fn) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.fn_ = std::move(fn);
  return v;
}

double Value::as_double() const {
  if (kind_ == Kind::kFloat) return d_;
  return static_cast<double>(as_int());
}
const std::string& Value::str() const { return s_ ? *s_ : empty_string(); }
const Array& Value::items() const {
  static const Array* empty = new Array();
  return a_ ? *a_ : *empty;
}
const Object& Value::obj() const {
  static const Object* empty = new Object();
  return obj_ ? *obj_ : *empty;
}
Object& Value::mutable_namespace() const {
  CHECK(kind_ == Kind::kNamespace && obj_);
  return *obj_;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return b_;
    case Kind::kInt: return i_ != 0;
    case Kind::kFloat: return d_ != 0 && !std::isnan(d_);
    case Kind::kString: return !str().empty();
    case Kind::kArray: return !items().empty();
    case Kind::kObject: return !obj().entries.empty();
    case Kind::kNamespace:
    case Kind::kFunction: return true;
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNone: return "none";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kArray: return "list";
    case Kind::kObject: return "dict";
    case Kind::kNamespace: return "namespace";
    case Kind::kFunction: return "function";
  }
  return "?";
}

std::string format_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  int exp10 = std::stoi(sci.substr(e_pos + 1));
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out;
  if (neg) out.push_back('-');
  if (exp10 >= 21 || exp10 < -6) {  // JS switches to exponent notation here
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.append(exp10 > 0 ? "e+" : "e");
    out.append(std::to_string(exp10));
    return out;
  }
  if (exp10 < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exp10 - 1), '0');
    out.append(digits);
  } else if (static_cast<size_t>(exp10) + 1 >= digits.size()) {
    out.append(digits);
    out.append(static_cast<size_t>(exp10) + 1 - digits.size(), '0');
    out.append(".0");
  } else {
    out.append(digits, 0, static_cast<size_t>(exp10) + 1);
    out.push_back('.');
    out.append(digits, static_cast<size_t>(exp10) + 1, std::string::npos);
  }
  return out;
}

StatusOr<std::string> to_output_string(const Value& v, size_t max_bytes) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
    case Value::Kind::kFunction: return std::string();
    case Value::Kind::kBool: return std::string(v.as_bool() ? "true" : "false");
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kFloat: return format_float(v.as_double());
    case Value::Kind::kString: return v.str();
    default: break;
  }
  std::string out;
  RETURN_IF_ERROR(append_json(out, v, JsonOptions{-1, false, /*undef_null=*/false, max_bytes}, 0));
  return out;
}

StatusOr<std::string> to_json(const Value& v, int indent, bool sort_keys, size_t max_bytes) {
  std::string out;
  RETURN_IF_ERROR(append_json(out, v, JsonOptions{indent, sort_keys, /*undef_null=*/true, max_bytes}, 0));
  return out;
}

bool values_equal(const Value& a, const Value& b, int64_t* budget, int depth) {
  if (--*budget <= 0 || depth > kMaxPrintDepth) {
    *budget = 0;
    return false;
  }
  if (a.is_numeric() && b.is_numeric()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  // @huggingface/jinja (JS ==) treats none and undefined as equal; so do we.
  bool a_null = a.is_none() || a.is_undefined(), b_null = b.is_none() || b.is_undefined();
  if (a_null || b_null) return a_null && b_null;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kString:
      *budget -= static_cast<int64_t>(std::min(a.str().size(), b.str().size()) / 64);
      return a.str() == b.str();
    case Value::Kind::kArray: {
      const Array &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!values_equal(x[i], y[i], budget, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kObject:
    case Value::Kind::kNamespace: {
      const Object &x = a.obj(), &y = b.obj();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* w = y.find(k);
        if (!w || !values_equal(v, *w, budget, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kFunction: return a.fn() == b.fn();
    default: return false;
  }
}


bool is_js_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint32_t next_code_point(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || *i + len > s.size()) {
    ++*i;
    return c;
  }
  uint32_t cp = c & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++*i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += len;
  return cp;
}

std::string trim_js(std::string_view s, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      size_t j = begin;
      if (!is_js_space(next_code_point(s, &j))) break;
      begin = j;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;  // back up to the start of the last code point
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
      size_t j = start;
      uint32_t cp = next_code_point(s, &j);
      if (j != end || !is_js_space(cp)) break;
      end = start;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) next_code_point(s, &i);
  return n;
}

std::vector<std::string> split_code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    next_code_point(s, &i);
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace maas::jinja

