// jinja_eval.h — renders a parsed chat template in a sandbox.
//
// The sandbox (CVE-2024-34359 is the attack this closes): a template can reach only the
// variables it is given, the values it builds, and a fixed table of filters, tests, methods
// and functions (raise_exception, range, namespace, strftime_now). There is no attribute
// lookup into host objects; names starting with "__" are refused outright. Every render is
// bounded by Limits — output size, string size, loop iterations, evaluation steps, recursion
// depth and total bytes built — and exceeding one is a ResourceExhausted error, never a hang
// or a crash.
//
// Errors: InvalidArgument "chat template error at line L, column C: ..." for type errors and
// raise_exception(); ResourceExhausted for limits. Thread safety: render_program is reentrant;
// the Program is only read.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace maas::jinja {

struct Limits {
  size_t max_output_bytes = 1 << 20;     // the rendered text, and any single string value
  uint64_t max_loop_iterations = 100000; // all loops of one render together
  uint64_t max_steps = 5000000;          // statements + expressions evaluated
  int max_depth = 400;                   // nested evaluation (statements, expressions, macros)
  uint64_t max_alloc_bytes = 64 << 20;   // bytes of strings and list slots built, in total
};

struct RenderOptions {
  Limits limits;
  int64_t now_unix = -1;  // the time strftime_now() formats (local time); -1: the current time
};

// Renders `program` with `variables` as its globals.
StatusOr<std::string> render_program(const Program& program,
                                     const std::vector<std::pair<std::string, Value>>& variables,
                                     const RenderOptions& options);

}  // namespace maas::jinja
