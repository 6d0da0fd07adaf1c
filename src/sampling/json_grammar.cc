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

std::shared_ptr<const JsonGrammar> json_object_grammar() {
  static const std::shared_ptr<const JsonGrammar> grammar = [] {
    auto g = std::make_shared<JsonGrammar>();
    g->root = json_any_object();
    return g;
  }();
  return grammar;
}

}  // namespace maas
