// jinja_filters.cc — filters (`x | f`), tests (`x is t`) and the global functions
// (raise_exception, range, namespace, strftime_now). The tables here are the whole surface a
// template can call; nothing reaches host objects.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "chat/jinja_context.h"

namespace maas::jinja {

namespace {

Status need(bool ok, const std::string& filter, std::string_view what) {
  return ok ? Status::Ok() : invalid_argument("filter '" + filter + "' needs " + std::string(what));
}

// Python int(): an optional sign and digits, surrounding whitespace allowed; else float() truncated.
bool parse_int(const std::string& s, int64_t* out) {
  std::string t = trim_js(s, true, true);
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() + t.size() && errno == 0) {
    *out = v;
    return true;
  }
  double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !(d > -9.2e18 && d < 9.2e18)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

StatusOr<Value> to_int_or_float(const std::string& name, const Value& v, const Args& args) {
  bool as_int = name == "int";
  const Value* def = args.get(0, "default");
  Value fallback = def ? *def : (as_int ? Value::integer(0) : Value::number(0));
  if (v.is_numeric()) return as_int ? Value::integer(v.is_float() ? static_cast<int64_t>(v.as_double()) : v.as_int())
                                    : Value::number(v.as_double());
  if (!v.is_string()) return invalid_argument("filter '" + name + "' cannot convert a " + std::string(v.type_name()));
  if (as_int) {
    int64_t i = 0;
    return parse_int(v.str(), &i) ? Value::integer(i) : fallback;
  }
  std::string t = trim_js(v.str(), true, true);
  char* end = nullptr;
  double d = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  return (!t.empty() && end == t.c_str() + t.size()) ? Value::number(d) : fallback;
}

// Ordering for sort: numbers, or strings (case-insensitively unless asked).
StatusOr<Value> sort_array(Context& ctx, const Value& v, const Args& args) {
  const Value* reverse = args.get(0, "reverse");
  const Value* case_sensitive = args.get(1, "case_sensitive");
  const Value* attribute = args.get(2, "attribute");
  bool cs = case_sensitive && case_sensitive->truthy();
  Array items = v.items();
  RETURN_IF_ERROR(ctx.charge(items.size() * sizeof(Value)));
  RETURN_IF_ERROR(ctx.spend(items.size() * 8));
  std::vector<std::pair<Value, size_t>> keys;
  for (size_t i = 0; i < items.size(); ++i) {
    Value key = items[i];
    if (attribute && attribute->is_string() && key.is_mapping_like()) {
      const Value* a = key.obj().find(attribute->str());
      key = a ? *a : Value();
    }
    if (key.is_string() && !cs) key = Value::string(ascii_lower(key.str()));
    if (!key.is_numeric() && !key.is_string()) return invalid_argument("sort: cannot compare " + std::string(key.type_name()));
    if (i > 0 && key.is_string() != keys[0].first.is_string()) return invalid_argument("sort: cannot compare strings with numbers");
    keys.emplace_back(std::move(key), i);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    if (a.first.is_string()) return a.first.str() < b.first.str();
    return a.first.as_double() < b.first.as_double();
  });
  if (reverse && reverse->truthy()) std::reverse(keys.begin(), keys.end());
  Array out;
  for (const auto& [unused, i] : keys) out.push_back(items[i]);
  return Value::array(std::move(out));
}

StatusOr<Value> select_items(Context& ctx, const std::string& name, const Value& v, const Args& args) {
  RETURN_IF_ERROR(need(v.is_array(), name, "a list"));
  bool by_attr = name == "selectattr" || name == "rejectattr";
  bool keep_if = name == "select" || name == "selectattr";
  size_t first_test_arg = by_attr ? 1 : 0;
  if (by_attr && (args.positional.empty() || !args.positional[0].is_string())) {
    return invalid_argument("filter '" + name + "' needs an attribute name");
  }
  Args test_args;
  std::string test;
  if (args.positional.size() > first_test_arg) {
    if (!args.positional[first_test_arg].is_string()) return invalid_argument("filter '" + name + "' needs a test name");
    test = args.positional[first_test_arg].str();
    test_args.positional.assign(args.positional.begin() + first_test_arg + 1, args.positional.end());
  }
  RETURN_IF_ERROR(ctx.spend(v.items().size()));
  Array out;
  for (const Value& item : v.items()) {
    Value subject = item;
    if (by_attr) {
      const Value* a = item.is_mapping_like() ? item.obj().find(args.positional[0].str()) : nullptr;
      subject = a ? *a : Value();
    }
    bool r = false;
    if (test.empty()) {
      r = subject.truthy();
    } else {
      ASSIGN_OR_RETURN(r, apply_test(ctx, test, subject, test_args));
    }
    if (r == keep_if) out.push_back(item);
  }
  RETURN_IF_ERROR(ctx.charge(out.size() * sizeof(Value)));
  return Value::array(std::move(out));
}

StatusOr<Value> map_attribute(Context& ctx, const Value& v, const Args& args) {
  const Value* attr = args.get(99, "attribute");
  if (!v.is_array() || !attr || !attr->is_string()) return invalid_argument("filter 'map' needs a list and attribute=");
  const Value* def = args.get(99, "default");
  RETURN_IF_ERROR(ctx.spend(v.items().size()));
  Array out;
  for (const Value& item : v.items()) {
    const Value* a = item.is_mapping_like() ? item.obj().find(attr->str()) : nullptr;
    out.push_back(a ? *a : (def ? *def : Value()));
  }
  RETURN_IF_ERROR(ctx.charge(out.size() * sizeof(Value)));
  return Value::array(std::move(out));
}

StatusOr<Value> join(Context& ctx, const Value& v, const Args& args) {
  const Value* sep = args.get(0, "d");
  if (!sep) sep = args.get(99, "separator");
  if (sep && !sep->is_string()) return invalid_argument("filter 'join' needs a string separator");
  Array parts;
  if (v.is_string()) {
    for (auto& c : split_code_points(v.str())) parts.push_back(Value::string(std::move(c)));
  } else if (v.is_array()) {
    parts = v.items();
  } else {
    return invalid_argument("filter 'join' cannot join a " + std::string(v.type_name()));
  }
  RETURN_IF_ERROR(ctx.spend(parts.size()));
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSIGN_OR_RETURN(std::string part, ctx.text(parts[i]));
    if (i > 0 && sep) out += sep->str();
    out += part;
    RETURN_IF_ERROR(ctx.check_string(out.size()));
  }
  return ctx.make_string(std::move(out));
}

StatusOr<Value> indent(Context& ctx, const Value& v, const Args& args) {
  const Value* width = args.get(0, "width");
  const Value* first = args.get(1, "first");
  const Value* blank = args.get(2, "blank");
  if (!v.is_string()) return invalid_argument("filter 'indent' needs a string");
  std::string pad;
  if (width && width->is_string()) {
    pad = width->str();
  } else {
    int64_t n = width && width->is_int() ? width->as_int() : 4;
    if (n < 0 || n > 1024) return invalid_argument("filter 'indent' width out of range");
    pad.assign(static_cast<size_t>(n), ' ');
  }
  std::string out;
  const std::string& s = v.str();
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    size_t nl = s.find('\n', start);
    std::string_view text = std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!((line == 0 && !(first && first->truthy())) || (text.empty() && !(blank && blank->truthy())))) out += pad;
    out += text;
    RETURN_IF_ERROR(ctx.check_string(out.size()));
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return ctx.make_string(std::move(out));
}

StatusOr<Value> length(Context& ctx, const Value& v) {
  if (v.is_string()) {
    RETURN_IF_ERROR(ctx.spend(v.str().size() / 64));
    return Value::integer(static_cast<int64_t>(count_code_points(v.str())));
  }
  if (v.is_array()) return Value::integer(static_cast<int64_t>(v.items().size()));
  if (v.is_mapping_like()) return Value::integer(static_cast<int64_t>(v.obj().entries.size()));
  return invalid_argument("filter 'length' cannot measure a " + std::string(v.type_name()));
}

StatusOr<Value> first_or_last(const std::string& name, const Value& v) {
  if (v.is_array()) {
    if (v.items().empty()) return Value();
    return name == "first" ? v.items().front() : v.items().back();
  }
  if (v.is_string()) {
    const std::string& s = v.str();
    if (s.empty()) return Value();
    size_t start = 0;
    if (name == "last") {  // back up over continuation bytes to the last code point
      start = s.size() - 1;
      while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    }
    size_t end = start;
    next_code_point(s, &end);
    if (name == "last" && end != s.size()) start = s.size() - 1, end = s.size();
    return Value::string(s.substr(start, end - start));
  }
  return invalid_argument("filter '" + name + "' needs a list or string");
}

StatusOr<Value> string_filter(Context& ctx, const std::string& name, const Value& v, const Args& args) {
  RETURN_IF_ERROR(need(v.is_string(), name, "a string"));
  if (name == "upper") return ctx.make_string(ascii_upper(v.str()));
  if (name == "lower") return ctx.make_string(ascii_lower(v.str()));
  if (name == "title") return ctx.make_string(py_title(v.str()));
  if (name == "capitalize") return ctx.make_string(py_capitalize(v.str()));
  if (name == "trim") return ctx.make_string(trim_js(v.str(), true, true));
  // replace
  const Value* from = args.get(0, "old");
  const Value* to = args.get(1, "new");
  const Value* count = args.get(2, "count");
  if (!from || !to || !from->is_string() || !to->is_string()) return invalid_argument("filter 'replace' needs two strings");
  return replace_all(ctx, v.str(), from->str(), to->str(), count && count->is_int() ? count->as_int() : -1);
}

StatusOr<Value> items_list(Context& ctx, const std::string& name, const Value& v) {
  Array out;
  if (name == "items") {
    RETURN_IF_ERROR(need(v.is_mapping_like(), name, "a dict"));
    for (const auto& [k, x] : v.obj().entries) out.push_back(Value::array({Value::string(k), x}));
  } else if (v.is_array()) {
    out = v.items();
  } else if (v.is_string()) {
    for (auto& c : split_code_points(v.str())) out.push_back(Value::string(std::move(c)));
  } else if (v.is_mapping_like()) {
    for (const auto& [k, unused] : v.obj().entries) out.push_back(Value::string(k));
  } else {
    return invalid_argument("filter '" + name + "' needs a list, string or dict");
  }
  if (name == "reverse") std::reverse(out.begin(), out.end());
  RETURN_IF_ERROR(ctx.charge(out.size() * sizeof(Value) * 2));
  if (name == "reverse" && v.is_string()) {
    std::string s;
    for (const Value& c : out) s += c.str();
    return Value::string(std::move(s));
  }
  return Value::array(std::move(out));
}

StatusOr<Value> unique(Context& ctx, const Value& v) {
  RETURN_IF_ERROR(need(v.is_array(), "unique", "a list"));
  Array out;
  for (const Value& item : v.items()) {
    bool seen = false;
    for (const Value& o : out) {
      ASSIGN_OR_RETURN(seen, ctx.equal(o, item));
      if (seen) break;
    }
    if (!seen) out.push_back(item);
  }
  RETURN_IF_ERROR(ctx.charge(out.size() * sizeof(Value)));
  return Value::array(std::move(out));
}

std::string strftime_limited(int64_t now_unix, const std::string& format) {
  std::time_t t = now_unix >= 0 ? static_cast<std::time_t>(now_unix) : std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size() || !std::strchr("YmdbBHMSyaAjpIe%", format[i + 1])) {
      out += format[i];
      continue;
    }
    char spec[3] = {'%', format[++i], 0};
    char buf[64];
    size_t n = std::strftime(buf, sizeof(buf), spec, &tm);
    out.append(buf, n);
  }
  return out;
}

}  // namespace

StatusOr<Value> apply_filter(Context& ctx, const std::string& name, const Value& v, const Args& args) {
  if (name == "safe") return v;
  if (name == "tojson") {
    const Value* ind = args.get(99, "indent");
    const Value* sort = args.get(99, "sort_keys");
    int indent = ind && ind->is_int() ? static_cast<int>(std::clamp<int64_t>(ind->as_int(), -1, 64)) : -1;
    ASSIGN_OR_RETURN(std::string s, to_json(v, indent, sort && sort->truthy(), ctx.options.limits.max_output_bytes));
    return ctx.make_string(std::move(s));
  }
  if (name == "string") {
    ASSIGN_OR_RETURN(std::string s, ctx.text(v));
    return ctx.make_string(std::move(s));
  }
  if (name == "length" || name == "count") return length(ctx, v);
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "trim" ||
      name == "replace") {
    return string_filter(ctx, name, v, args);
  }
  if (name == "int" || name == "float") return to_int_or_float(name, v, args);
  if (name == "abs") {
    RETURN_IF_ERROR(need(v.is_numeric(), name, "a number"));
    if (v.is_float()) return Value::number(v.as_double() < 0 ? -v.as_double() : v.as_double());
    if (v.as_int() == INT64_MIN) return invalid_argument("integer overflow");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (name == "default" || name == "d") {
    const Value* def = args.get(0, "default_value");
    const Value* boolean = args.get(1, "boolean");
    if (v.is_undefined() || (boolean && boolean->truthy() && !v.truthy())) return def ? *def : Value::string("");
    return v;
  }
  if (name == "first" || name == "last") return first_or_last(name, v);
  if (name == "join") return join(ctx, v, args);
  if (name == "items" || name == "list" || name == "reverse") return items_list(ctx, name, v);
  if (name == "sort") {
    RETURN_IF_ERROR(need(v.is_array(), name, "a list"));
    return sort_array(ctx, v, args);
  }
  if (name == "unique") return unique(ctx, v);
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    return select_items(ctx, name, v, args);
  }
  if (name == "map") return map_attribute(ctx, v, args);
  if (name == "indent") return indent(ctx, v, args);
  return invalid_argument("unknown filter '" + name + "'");
}

StatusOr<bool> apply_test(Context& ctx, const std::string& name, const Value& v, const Args& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_int() || v.is_float();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "mapping") return v.is_object();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_mapping_like();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_object();
  if (name == "callable") return v.kind() == Value::Kind::kFunction;
  if (name == "odd" || name == "even") {
    if (!v.is_int()) return invalid_argument("test '" + name + "' needs an integer");
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    RETURN_IF_ERROR(ctx.spend(v.str().size() / 64));
    return v.str() == (name == "lower" ? ascii_lower(v.str()) : ascii_upper(v.str()));
  }
  if (name == "equalto" || name == "eq" || name == "sameas") {
    const Value* other = args.get(0, "other");
    return ctx.equal(v, other ? *other : Value());
  }
  if (name == "in") {
    const Value* seq = args.get(0, "seq");
    return contains(ctx, seq ? *seq : Value(), v);
  }
  return invalid_argument("unknown test '" + name + "'");
}

Value builtin_global(std::string_view name) {
  if (name == "true" || name == "True") return Value::boolean(true);
  if (name == "false" || name == "False") return Value::boolean(false);
  if (name == "none" || name == "None") return Value::none();
  if (name == "raise_exception" || name == "range" || name == "namespace" || name == "strftime_now") {
    auto fn = std::make_shared<Callable>();
    fn->type = Callable::Type::kBuiltin;
    fn->name = std::string(name);
    return Value::function(std::move(fn));
  }
  return Value();
}

StatusOr<Value> call_builtin(Context& ctx, const std::string& name, const Args& args) {
  if (name == "raise_exception") {
    std::string msg = args.positional.empty() ? "" : ctx.text(args.positional[0]).ok() ? *ctx.text(args.positional[0]) : "";
    return invalid_argument("chat template raised an exception: " + msg);
  }
  if (name == "strftime_now") {
    const Value* fmt = args.get(0, "format");
    if (!fmt || !fmt->is_string() || fmt->str().size() > 256) return invalid_argument("strftime_now() needs a format string");
    return Value::string(strftime_limited(ctx.options.now_unix, fmt->str()));
  }
  if (name == "namespace") {
    Object obj;
    if (!args.positional.empty()) {
      if (!args.positional[0].is_object()) return invalid_argument("namespace() takes a dict or keyword arguments");
      obj = args.positional[0].obj();
    }
    for (const auto& [k, v] : args.keyword) obj.set(k, v);
    return ctx.new_namespace(std::move(obj));
  }
  // range([start,] stop[, step])
  for (const Value& a : args.positional) {
    if (!a.is_int()) return invalid_argument("range() takes integers");
  }
  size_t n = args.positional.size();
  if (n < 1 || n > 3) return invalid_argument("range() takes 1 to 3 arguments");
  int64_t start = n >= 2 ? args.positional[0].as_int() : 0;
  int64_t stop = n >= 2 ? args.positional[1].as_int() : args.positional[0].as_int();
  int64_t step = n == 3 ? args.positional[2].as_int() : 1;
  if (step == 0) return invalid_argument("range() step must not be zero");
  Array out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.size() >= ctx.options.limits.max_loop_iterations) {
      return resource_exhausted("range() longer than the loop iteration limit");
    }
    out.push_back(Value::integer(i));
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  RETURN_IF_ERROR(ctx.charge(out.size() * sizeof(Value)));
  return Value::array(std::move(out));
}

}  // namespace maas::jinja
