// response_format.cc — `response_format` (OpenAI / Azure) and `guided_json` (vLLM): a request's
// JSON Schema compiled into the JsonGrammar that constrains decoding (sampling/json_grammar.h).
//
//   {"type": "text"}                                  no constraint
//   {"type": "json_object"}                           any JSON object
//   {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}, "strict": ...}}
//   guided_json: {...} or "{...}" (vLLM)              the schema itself
//
// The schema subset (what the matcher can enforce; anything else is a 400 naming the keyword,
// never silently ignored): type (one or a list), properties, required, additionalProperties
// (absent means no other keys when properties are given, any keys otherwise — the strict reading
// of OpenAI's structured outputs), items, minItems, maxItems, minLength, maxLength, enum, const,
// anyOf / oneOf (alternatives must begin with different characters, e.g. a type and null),
// allOf of one schema, and local $ref ("#", "#/$defs/..", "#/definitions/..", recursion allowed).
// Annotations are ignored: title, description, default, examples, format (an annotation since
// JSON Schema 2019-09), $schema, $id, $comment, deprecated, readOnly, writeOnly.
#include <bitset>
#include <map>
#include <set>

#include "api/json_fields.h"
#include "api/request_fields.h"
#include "sampling/json_grammar.h"

namespace maas::api {
namespace {

using Kind = JsonNode::Kind;
constexpr int kMaxSchemaDepth = 32;  // (a body nests at most 64 JSON levels: json_body.cc)
constexpr size_t kMaxNodes = 4096;

const std::set<std::string>& annotations() {
  static const std::set<std::string> a = {"title", "description", "default", "examples", "format", "$schema", "$id",
                                          "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
  return a;
}

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const Json& root, std::string param) : root_(root), param_(std::move(param)) {}

  ApiError compile(std::shared_ptr<const JsonGrammar>* out) {
    auto g = std::make_shared<JsonGrammar>();
    const JsonNode* root = nullptr;
    RETURN_IF_API_ERROR(compile_into(g.get(), &root));
    g->root = root;
    *out = std::move(g);
    return ApiError{};
  }

  // The schema's nodes added to `g` (several schemas may share one grammar); *root is its root.
  ApiError compile_into(JsonGrammar* g, const JsonNode** root) {
    g_ = g;
    *root = node(root_, "", 0);
    if (!error_.ok()) return error_;
    for (const auto& n : g_->nodes) {
      if (n->kind == Kind::kUnion && !check_union(*n)) return error_;
    }
    return ApiError{};
  }

 private:
  const JsonNode* fail(const std::string& at, const std::string& what) {
    if (error_.ok()) {
      error_ = invalid_request("Invalid JSON schema in '" + param_ + "'" + (at.empty() ? "" : " at '" + at + "'") +
                                   ": " + what + ".",
                               param_);
    }
    return json_any_value();
  }

  JsonNode* add(Kind kind) {
    if (g_->nodes.size() >= kMaxNodes) {
      fail("", "the schema is too large");
      return nullptr;
    }
    return g_->add(kind);
  }

  const JsonNode* node(const Json& s, const std::string& at, int depth) {
    if (!error_.ok()) return json_any_value();
    if (depth > kMaxSchemaDepth) return fail(at, "nested too deeply");
    if (s.is_boolean()) return s.get<bool>() ? json_any_value() : fail(at, "the schema false accepts nothing");
    if (!s.is_object()) return fail(at, "a schema must be an object or a boolean");
    if (const Json* ref = find_field(s, "$ref")) return reference(*ref, s, at, depth);
    JsonNode* n = add(Kind::kAny);
    if (!n) return json_any_value();
    fill(n, s, at, depth);
    return n;
  }

  const JsonNode* reference(const Json& ref, const Json& s, const std::string& at, int depth) {
    for (const auto& [k, v] : s.items()) {
      if (k != "$ref" && !annotations().count(k)) return fail(at, "keywords beside '$ref' are not supported ('" + k + "')");
    }
    if (!ref.is_string()) return fail(at, "'$ref' must be a string");
    const std::string target = ref.get<std::string>();
    if (auto it = refs_.find(target); it != refs_.end()) return it->second;
    if (target.empty() || target[0] != '#') return fail(at, "only local '$ref' (\"#...\") is supported");
    const Json* resolved = &root_;
    if (target.size() > 1) {
      Json::json_pointer pointer;
      try {
        pointer = Json::json_pointer(target.substr(1));
      } catch (const std::exception&) {
        return fail(at, "'$ref' " + target + " is not a JSON pointer");
      }
      if (!root_.contains(pointer)) return fail(at, "'$ref' " + target + " points at nothing");
      resolved = &root_.at(pointer);
    }
    if (resolved->is_object() && resolved->contains("$ref")) return fail(at, "'$ref' to a '$ref' is not supported");
    if (!resolved->is_object()) return node(*resolved, target, depth + 1);
    JsonNode* n = add(Kind::kAny);  // registered before it is filled: a recursive schema finds it
    if (!n) return json_any_value();
    refs_[target] = n;
    fill(n, *resolved, target, depth + 1);
    return n;
  }

  static std::string key_text(const std::string& key) {
    const std::string quoted = Json(key).dump();
    return quoted.substr(1, quoted.size() - 2);
  }

  bool nonneg_int(const Json& s, const char* key, const std::string& at, int32_t* out) {
    const Json* v = find_field(s, key);
    if (!v) return true;
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > (int64_t{1} << 30)) {
      fail(at, std::string("'") + key + "' must be a non-negative integer");
      return false;
    }
    *out = static_cast<int32_t>(v->get<int64_t>());
    return true;
  }

  void fill(JsonNode* n, const Json& s, const std::string& at, int depth) {
    for (const auto& [k, v] : s.items()) {
      static const std::set<std::string> known = {"type", "properties", "required", "additionalProperties", "items",
                                                  "minItems", "maxItems", "minLength", "maxLength", "enum", "const",
                                                  "anyOf", "oneOf", "allOf"};
      if (!known.count(k) && !annotations().count(k)) {
        fail(at, "the keyword '" + k + "' is not supported");
        return;
      }
    }
    if (const Json* e = find_field(s, "enum")) return literals(n, *e, at);
    if (const Json* c = find_field(s, "const")) return literals(n, Json::array({*c}), at);
    for (const char* key : {"anyOf", "oneOf"}) {
      if (const Json* alts = find_field(s, key)) return alternatives(n, s, *alts, key, at, depth);
    }
    if (const Json* all = find_field(s, "allOf")) {
      if (!all->is_array() || all->size() != 1 || s.size() != 1 + count_annotations(s)) {
        fail(at, "'allOf' is supported with exactly one schema and nothing beside it");
        return;
      }
      const JsonNode* only = node((*all)[0], at + "/allOf/0", depth + 1);
      *n = *only;
      return;
    }
    const Json* type = find_field(s, "type");
    if (type && type->is_array()) {
      if (type->empty()) {
        fail(at, "'type' must not be an empty list");
        return;
      }
      n->kind = Kind::kUnion;
      for (size_t i = 0; i < type->size(); ++i) {
        if (!(*type)[i].is_string()) {
          fail(at, "'type' entries must be strings");
          return;
        }
        JsonNode* alt = add(Kind::kAny);
        if (!alt) return;
        typed(alt, s, (*type)[i].get<std::string>(), at, depth);
        n->alternatives.push_back(alt);
      }
      return;
    }
    if (type && !type->is_string()) {
      fail(at, "'type' must be a string or a list of strings");
      return;
    }
    std::string t = type ? type->get<std::string>() : "";
    if (t.empty() && (s.contains("properties") || s.contains("required") || s.contains("additionalProperties"))) t = "object";
    if (t.empty() && (s.contains("items") || s.contains("minItems") || s.contains("maxItems"))) t = "array";
    if (t.empty() && (s.contains("minLength") || s.contains("maxLength"))) t = "string";
    if (!t.empty()) typed(n, s, t, at, depth);
  }

  static size_t count_annotations(const Json& s) {
    size_t n = 0;
    for (const auto& [k, v] : s.items()) n += annotations().count(k);
    return n;
  }

  void typed(JsonNode* n, const Json& s, const std::string& t, const std::string& at, int depth) {
    if (t == "object") {
      n->kind = Kind::kObject;
      object(n, s, at, depth);
    } else if (t == "array") {
      n->kind = Kind::kArray;
      if (const Json* items = find_field(s, "items")) {
        if (items->is_array()) {
          fail(at, "'items' as a list (tuples) is not supported");
          return;
        }
        n->items = node(*items, at + "/items", depth + 1);
      }
      if (!nonneg_int(s, "minItems", at, &n->min_items) || !nonneg_int(s, "maxItems", at, &n->max_items)) return;
      if (n->min_items > n->max_items) fail(at, "'minItems' is above 'maxItems'");
    } else if (t == "string") {
      n->kind = Kind::kString;
      if (!nonneg_int(s, "minLength", at, &n->min_length) || !nonneg_int(s, "maxLength", at, &n->max_length)) return;
      if (n->min_length > n->max_length) fail(at, "'minLength' is above 'maxLength'");
    } else if (t == "number") {
      n->kind = Kind::kNumber;
    } else if (t == "integer") {
      n->kind = Kind::kInteger;
    } else if (t == "boolean") {
      n->kind = Kind::kBoolean;
    } else if (t == "null") {
      n->kind = Kind::kNull;
    } else {
      fail(at, "unknown type '" + t + "'");
    }
  }

  void object(JsonNode* n, const Json& s, const std::string& at, int depth) {
    const Json* props = find_field(s, "properties");
    if (props && !props->is_object()) {
      fail(at, "'properties' must be an object");
      return;
    }
    if (props && props->size() > JsonNode::kMaxKeys) {
      fail(at, "more than " + std::to_string(JsonNode::kMaxKeys) + " properties");
      return;
    }
    if (props) {
      for (const auto& [k, v] : props->items()) {
        n->keys.push_back(key_text(k));
        n->values.push_back(node(v, at + "/properties/" + k, depth + 1));
      }
    }
    const Json* extra = find_field(s, "additionalProperties");
    if (extra) {
      if (extra->is_boolean()) {
        n->extra = extra->get<bool>() ? json_any_value() : nullptr;
      } else {
        n->extra = node(*extra, at + "/additionalProperties", depth + 1);
      }
    } else if (!props || props->empty()) {
      n->extra = json_any_value();
    }
    if (const Json* req = find_field(s, "required")) {
      if (!req->is_array()) {
        fail(at, "'required' must be a list of property names");
        return;
      }
      for (const Json& r : *req) {
        if (!r.is_string()) {
          fail(at, "'required' must be a list of property names");
          return;
        }
        const std::string k = key_text(r.get<std::string>());
        auto it = std::find(n->keys.begin(), n->keys.end(), k);
        if (it == n->keys.end()) {
          fail(at, "required property '" + r.get<std::string>() + "' is not among 'properties'");
          return;
        }
        n->required |= uint64_t{1} << (it - n->keys.begin());
      }
    }
  }

  void literals(JsonNode* n, const Json& values, const std::string& at) {
    if (!values.is_array() || values.empty()) {
      fail(at, "'enum' must be a non-empty list");
      return;
    }
    if (values.size() > JsonNode::kMaxLiterals) {
      fail(at, "'enum' has more than " + std::to_string(JsonNode::kMaxLiterals) + " values");
      return;
    }
    n->kind = Kind::kEnum;
    for (const Json& v : values) n->literals.push_back(v.dump(-1, ' ', false, Json::error_handler_t::replace));
  }

  void alternatives(JsonNode* n, const Json& s, const Json& alts, const char* key, const std::string& at, int depth) {
    if (!alts.is_array() || alts.empty()) {
      fail(at, std::string("'") + key + "' must be a non-empty list of schemas");
      return;
    }
    for (const auto& [k, v] : s.items()) {
      if (k != key && !annotations().count(k)) {
        fail(at, std::string("keywords beside '") + key + "' are not supported ('" + k + "')");
        return;
      }
    }
    n->kind = Kind::kUnion;
    for (size_t i = 0; i < alts.size(); ++i) {
      n->alternatives.push_back(node(alts[i], at + "/" + key + "/" + std::to_string(i), depth + 1));
    }
  }

  // Bytes a value of n may begin with (memoized per node). For a union, also checks that its
  // alternatives begin differently and that it is not (through other unions) one of its own
  // alternatives: then the matcher's choice by first byte is unique and its recursion bounded.
  bool first_bytes(const JsonNode* n, std::bitset<256>* out) {
    if (auto it = first_.find(n); it != first_.end()) {
      *out = it->second;
      return true;
    }
    std::bitset<256> b;
    if (n->kind != Kind::kUnion) {
      for (int c = 0; c < 256; ++c) b.set(static_cast<size_t>(c), json_value_may_start(n, static_cast<uint8_t>(c)));
    } else {
      if (!visiting_.insert(n).second) {
        fail("", "a schema must not be one of its own 'anyOf' / 'oneOf' alternatives");
        return false;
      }
      for (const JsonNode* a : n->alternatives) {
        std::bitset<256> f;
        if (!first_bytes(a, &f)) return false;
        if ((b & f).any()) {
          fail("", "'anyOf' / 'oneOf' / a list of types must have alternatives that begin differently (such as "
                   "an object and null); two of them may begin alike");
          return false;
        }
        b |= f;
      }
      visiting_.erase(n);
    }
    first_[n] = b;
    *out = b;
    return true;
  }

  bool check_union(const JsonNode& n) {
    std::bitset<256> ignored;
    return first_bytes(&n, &ignored);
  }

  const Json& root_;
  std::string param_;
  JsonGrammar* g_ = nullptr;
  std::map<std::string, JsonNode*> refs_;
  std::map<const JsonNode*, std::bitset<256>> first_;
  std::set<const JsonNode*> visiting_;
  ApiError error_;
};

ApiError compile_schema(const Json& schema, const std::string& param, EngineRequest* r) {
  std::shared_ptr<const JsonGrammar> g;
  RETURN_IF_API_ERROR(SchemaCompiler(schema, param).compile(&g));
  r->json_grammar = std::move(g);
  return ApiError{};
}

}  // namespace

ApiError tool_call_grammar(const std::vector<ToolDefinition>& tools, std::shared_ptr<const JsonGrammar>* out) {
  if (tools.empty() || tools.size() > JsonNode::kMaxLiterals) {
    return invalid_request("A forced tool call can choose among 1 to " + std::to_string(JsonNode::kMaxLiterals) +
                               " tools.",
                           "tool_choice");
  }
  auto g = std::make_shared<JsonGrammar>();
  JsonNode* call = g->add(Kind::kObject);
  JsonNode* names = g->add(Kind::kEnum);
  for (const ToolDefinition& t : tools) {
    names->literals.push_back(Json(t.name).dump());
    const JsonNode* params = json_any_object();
    if (t.parameters) {
      RETURN_IF_API_ERROR(SchemaCompiler(*t.parameters, t.param + ".function.parameters").compile_into(g.get(), &params));
    }
    call->variants.push_back(params);
  }
  call->keys = {"name", "parameters"};
  call->values = {names, json_any_object()};
  call->ordered = true;
  call->required = 3;
  g->root = call;
  *out = std::move(g);
  return ApiError{};
}

ApiError parse_response_format(const Json& body, EngineRequest* r) {
  const Json* rf = find_field(body, "response_format");
  const Json* guided = find_field(body, "guided_json");
  if (guided && !guided->is_null()) {
    if (rf && !rf->is_null()) return invalid_request("Send 'response_format' or 'guided_json', not both.", "guided_json");
    if (guided->is_string()) {
      const Json parsed = Json::parse(guided->get<std::string>(), nullptr, false);
      if (parsed.is_discarded()) return invalid_request("'guided_json' is not valid JSON.", "guided_json");
      return compile_schema(parsed, "guided_json", r);
    }
    return compile_schema(*guided, "guided_json", r);
  }
  if (!rf || rf->is_null()) return ApiError{};
  if (!rf->is_object()) return type_error("response_format", "an object", *rf);
  const Json* type = find_field(*rf, "type");
  if (!type || !type->is_string()) {
    return invalid_request("'response_format.type' must be \"text\", \"json_object\" or \"json_schema\".",
                           "response_format.type");
  }
  const std::string t = type->get<std::string>();
  if (t == "text") return ApiError{};
  if (t == "json_object") {
    r->json_grammar = json_object_grammar();
    return ApiError{};
  }
  if (t != "json_schema") {
    return invalid_request("'response_format.type' must be \"text\", \"json_object\" or \"json_schema\".",
                           "response_format.type");
  }
  const Json* js = find_field(*rf, "json_schema");
  if (!js || !js->is_object()) {
    return invalid_request("'response_format.json_schema' must be an object with a 'schema'.",
                           "response_format.json_schema");
  }
  const Json* schema = find_field(*js, "schema");
  if (!schema) return invalid_request("'response_format.json_schema.schema' is missing.", "response_format.json_schema.schema");
  return compile_schema(*schema, "response_format.json_schema.schema", r);
}

}  // namespace maas::api
