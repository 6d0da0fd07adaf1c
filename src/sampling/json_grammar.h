// json_grammar.h — a JSON Schema compiled for constrained decoding (response_format).
//
// The API layer (api/response_format.cc) compiles a request's `response_format` JSON Schema into
// this tree; json_matcher.h recognises JSON text against it byte by byte, and
// json_constraint.h turns that into a per-step mask over the vocabulary. Nodes refer to each
// other by pointer inside one JsonGrammar (a `$ref` may make the graph cyclic), which owns them.
// What a node accepts:
//   kAny      any JSON value (objects with any keys, arrays of anything)
//   kObject   '{' members '}': the keys of `keys` (each at most once, any order; `required` bits
//             must all appear) and, when `extra` is set, any other key with a value of `extra`.
//             `ordered`: the keys come in the order of `keys`. `variants` (a tagged object, such
//             as a tool call {"name": ..., "parameters": ...}): keys[0]'s value is a kEnum, and
//             keys[1]'s value follows variants[i] where literal i was keys[0]'s value; needs
//             `ordered`.
//   kArray    '[' values of `items` (null: any) ']' with min_items <= count <= max_items
//   kString   a JSON string of min_length..max_length characters (an escape counts as one)
//   kNumber   a JSON number; kInteger: without fraction or exponent
//   kBoolean, kNull
//   kEnum     exactly one of `literals`, each the compact serialisation of a JSON value
//   kUnion    one of `alternatives`, which the compiler checks begin with distinct characters,
//             so the first byte of a value decides which one applies
// Whitespace between tokens of the JSON text is allowed, up to kMaxWhitespace bytes in a row.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace maas {

struct JsonNode {
  enum class Kind : uint8_t { kAny, kObject, kArray, kString, kNumber, kInteger, kBoolean, kNull, kEnum, kUnion };
  static constexpr int kMaxKeys = 64;      // properties of one object (bit masks)
  static constexpr int kMaxLiterals = 64;  // enum values

  Kind kind = Kind::kAny;
  // kObject: property names as they appear between the quotes (JSON-escaped), their schemas.
  std::vector<std::string> keys;
  std::vector<const JsonNode*> values;
  uint64_t required = 0;
  const JsonNode* extra = nullptr;
  bool ordered = false;
  std::vector<const JsonNode*> variants;
  // kArray
  const JsonNode* items = nullptr;
  int32_t min_items = 0;
  int32_t max_items = std::numeric_limits<int32_t>::max();
  // kString
  int32_t min_length = 0;
  int32_t max_length = std::numeric_limits<int32_t>::max();
  // kEnum
  std::vector<std::string> literals;
  // kUnion
  std::vector<const JsonNode*> alternatives;
};

struct JsonGrammar {
  std::vector<std::unique_ptr<JsonNode>> nodes;
  const JsonNode* root = nullptr;

  JsonNode* add(JsonNode::Kind kind) {
    nodes.push_back(std::make_unique<JsonNode>());
    nodes.back()->kind = kind;
    return nodes.back().get();
  }
};

// response_format {"type": "json_object"}: any JSON object.
std::shared_ptr<const JsonGrammar> json_object_grammar();

// Whether a value of `n` may begin with byte c (how the matcher tells kUnion alternatives apart;
// a union's alternatives are asked in turn, so the compiler keeps unions free of cycles).
bool json_value_may_start(const JsonNode* n, uint8_t c);

// Shared nodes for "anything": any value, an object with any keys, an array of anything.
const JsonNode* json_any_value();
const JsonNode* json_any_object();
const JsonNode* json_any_array();

}  // namespace maas
