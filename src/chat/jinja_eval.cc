// jinja_eval.cc — the interpreter: statements, expressions, loops, macros (see jinja_eval.h).
// Scoping follows @huggingface/jinja: a for loop (and a macro call) opens a frame; `set`
// writes to the innermost frame; lookups walk outwards, then fall back to the builtin globals.
#include "chat/jinja_eval.h"

#include <charconv>
#include <cstdint>

#include "chat/jinja_context.h"
#include "chat/jinja_lexer.h"

namespace maas::jinja {

namespace {

using Block = std::vector<std::unique_ptr<Node>>;

StatusOr<Value> eval(Context& ctx, const Node& n);
Status exec_block(Context& ctx, const Block& block, std::string* out);

// Holds one level of evaluation depth and one step.
class Enter {
 public:
  explicit Enter(Context& ctx) : ctx_(ctx) { ++ctx_.depth; }
  ~Enter() { --ctx_.depth; }
  Status check() const {
    if (++ctx_.steps > ctx_.options.limits.max_steps) {
      return resource_exhausted("chat template exceeded its evaluation step limit");
    }
    if (ctx_.depth > ctx_.options.limits.max_depth) {
      return resource_exhausted("chat template exceeded its recursion depth limit");
    }
    return Status::Ok();
  }

 private:
  Context& ctx_;
};

class FramePush {
 public:
  explicit FramePush(Context& ctx) : ctx_(ctx) { ctx_.frames.emplace_back(); }
  ~FramePush() { ctx_.frames.pop_back(); }

 private:
  Context& ctx_;
};

Status append(Context& ctx, std::string* out, std::string_view text) {
  if (out->size() + text.size() > ctx.options.limits.max_output_bytes) {
    return resource_exhausted("chat template output exceeds " + std::to_string(ctx.options.limits.max_output_bytes) +
                              " bytes");
  }
  RETURN_IF_ERROR(ctx.charge(text.size()));
  out->append(text);
  return Status::Ok();
}

StatusOr<Args> eval_args(Context& ctx, const Node& n, size_t first) {
  Args args;
  for (size_t i = first; i < n.kids.size(); ++i) {
    ASSIGN_OR_RETURN(Value v, eval(ctx, *n.kids[i]));
    if (n.params[i].empty()) {
      args.positional.push_back(std::move(v));
    } else {
      for (const auto& [k, unused] : args.keyword) {
        if (k == n.params[i]) return ctx.at(n.kids[i]->offset, invalid_argument("duplicate keyword argument '" + k + "'"));
      }
      args.keyword.emplace_back(n.params[i], std::move(v));
    }
  }
  return args;
}

Status bind_target(Context& ctx, const Node& target, const Value& v) {
  if (target.kind == NodeKind::kIdentifier) {
    ctx.assign(target.name, v);
    return Status::Ok();
  }
  if (!v.is_array()) return ctx.at(target.offset, invalid_argument("cannot unpack a " + std::string(v.type_name())));
  if (v.items().size() != target.kids.size()) {
    return ctx.at(target.offset, invalid_argument("wrong number of values to unpack"));
  }
  for (size_t i = 0; i < target.kids.size(); ++i) ctx.assign(target.kids[i]->name, v.items()[i]);
  return Status::Ok();
}

Status exec_set(Context& ctx, const Node& n) {
  Value value;
  if (n.kids.size() > 1) {
    ASSIGN_OR_RETURN(value, eval(ctx, *n.kids[1]));
  } else {
    std::string captured;
    RETURN_IF_ERROR(exec_block(ctx, n.body, &captured));
    value = Value::string(std::move(captured));
  }
  const Node& target = *n.kids[0];
  if (target.kind != NodeKind::kMember) return bind_target(ctx, target, value);
  ASSIGN_OR_RETURN(Value object, eval(ctx, *target.kids[0]));
  if (!object.is_namespace()) return ctx.at(target.offset, invalid_argument("can only assign attributes of a namespace"));
  if (target.name.rfind("__", 0) == 0) return ctx.at(target.offset, invalid_argument("access to '" + target.name + "' is not allowed"));
  object.mutable_namespace().set(target.name, std::move(value));
  return Status::Ok();
}

StatusOr<std::vector<Value>> loop_items(Context& ctx, const Node& n, const Value& iterable) {
  std::vector<Value> items;
  if (iterable.is_array()) {
    items = iterable.items();
  } else if (iterable.is_mapping_like()) {
    for (const auto& [k, unused] : iterable.obj().entries) items.push_back(Value::string(k));
  } else if (iterable.is_string()) {
    for (auto& c : split_code_points(iterable.str())) items.push_back(Value::string(std::move(c)));
  } else {
    return ctx.at(n.kids[1]->offset, invalid_argument("cannot iterate over a " + std::string(iterable.type_name())));
  }
  RETURN_IF_ERROR(ctx.charge(items.size() * sizeof(Value)));
  if (!n.kids[2]) return items;
  std::vector<Value> kept;
  for (auto& item : items) {  // `for x in xs if cond`
    RETURN_IF_ERROR(ctx.count_iteration());
    RETURN_IF_ERROR(bind_target(ctx, *n.kids[0], item));
    ASSIGN_OR_RETURN(Value keep, eval(ctx, *n.kids[2]));
    if (keep.truthy()) kept.push_back(std::move(item));
  }
  return kept;
}

Value loop_object(const std::vector<Value>& items, size_t i) {
  int64_t len = static_cast<int64_t>(items.size()), k = static_cast<int64_t>(i);
  Object loop;
  loop.entries = {{"index", Value::integer(k + 1)},
                  {"index0", Value::integer(k)},
                  {"revindex", Value::integer(len - k)},
                  {"revindex0", Value::integer(len - k - 1)},
                  {"first", Value::boolean(k == 0)},
                  {"last", Value::boolean(k == len - 1)},
                  {"length", Value::integer(len)},
                  {"previtem", k > 0 ? items[i - 1] : Value()},
                  {"nextitem", k < len - 1 ? items[i + 1] : Value()}};
  return Value::object(std::move(loop));
}

Status exec_for(Context& ctx, const Node& n, std::string* out) {
  ASSIGN_OR_RETURN(Value iterable, eval(ctx, *n.kids[1]));
  FramePush frame(ctx);
  ASSIGN_OR_RETURN(std::vector<Value> items, loop_items(ctx, n, iterable));
  ++ctx.loop_depth;
  for (size_t i = 0; i < items.size(); ++i) {
    Status st = ctx.count_iteration();
    if (st.ok()) {
      ctx.assign("loop", loop_object(items, i));
      st = bind_target(ctx, *n.kids[0], items[i]);
    }
    if (st.ok()) st = exec_block(ctx, n.body, out);
    if (!st.ok()) {
      --ctx.loop_depth;
      return st;
    }
    Context::Flow flow = ctx.flow;
    ctx.flow = Context::Flow::kNone;
    if (flow == Context::Flow::kBreak) break;
  }
  --ctx.loop_depth;
  if (items.empty()) return exec_block(ctx, n.alt, out);
  return Status::Ok();
}

Status exec(Context& ctx, const Node& n, std::string* out) {
  Enter enter(ctx);
  RETURN_IF_ERROR(enter.check());
  switch (n.kind) {
    case NodeKind::kText: return append(ctx, out, n.name);
    case NodeKind::kOutput: {
      ASSIGN_OR_RETURN(Value v, eval(ctx, *n.kids[0]));
      StatusOr<std::string> text = ctx.text(v);
      if (!text.ok()) return ctx.at(n.offset, text.status());
      return append(ctx, out, *text);
    }
    case NodeKind::kIf: {
      ASSIGN_OR_RETURN(Value test, eval(ctx, *n.kids[0]));
      return exec_block(ctx, test.truthy() ? n.body : n.alt, out);
    }
    case NodeKind::kFor: return exec_for(ctx, n, out);
    case NodeKind::kSet: return exec_set(ctx, n);
    case NodeKind::kMacro: {
      auto fn = std::make_shared<Callable>();
      fn->type = Callable::Type::kMacro;
      fn->name = n.name;
      fn->macro = &n;
      ctx.assign(n.name, Value::function(std::move(fn)));
      return Status::Ok();
    }
    case NodeKind::kBreak:
    case NodeKind::kContinue:
      if (ctx.loop_depth == 0) return ctx.at(n.offset, invalid_argument("break/continue outside a loop"));
      ctx.flow = n.kind == NodeKind::kBreak ? Context::Flow::kBreak : Context::Flow::kContinue;
      return Status::Ok();
    case NodeKind::kNoop: return Status::Ok();
    default: return ctx.at(n.offset, internal_error("expression used as a statement"));
  }
}

Status exec_block(Context& ctx, const Block& block, std::string* out) {
  for (const auto& n : block) {
    if (ctx.flow != Context::Flow::kNone) break;
    RETURN_IF_ERROR(exec(ctx, *n, out));
  }
  return Status::Ok();
}

StatusOr<Value> call_macro(Context& ctx, const Node& macro, const Args& args) {
  if (args.positional.size() > macro.params.size()) {
    return invalid_argument("macro '" + macro.name + "' takes at most " + std::to_string(macro.params.size()) +
                            " arguments");
  }
  for (const auto& [k, unused] : args.keyword) {
    bool known = false;
    for (const auto& p : macro.params) known = known || p == k;
    if (!known) return invalid_argument("macro '" + macro.name + "' has no parameter '" + k + "'");
  }
  FramePush frame(ctx);  // on top of the caller's frames, as @huggingface/jinja does
  std::vector<size_t> pending;
  for (size_t i = 0; i < macro.params.size(); ++i) {
    const Value* v = args.get(i, macro.params[i]);
    if (!v && macro.kids[i]) pending.push_back(i);
    ctx.assign(macro.params[i], v ? *v : Value());
  }
  for (size_t i : pending) {
    ASSIGN_OR_RETURN(Value def, eval(ctx, *macro.kids[i]));
    ctx.assign(macro.params[i], std::move(def));
  }
  int saved_loop_depth = ctx.loop_depth;
  ctx.loop_depth = 0;
  std::string out;
  Status st = exec_block(ctx, macro.body, &out);
  ctx.loop_depth = saved_loop_depth;
  RETURN_IF_ERROR(st);
  return Value::string(std::move(out));
}

StatusOr<Value> eval_call(Context& ctx, const Node& n) {
  ASSIGN_OR_RETURN(Value callee, eval(ctx, *n.kids[0]));
  ASSIGN_OR_RETURN(Args args, eval_args(ctx, n, 1));
  if (callee.kind() != Value::Kind::kFunction) {
    std::string what = n.kids[0]->kind == NodeKind::kIdentifier ? "'" + n.kids[0]->name + "'" : "this value";
    return ctx.at(n.offset, invalid_argument(what + " is not callable (" + std::string(callee.type_name()) + ")"));
  }
  const Callable& fn = *callee.fn();
  StatusOr<Value> result = Status(StatusCode::kInternal, "unreachable");
  switch (fn.type) {
    case Callable::Type::kBuiltin: result = call_builtin(ctx, fn.name, args); break;
    case Callable::Type::kMethod: result = call_method(ctx, fn.receiver, fn.name, args); break;
    case Callable::Type::kMacro: result = call_macro(ctx, *fn.macro, args); break;
  }
  if (!result.ok()) return ctx.at(n.offset, result.status());
  return result;
}

StatusOr<Value> eval_collection(Context& ctx, const Node& n) {
  RETURN_IF_ERROR(ctx.charge(n.kids.size() * sizeof(Value)));
  if (n.kind != NodeKind::kDict) {
    Array items;
    for (const auto& k : n.kids) {
      ASSIGN_OR_RETURN(Value v, eval(ctx, *k));
      items.push_back(std::move(v));
    }
    return Value::array(std::move(items));
  }
  Object obj;
  for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
    ASSIGN_OR_RETURN(Value key, eval(ctx, *n.kids[i]));
    if (!key.is_string()) return ctx.at(n.kids[i]->offset, invalid_argument("dict keys must be strings"));
    ASSIGN_OR_RETURN(Value value, eval(ctx, *n.kids[i + 1]));
    obj.set(key.str(), std::move(value));
  }
  return Value::object(std::move(obj));
}

StatusOr<Value> eval_negate(Context& ctx, const Node& n) {
  ASSIGN_OR_RETURN(Value v, eval(ctx, *n.kids[0]));
  if (!v.is_numeric()) return ctx.at(n.offset, invalid_argument("bad operand for unary " + n.name + ": " + std::string(v.type_name())));
  if (n.name == "+") return v.is_float() ? v : Value::integer(v.as_int());
  if (v.is_float()) return Value::number(-v.as_double());
  if (v.as_int() == INT64_MIN) return ctx.at(n.offset, invalid_argument("integer overflow"));
  return Value::integer(-v.as_int());
}

// `.0`: an index written as an attribute; an index too large to parse indexes nothing.
Value parse_index(const std::string& digits) {
  int64_t v = 0;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return res.ec == std::errc() ? Value::integer(v) : Value();
}

StatusOr<Value> eval_inner(Context& ctx, const Node& n) {
  switch (n.kind) {
    case NodeKind::kLiteral: return n.value;
    case NodeKind::kIdentifier: return ctx.lookup(n.name);
    case NodeKind::kList:
    case NodeKind::kTuple:
    case NodeKind::kDict: return eval_collection(ctx, n);
    case NodeKind::kMember: {
      ASSIGN_OR_RETURN(Value object, eval(ctx, *n.kids[0]));
      StatusOr<Value> r = n.negate ? get_item(ctx, object, parse_index(n.name)) : get_attribute(ctx, object, n.name);
      return r.ok() ? r : ctx.at(n.offset, r.status());
    }
    case NodeKind::kIndex:
    case NodeKind::kSlice: {
      Value parts[4];
      for (size_t i = 0; i < n.kids.size() && i < 4; ++i) {
        if (n.kids[i]) {
          ASSIGN_OR_RETURN(parts[i], eval(ctx, *n.kids[i]));
        }
      }
      StatusOr<Value> r = n.kind == NodeKind::kIndex ? get_item(ctx, parts[0], parts[1])
                                                     : slice_value(ctx, parts[0], parts[1], parts[2], parts[3]);
      return r.ok() ? r : ctx.at(n.offset, r.status());
    }
    case NodeKind::kCall: return eval_call(ctx, n);
    case NodeKind::kFilter:
    case NodeKind::kTest: {
      ASSIGN_OR_RETURN(Value operand, eval(ctx, *n.kids[0]));
      ASSIGN_OR_RETURN(Args args, eval_args(ctx, n, 1));
      if (n.kind == NodeKind::kFilter) {
        StatusOr<Value> r = apply_filter(ctx, n.name, operand, args);
        return r.ok() ? r : ctx.at(n.offset, r.status());
      }
      StatusOr<bool> r = apply_test(ctx, n.name, operand, args);
      if (!r.ok()) return ctx.at(n.offset, r.status());
      return Value::boolean(*r != n.negate);
    }
    case NodeKind::kNot: {
      ASSIGN_OR_RETURN(Value v, eval(ctx, *n.kids[0]));
      return Value::boolean(!v.truthy());
    }
    case NodeKind::kNegate: return eval_negate(ctx, n);
    case NodeKind::kBinary: {
      ASSIGN_OR_RETURN(Value a, eval(ctx, *n.kids[0]));
      ASSIGN_OR_RETURN(Value b, eval(ctx, *n.kids[1]));
      StatusOr<Value> r = binary_op(ctx, n.name, a, b);
      return r.ok() ? r : ctx.at(n.offset, r.status());
    }
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      ASSIGN_OR_RETURN(Value a, eval(ctx, *n.kids[0]));
      if (a.truthy() == (n.kind == NodeKind::kOr)) return a;
      return eval(ctx, *n.kids[1]);
    }
    case NodeKind::kTernary: {
      ASSIGN_OR_RETURN(Value c, eval(ctx, *n.kids[0]));
      return eval(ctx, *n.kids[c.truthy() ? 1 : 2]);
    }
    case NodeKind::kSelect: {
      ASSIGN_OR_RETURN(Value c, eval(ctx, *n.kids[1]));
      if (!c.truthy()) return Value();
      return eval(ctx, *n.kids[0]);
    }
    default: return ctx.at(n.offset, internal_error("statement used as an expression"));
  }
}

StatusOr<Value> eval(Context& ctx, const Node& n) {
  Enter enter(ctx);
  RETURN_IF_ERROR(enter.check());
  return eval_inner(ctx, n);
}

}  // namespace

const Value* Args::get(size_t i, std::string_view name) const {
  if (i < positional.size()) return &positional[i];
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

Context::~Context() {
  for (auto& ns : namespaces_) ns->entries.clear();
}

Value Context::lookup(std::string_view name) const {
  for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
    for (const auto& [k, v] : f->vars) {
      if (k == name) return v;
    }
  }
  return builtin_global(name);
}

void Context::assign(std::string_view name, Value value) {
  for (auto& [k, v] : frames.back().vars) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  frames.back().vars.emplace_back(std::string(name), std::move(value));
}

Status Context::charge(uint64_t bytes) {
  allocated += bytes;
  if (allocated > options.limits.max_alloc_bytes) {
    return resource_exhausted("chat template exceeded its memory budget");
  }
  return Status::Ok();
}

Status Context::check_string(size_t size) {
  if (size > options.limits.max_output_bytes) {
    return resource_exhausted("chat template built a string over " + std::to_string(options.limits.max_output_bytes) +
                              " bytes");
  }
  return Status::Ok();
}

StatusOr<Value> Context::make_string(std::string s) {
  RETURN_IF_ERROR(check_string(s.size()));
  RETURN_IF_ERROR(charge(s.size()));
  return Value::string(std::move(s));
}

Status Context::count_iteration() {
  if (++iterations > options.limits.max_loop_iterations) {
    return resource_exhausted("chat template exceeded its loop iteration limit");
  }
  return Status::Ok();
}

Status Context::at(uint32_t offset, Status status) const {
  if (status.code() != StatusCode::kInvalidArgument || status.message().rfind("chat template", 0) == 0) {
    return status;
  }
  return invalid_argument("chat template error at " + describe_position(program.source, offset) + ": " +
                          status.message());
}

Status Context::spend(uint64_t units) {
  steps += units;
  if (steps > options.limits.max_steps) return resource_exhausted("chat template exceeded its evaluation step limit");
  return Status::Ok();
}

StatusOr<bool> Context::equal(const Value& a, const Value& b) {
  int64_t start = steps < options.limits.max_steps ? static_cast<int64_t>(options.limits.max_steps - steps) : 0;
  int64_t budget = start;
  bool r = values_equal(a, b, &budget);
  if (budget <= 0) {
    return resource_exhausted("chat template exceeded its evaluation step limit comparing values");
  }
  RETURN_IF_ERROR(spend(static_cast<uint64_t>(start - budget)));
  return r;
}

StatusOr<std::string> Context::text(const Value& v) {
  if (v.is_string()) return v.str();
  return to_output_string(v, options.limits.max_output_bytes);
}

Value Context::new_namespace(Object obj) {
  Value v = Value::make_namespace(std::move(obj));
  namespaces_.push_back(v.namespace_ptr());
  return v;
}

StatusOr<std::string> render_program(const Program& program,
                                     const std::vector<std::pair<std::string, Value>>& variables,
                                     const RenderOptions& options) {
  Context ctx(program, options);
  ctx.frames.emplace_back();
  for (const auto& [k, v] : variables) ctx.assign(k, v);
  std::string out;
  RETURN_IF_ERROR(exec_block(ctx, program.body, &out));
  return out;
}

}  // namespace maas::jinja
