// jinja_value.h — the runtime values of the chat-template (Jinja subset) interpreter.
//
// A Value is one of: undefined, none, bool, int (int64), float (double), string (UTF-8 bytes),
// array, object (ordered string-keyed dict), namespace (a mutable object made by namespace()),
// function (builtin, bound method or macro). Strings, arrays and objects are shared immutable
// payloads, so copying a Value is O(1); only a namespace is mutable, and the interpreter breaks
// any reference cycles through namespaces when a render ends.
//
// Conversions to text follow @huggingface/jinja (the reference the tests compare against):
// none and undefined print as "", bools as "true"/"false", floats with at least one decimal,
// arrays/objects as JSON with ", " and ": " separators. Equality follows Python (no JS loose
// equality between strings and numbers).
//
// Thread safety: a Value and the payloads it shares are immutable (except namespaces, which
// exist only inside one render), so Values may be read concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace maas::jinja {

struct Node;
class Value;
struct Callable;

struct Object {
  std::vector<std::pair<std::string, Value>> entries;  // insertion order
  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
};

using Array = std::vector<Value>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kArray, kObject, kNamespace, kFunction };

  Value() = default;
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value array(Array items);
  static Value object(Object obj);
  static Value make_namespace(Object obj);
  static Value function(std::shared_ptr<const Callable> fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_mapping_like() const { return kind_ == Kind::kObject || kind_ == Kind::kNamespace; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  // int, float or bool (bools take part in arithmetic and comparison as 0/1).
  bool is_numeric() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_double() const;
  const std::string& str() const;    // kString only
  const Array& items() const;        // kArray only
  const Object& obj() const;         // kObject / kNamespace
  Object& mutable_namespace() const;  // kNamespace only
  const std::shared_ptr<const Callable>& fn() const { return fn_; }
  const std::shared_ptr<Object>& namespace_ptr() const { return obj_; }

  bool truthy() const;
  // A short name of the kind for error messages ("string", "list", ...).
  std::string_view type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<const std::string> s_;
  std::shared_ptr<const Array> a_;
  std::shared_ptr<Object> obj_;
  std::shared_ptr<const Callable> fn_;
};

// What a function value calls. Builtins are named ("range"); a method is bound to `receiver`;
// a macro points at its definition node, which outlives every render of its template.
struct Callable {
  enum class Type { kBuiltin, kMethod, kMacro };
  Type type = Type::kBuiltin;
  std::string name;
  Value receiver;
  const Node* macro = nullptr;
};

// Text of a value as `{{ v }}` prints it. Fails for structures nested deeper than 64
// (InvalidArgument) or text beyond about max_bytes (ResourceExhausted).
StatusOr<std::string> to_output_string(const Value& v, size_t max_bytes);
// JSON text (tojson). indent < 0: compact with ", " / ": "; otherwise newline + indent spaces.
StatusOr<std::string> to_json(const Value& v, int indent, bool sort_keys, size_t max_bytes);
// Float formatting as @huggingface/jinja prints it ("2.0", "0.5", "1e+21").
std::string format_float(double d);
// Python-style equality (numbers compare across int/float/bool; containers compare deeply).
// Each node visited (and each 64 string bytes) costs one unit of *budget; when the budget runs
// out (or nesting passes 64) it returns false with *budget == 0, which callers report.
bool values_equal(const Value& a, const Value& b, int64_t* budget, int depth = 0);

// UTF-8 helpers shared by filters and methods.
bool is_js_space(uint32_t cp);
// Decodes one code point at s[*i] and advances *i; invalid bytes decode as themselves (one byte).
uint32_t next_code_point(std::string_view s, size_t* i);
std::string trim_js(std::string_view s, bool left, bool right);
size_t count_code_points(std::string_view s);
std::vector<std::string> split_code_points(std::string_view s);

}  // namespace maas::jinja
