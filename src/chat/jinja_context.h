// jinja_context.h — internal: the state of one render, shared by the evaluator
// (jinja_eval.cc), the operators and methods (jinja_ops.cc) and the filters, tests and global
// functions (jinja_filters.cc). Not part of the public API.
//
// Builtins report plain messages (InvalidArgument); the evaluator adds the source position.
// Every string or list a builtin builds goes through Context::charge / check_string so the
// render's byte budget and per-string cap hold everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_value.h"

namespace maas::jinja {

// Call arguments: positional values, then keyword values by name.
struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The i-th positional argument, else the keyword `name`, else null.
  const Value* get(size_t i, std::string_view name) const;
};

class Context {
 public:
  struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
  };
  enum class Flow { kNone, kBreak, kContinue };

  Context(const Program& program, const RenderOptions& options) : program(program), options(options) {}
  ~Context();  // clears namespaces, breaking any reference cycles made through them

  Value lookup(std::string_view name) const;
  void assign(std::string_view name, Value value);

  Status charge(uint64_t bytes);                  // ResourceExhausted past max_alloc_bytes
  Status check_string(size_t size);               // ResourceExhausted past max_output_bytes
  StatusOr<Value> make_string(std::string s);     // check_string + charge
  Status count_iteration();                       // ResourceExhausted past max_loop_iterations
  Status spend(uint64_t units);                   // adds work to the step count (O(n) builtins)
  StatusOr<bool> equal(const Value& a, const Value& b);   // values_equal within the step budget
  StatusOr<std::string> text(const Value& v);     // to_output_string within the size cap
  // Prefixes an InvalidArgument message with the source position (once).
  Status at(uint32_t offset, Status status) const;
  Value new_namespace(Object obj);

  const Program& program;
  const RenderOptions& options;
  uint64_t steps = 0;
  uint64_t iterations = 0;
  uint64_t allocated = 0;
  int depth = 0;
  int loop_depth = 0;
  Flow flow = Flow::kNone;
  std::vector<Frame> frames;

 private:
  std::vector<std::shared_ptr<Object>> namespaces_;
};

// jinja_ops.cc
StatusOr<Value> binary_op(Context& ctx, std::string_view op, const Value& a, const Value& b);
// `item in container`; InvalidArgument when `container` cannot contain anything.
StatusOr<bool> contains(Context& ctx, const Value& container, const Value& item);
StatusOr<Value> get_attribute(Context& ctx, const Value& object, const std::string& name);
StatusOr<Value> get_item(Context& ctx, const Value& object, const Value& key);
StatusOr<Value> slice_value(Context& ctx, const Value& object, const Value& start, const Value& stop,
                            const Value& step);
StatusOr<Value> call_method(Context& ctx, const Value& receiver, const std::string& name, const Args& args);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
StatusOr<Value> replace_all(Context& ctx, const std::string& s, const std::string& from, const std::string& to,
                            int64_t count);

// jinja_filters.cc
StatusOr<Value> apply_filter(Context& ctx, const std::string& name, const Value& operand, const Args& args);
StatusOr<bool> apply_test(Context& ctx, const std::string& name, const Value& operand, const Args& args);
Value builtin_global(std::string_view name);  // undefined when there is none
StatusOr<Value> call_builtin(Context& ctx, const std::string& name, const Args& args);

}  // namespace maas::jinja
