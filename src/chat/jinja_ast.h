// jinja_ast.h — the syntax tree of a parsed chat template.
//
// One Node type for statements and expressions keeps the parser and evaluator small. Which
// fields a node uses depends on its kind (listed beside each kind). A tree is immutable after
// parsing and owned by its Program; the parser bounds its depth (kMaxParseDepth), so the
// evaluator's recursion over it is bounded too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_value.h"

namespace maas::jinja {

inline constexpr int kMaxParseDepth = 256;  // ~128 nested parentheses, ~85 nested blocks

enum class NodeKind {
  // statements
  kText,      // name = the text
  kOutput,    // kids[0] = expression
  kIf,        // kids[0] = test; body; alt (an elif is an If inside alt)
  kFor,       // kids[0] = target (Identifier or Tuple), kids[1] = iterable, kids[2] = filter or
              // absent; body; alt = the else block
  kSet,       // kids[0] = target (Identifier, Tuple or Member), kids[1] = value; or body (block set)
  kMacro,     // name; params (names) with kids[i] = default or null; body
  kBreak,
  kContinue,
  kNoop,      // comments
  // expressions
  kLiteral,    // value
  kIdentifier, // name
  kList,       // kids
  kTuple,      // kids
  kDict,       // kids = key0, value0, key1, value1, ...
  kMember,     // kids[0] = object, name = attribute (from `.name` or `.0`)
  kIndex,      // kids[0] = object, kids[1] = index expression
  kSlice,      // kids[0] = object, kids[1..3] = start, stop, step (null when absent)
  kCall,       // kids[0] = callee, kids[1..] = arguments; params = keyword names, "" for positional
  kFilter,     // kids[0] = operand, kids[1..] = arguments; name = filter; params as for kCall
  kTest,       // kids[0] = operand, kids[1..] = arguments; name = test; negate
  kNot,        // kids[0]
  kNegate,     // kids[0]; name = "-" or "+"
  kBinary,     // name = operator; kids[0], kids[1]
  kAnd,        // kids[0], kids[1]
  kOr,         // kids[0], kids[1]
  kTernary,    // kids[0] = condition, kids[1] = if true, kids[2] = if false
  kSelect,     // kids[0] = value, kids[1] = condition (`a if c` without else: undefined if false)
};

struct Node {
  NodeKind kind = NodeKind::kNoop;
  uint32_t offset = 0;  // where it starts in the source, for error messages
  std::string name;
  Value value;
  bool negate = false;
  std::vector<std::unique_ptr<Node>> kids;  // entries may be null where noted
  std::vector<std::string> params;
  std::vector<std::unique_ptr<Node>> body;
  std::vector<std::unique_ptr<Node>> alt;
};

struct Program {
  std::string source;  // kept for error positions
  std::vector<std::unique_ptr<Node>> body;
};

}  // namespace maas::jinja
