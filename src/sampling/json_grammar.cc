// json_grammar.cc — the shared "anything" nodes and the json_object grammar.
#include "sampling/json_grammar.h"

namespace maas {
namespace {

struct AnyNodes {
  JsonNode value, object, array;
  AnyNodes() {
    value.kind = JsonNode::Kind::kAny;
    object.kind = JsonNode::Kind::kObject;
    object.extra = &value;
    array.kind = JsonNode::Kind::kArray;
  }
};

const AnyNodes& any_nodes() {
  static const AnyNodes nodes;
  return nodes;
}

}  // namespace

const JsonNode* json_any_value() { return &any_nodes().value; }
const JsonNode* json_any_object() { return &any_nodes().object; }
const JsonNode* json_any_array() { return &any_nodes().array; }

bool json_value_may_start(const JsonNode* n, uint8_t c) {
  using Kind = JsonNode::Kind;
  const auto is_digit = [](uint8_t x) { return x >= '0' && x <= '9'; };
  switch (n->kind) {
    case Kind::kAny: return c == '{' || c == '[' || c == '"' || c == '-' || is_digit(c) || c == 't' || c == 'f' || c == 'n';
    case Kind::kObject: return c == '{';
    case Kind::kArray: return c == '[';
    case Kind::kString: return c == '"';
    case Kind::kNumber:
    case Kind::kInteger: return c == '-' || is_digit(c);
    case Kind::kBoolean: return c == 't' || c == 'f';
    case Kind::kNull: return c == 'n';
    case Kind::kEnum:
      for (const std::string& l : n->literals) {
        if (!l.empty() && static_cast<uint8_t>(l[0]) == c) return true;
      }
      return false;
    case Kind::kUnion:
      for (const JsonNode* a : n->alternatives) {
        if (json_value_may_start(a, c)) return true;
      }
      return false;
  }
  return false;
}

std::shared_ptr<const JsonGrammar> json_object_grammar() {
  static const std::shared_ptr<const JsonGrammar> grammar = [] {
    auto g = std::make_shared<JsonGrammar>();
    g->root = json_any_object();
    return g;
  }();
  return grammar;
}

}  // namespace maas
