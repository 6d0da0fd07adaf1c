// jinja_ops.cc — operators, attribute/item access, slicing and the string and dict methods.
// Attribute access is the sandbox boundary: it reaches only dict/namespace entries and the
// fixed method tables below, and refuses any name starting with "__".
#include <algorithm>
#include <cmath>

#include "chat/jinja_context.h"

namespace maas::jinja {

namespace {

bool is_dunder(std::string_view name) { return name.size() >= 2 && name[0] == '_' && name[1] == '_'; }

Status dunder_error(std::string_view name) {
  return invalid_argument("access to '" + std::string(name) + "' is not allowed");
}

constexpr std::string_view kStringMethods[] = {"upper",      "lower",    "strip",    "lstrip",  "rstrip", "title",
                                               "capitalize", "startswith", "endswith", "split", "replace", "join"};
constexpr std::string_view kDictMethods[] = {"get", "items", "keys", "values"};

Value bound_method(const Value& receiver, const std::string& name) {
  auto fn = std::make_shared<Callable>();
  fn->type = Callable::Type::kMethod;
  fn->name = name;
  fn->receiver = receiver;
  return Value::function(std::move(fn));
}

StatusOr<Value> arithmetic(std::string_view op, const Value& a, const Value& b) {
  if (a.is_float() || b.is_float() || op == "/") {
    double x = a.as_double(), y = b.as_double();
    if ((op == "/" || op == "//" || op == "%") && y == 0) return invalid_argument("division by zero");
    if (op == "+") return Value::number(x + y);
    if (op == "-") return Value::number(x - y);
    if (op == "*") return Value::number(x * y);
    if (op == "/") return Value::number(x / y);
    if (op == "//") return Value::number(std::floor(x / y));
    if (op == "%") return Value::number(x - y * std::floor(x / y));
    if (op == "**") return Value::number(std::pow(x, y));
  }
  int64_t x = a.as_int(), y = b.as_int(), r = 0;
  bool overflow = false;
  if (op == "+") overflow = __builtin_add_overflow(x, y, &r);
  else if (op == "-") overflow = __builtin_sub_overflow(x, y, &r);
  else if (op == "*") overflow = __builtin_mul_overflow(x, y, &r);
  else if (op == "//" || op == "%") {
    if (y == 0) return invalid_argument("division by zero");
    if (x == INT64_MIN && y == -1) return invalid_argument("integer overflow");
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      --q;
      m += y;
    }
    r = op == "//" ? q : m;
  } else if (op == "**") {
    if (y < 0) return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
    r = 1;
    for (int64_t base = x; y > 0 && !overflow; y >>= 1) {
      if (y & 1) overflow = __builtin_mul_overflow(r, base, &r);
      if (y > 1 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
    }
  } else {
    return invalid_argument("unknown operator " + std::string(op));
  }
  if (overflow) return invalid_argument("integer overflow");
  return Value::integer(r);
}

StatusOr<Value> compare(std::string_view op, const Value& a, const Value& b) {
  int c = 0;
  if (a.is_numeric() && b.is_numeric()) {
    double x = a.as_double(), y = b.as_double();
    if (!a.is_float() && !b.is_float()) {
      c = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    } else {
      c = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (a.is_string() && b.is_string()) {
    c = a.str().compare(b.str());
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else {
    return invalid_argument("cannot compare " + std::string(a.type_name()) + " with " + std::string(b.type_name()));
  }
  if (op == "<") return Value::boolean(c < 0);
  if (op == ">") return Value::boolean(c > 0);
  if (op == "<=") return Value::boolean(c <= 0);
  return Value::boolean(c >= 0);
}

StatusOr<Value> repeat(Context& ctx, const std::string& s, int64_t times) {
  if (times <= 0 || s.empty()) return Value::string("");
  if (static_cast<uint64_t>(times) > ctx.options.limits.max_output_bytes / s.size() + 1) {
    return ctx.check_string(ctx.options.limits.max_output_bytes + 1);
  }
  std::string out;
  for (int64_t i = 0; i < times; ++i) out += s;
  return ctx.make_string(std::move(out));
}

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) out.push_back(next_code_point(s, &i));
  return out;
}

std::string strip_chars(std::string_view s, std::string_view chars, bool left, bool right) {
  std::vector<uint32_t> set = code_points(chars);
  auto in_set = [&](uint32_t cp) { return std::find(set.begin(), set.end(), cp) != set.end(); };
  std::vector<std::string> cps = split_code_points(s);
  size_t b = 0, e = cps.size();
  while (left && b < e && in_set(code_points(cps[b])[0])) ++b;
  while (right && e > b && in_set(code_points(cps[e - 1])[0])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += cps[i];
  return out;
}

StatusOr<bool> affix_test(const std::string& s, const Value& arg, bool prefix) {
  auto test = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (arg.is_string()) return test(arg.str());
  if (!arg.is_array()) return invalid_argument("startswith/endswith takes a string or a tuple of strings");
  if (arg.items().size() > 1024) return invalid_argument("startswith/endswith: too many prefixes");
  for (const Value& v : arg.items()) {
    if (!v.is_string()) return invalid_argument("startswith/endswith takes a string or a tuple of strings");
    if (test(v.str())) return true;
  }
  return false;
}

StatusOr<Value> split(Context& ctx, const std::string& s, const Args& args) {
  const Value* sep = args.get(0, "sep");
  const Value* max = args.get(1, "maxsplit");
  if (sep && !sep->is_string() && !sep->is_none()) return invalid_argument("split() separator must be a string or none");
  if (max && !max->is_int()) return invalid_argument("split() maxsplit must be an integer");
  int64_t maxsplit = max ? max->as_int() : -1;
  Array parts;
  if (!sep || sep->is_none()) {
    std::string text = trim_js(s, true, false);
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      while (i < text.size()) {
        size_t j = i;
        if (is_js_space(next_code_point(text, &j))) break;
        i = j;
      }
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        parts.push_back(Value::string(text.substr(start)));
        break;
      }
      parts.push_back(Value::string(text.substr(start, i - start)));
      std::string rest = trim_js(std::string_view(text).substr(i), true, false);
      i = text.size() - rest.size();
    }
  } else {
    const std::string& d = sep->str();
    if (d.empty()) return invalid_argument("empty separator");
    size_t start = 0;
    while (true) {
      size_t hit = s.find(d, start);
      if (hit == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit)) {
        parts.push_back(Value::string(s.substr(start)));
        break;
      }
      parts.push_back(Value::string(s.substr(start, hit - start)));
      start = hit + d.size();
    }
  }
  RETURN_IF_ERROR(ctx.charge(s.size() + parts.size() * sizeof(Value)));
  return Value::array(std::move(parts));
}

StatusOr<Value> string_method(Context& ctx, const std::string& s, const std::string& name, const Args& args) {
  if (name == "upper") return ctx.make_string(ascii_upper(s));
  if (name == "lower") return ctx.make_string(ascii_lower(s));
  if (name == "title") return ctx.make_string(py_title(s));
  if (name == "capitalize") return ctx.make_string(py_capitalize(s));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool left = name != "rstrip", right = name != "lstrip";
    RETURN_IF_ERROR(ctx.spend(s.size() / 64));
    const Value* chars = args.get(0, "chars");
    if (chars && chars->is_string()) return ctx.make_string(strip_chars(s, chars->str(), left, right));
    return ctx.make_string(trim_js(s, left, right));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* arg = args.get(0, "prefix");
    if (!arg) return invalid_argument(name + "() takes one argument");
    ASSIGN_OR_RETURN(bool r, affix_test(s, *arg, name == "startswith"));
    return Value::boolean(r);
  }
  if (name == "split") return split(ctx, s, args);
  if (name == "replace") {
    const Value* from = args.get(0, "old");
    const Value* to = args.get(1, "new");
    const Value* count = args.get(2, "count");
    if (!from || !to || !from->is_string() || !to->is_string()) return invalid_argument("replace() takes two strings");
    if (count && !count->is_int() && !count->is_none()) return invalid_argument("replace() count must be an integer");
    return replace_all(ctx, s, from->str(), to->str(), count && count->is_int() ? count->as_int() : -1);
  }
  if (name == "join") {
    const Value* items = args.get(0, "iterable");
    if (!items || !items->is_array()) return invalid_argument("join() takes a list");
    std::string out;
    for (size_t i = 0; i < items->items().size(); ++i) {
      ASSIGN_OR_RETURN(std::string part, ctx.text(items->items()[i]));
      if (i > 0) out += s;
      out += part;
      RETURN_IF_ERROR(ctx.check_string(out.size()));
    }
    return ctx.make_string(std::move(out));
  }
  return invalid_argument("unknown string method '" + name + "'");
}

StatusOr<Value> dict_method(Context& ctx, const Value& d, const std::string& name, const Args& args) {
  const Object& obj = d.obj();
  if (name == "get") {
    const Value* key = args.get(0, "key");
    if (!key || !key->is_string()) return invalid_argument("get() takes a string key");
    if (is_dunder(key->str())) return dunder_error(key->str());
    if (const Value* v = obj.find(key->str())) return *v;
    const Value* def = args.get(1, "default");
    return def ? *def : Value::none();
  }
  RETURN_IF_ERROR(ctx.charge(obj.entries.size() * sizeof(Value) * 2));
  Array out;
  for (const auto& [k, v] : obj.entries) {
    if (name == "keys") out.push_back(Value::string(k));
    else if (name == "values") out.push_back(v);
    else out.push_back(Value::array({Value::string(k), v}));
  }
  return Value::array(std::move(out));
}

}  // namespace

StatusOr<bool> contains(Context& ctx, const Value& container, const Value& item) {
  if (container.is_array()) {
    for (const Value& v : container.items()) {
      ASSIGN_OR_RETURN(bool eq, ctx.equal(v, item));
      if (eq) return true;
    }
    return false;
  }
  if (container.is_undefined()) return false;
  if (container.is_string() && item.is_string()) {
    RETURN_IF_ERROR(ctx.spend(container.str().size() / 64));
    return container.str().find(item.str()) != std::string::npos;
  }
  if (container.is_mapping_like()) {
    RETURN_IF_ERROR(ctx.spend(container.obj().entries.size()));
    return item.is_string() && container.obj().find(item.str()) != nullptr;
  }
  return invalid_argument("'in' needs a list, string or dict on the right, got " + std::string(container.type_name()));
}

StatusOr<Value> binary_op(Context& ctx, std::string_view op, const Value& a, const Value& b) {
  if (op == "==" || op == "!=") {
    ASSIGN_OR_RETURN(bool eq, ctx.equal(a, b));
    return Value::boolean(eq == (op == "=="));
  }
  if (op == "in" || op == "not in") {
    ASSIGN_OR_RETURN(bool r, contains(ctx, b, a));
    return Value::boolean(op == "in" ? r : !r);
  }
  if (op == "~") {
    ASSIGN_OR_RETURN(std::string x, ctx.text(a));
    ASSIGN_OR_RETURN(std::string y, ctx.text(b));
    RETURN_IF_ERROR(ctx.check_string(x.size() + y.size()));
    return ctx.make_string(x + y);
  }
  if (a.is_undefined() || b.is_undefined() || a.is_none() || b.is_none()) {
    return invalid_argument("cannot apply '" + std::string(op) + "' to " + std::string(a.type_name()) + " and " +
                            std::string(b.type_name()));
  }
  bool cmp = op == "<" || op == ">" || op == "<=" || op == ">=";
  if (cmp) return compare(op, a, b);
  if (a.is_numeric() && b.is_numeric()) return arithmetic(op, a, b);
  if (op == "+" && a.is_array() && b.is_array()) {
    RETURN_IF_ERROR(ctx.charge((a.items().size() + b.items().size()) * sizeof(Value)));
    Array out = a.items();
    out.insert(out.end(), b.items().begin(), b.items().end());
    return Value::array(std::move(out));
  }
  if (op == "+" && (a.is_string() || b.is_string())) {
    ASSIGN_OR_RETURN(std::string x, ctx.text(a));
    ASSIGN_OR_RETURN(std::string y, ctx.text(b));
    RETURN_IF_ERROR(ctx.check_string(x.size() + y.size()));
    return ctx.make_string(x + y);
  }
  if (op == "*" && a.is_string() && b.is_int()) return repeat(ctx, a.str(), b.as_int());
  if (op == "*" && b.is_string() && a.is_int()) return repeat(ctx, b.str(), a.as_int());
  return invalid_argument("unsupported operand types for '" + std::string(op) + "': " + std::string(a.type_name()) +
                          " and " + std::string(b.type_name()));
}

StatusOr<Value> get_attribute(Context& ctx, const Value& object, const std::string& name) {
  (void)ctx;
  if (is_dunder(name)) return dunder_error(name);
  if (object.is_mapping_like()) {
    if (const Value* v = object.obj().find(name)) return *v;
    if (object.is_object()) {
      for (auto m : kDictMethods) {
        if (m == name) return bound_method(object, name);
      }
    }
    return Value();
  }
  if (object.is_string()) {
    for (auto m : kStringMethods) {
      if (m == name) return bound_method(object, name);
    }
  }
  return Value();
}

StatusOr<Value> get_item(Context& ctx, const Value& object, const Value& key) {
  if (key.is_string()) {
    if (is_dunder(key.str())) return dunder_error(key.str());
    if (object.is_mapping_like()) {
      const Value* v = object.obj().find(key.str());
      return v ? *v : Value();
    }
    return get_attribute(ctx, object, key.str());
  }
  if (!key.is_int() || !(object.is_array() || object.is_string())) return Value();
  int64_t i = key.as_int();
  if (object.is_array()) {
    int64_t n = static_cast<int64_t>(object.items().size());
    if (i < 0) i += n;
    return (i >= 0 && i < n) ? object.items()[i] : Value();
  }
  const std::string& s = object.str();
  RETURN_IF_ERROR(ctx.spend(s.size() / 64));
  if (i < 0) i += static_cast<int64_t>(count_code_points(s));
  if (i < 0) return Value();
  for (size_t pos = 0; pos < s.size(); --i) {
    size_t start = pos;
    next_code_point(s, &pos);
    if (i == 0) return Value::string(s.substr(start, pos - start));
  }
  return Value();
}

StatusOr<Value> slice_value(Context& ctx, const Value& object, const Value& start, const Value& stop,
                            const Value& step) {
  for (const Value* v : {&start, &stop, &step}) {
    if (!v->is_undefined() && !v->is_none() && !v->is_int()) return invalid_argument("slice indices must be integers");
  }
  if (!object.is_array() && !object.is_string()) return invalid_argument("cannot slice a " + std::string(object.type_name()));
  int64_t st = step.is_int() ? step.as_int() : 1;
  if (st == 0) return invalid_argument("slice step cannot be zero");
  std::vector<std::string> cps;
  RETURN_IF_ERROR(ctx.spend(object.is_string() ? object.str().size() / 16 : object.items().size() / 16));
  if (object.is_string()) cps = split_code_points(object.str());
  int64_t n = static_cast<int64_t>(object.is_array() ? object.items().size() : cps.size());
  auto clamp = [&](const Value& v, int64_t def, int64_t lo, int64_t hi) {
    if (!v.is_int()) return def;
    int64_t x = v.as_int();
    if (x < 0) x = std::max(x + n, lo);
    return std::min(x, hi);
  };
  int64_t b = st > 0 ? clamp(start, 0, 0, n) : clamp(start, n - 1, -1, n - 1);
  int64_t e = st > 0 ? clamp(stop, n, 0, n) : clamp(stop, -1, -1, n - 1);
  Array items;
  std::string text;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    if (object.is_array()) items.push_back(object.items()[i]);
    else text += cps[i];
  }
  RETURN_IF_ERROR(ctx.charge(items.size() * sizeof(Value) + text.size()));
  return object.is_array() ? Value::array(std::move(items)) : Value::string(std::move(text));
}

StatusOr<Value> call_method(Context& ctx, const Value& receiver, const std::string& name, const Args& args) {
  if (receiver.is_string()) return string_method(ctx, receiver.str(), name, args);
  if (receiver.is_object()) return dict_method(ctx, receiver, name, args);
  return invalid_argument("unknown method '" + name + "'");
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string py_title(std::string_view s) {
  std::string out(s);
  bool prev_letter = false;
  for (char& c : out) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) c = prev_letter ? ascii_lower(std::string(1, c))[0] : ascii_upper(std::string(1, c))[0];
    prev_letter = letter;
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = ascii_upper(out.substr(0, 1))[0];
  return out;
}

StatusOr<Value> replace_all(Context& ctx, const std::string& s, const std::string& from, const std::string& to,
                            int64_t count) {
  if (count == 0) return Value::string(s);
  std::vector<size_t> hits;  // where `from` matches (for an empty `from`: every code point boundary)
  if (from.empty()) {
    for (size_t i = 0;; next_code_point(s, &i)) {
      hits.push_back(i);
      if (i >= s.size() || (count > 0 && static_cast<int64_t>(hits.size()) >= count)) break;
    }
  } else {
    for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + from.size())) {
      hits.push_back(i);
      if (count > 0 && static_cast<int64_t>(hits.size()) >= count) break;
    }
  }
  RETURN_IF_ERROR(ctx.spend(s.size() / 64));
  RETURN_IF_ERROR(ctx.check_string(s.size() - hits.size() * from.size() + hits.size() * to.size()));
  std::string out;
  size_t last = 0;
  for (size_t h : hits) {
    out.append(s, last, h - last);
    out += to;
    last = h + from.size();
  }
  out.append(s, last, std::string::npos);
  return ctx.make_string(std::move(out));
}

}  // namespace maas::jinja
