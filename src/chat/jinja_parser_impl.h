// jinja_parser_impl.h — internal: the Parser class shared by jinja_parser.cc (statements and
// the entry point) and jinja_parser_expr.cc (expressions). Not part of the public API.
// Every recursive production holds a DepthGuard, so nesting past kMaxParseDepth is an error.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace maas::jinja::internal {

using NodePtr = std::unique_ptr<Node>;
using Block = std::vector<NodePtr>;

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

  StatusOr<Block> parse_all() {
    Block out;
    while (pos_ < tokens_.size()) {
      ASSIGN_OR_RETURN(NodePtr n, parse_any());
      out.push_back(std::move(n));
    }
    return out;
  }

 private:
  // Counts nesting; every recursive production holds one while it runs.
  struct DepthGuard {
    explicit DepthGuard(int* d) : depth(d) { ++*depth; }
    ~DepthGuard() { --*depth; }
    int* depth;
  };

  const Token* peek(size_t k = 0) const { return pos_ + k < tokens_.size() ? &tokens_[pos_ + k] : nullptr; }
  bool is(TokenType t, size_t k = 0) const { return peek(k) && peek(k)->type == t; }
  bool is_ident(std::string_view name, size_t k = 0) const {
    return is(TokenType::kIdentifier, k) && peek(k)->value == name;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!is(TokenType::kOpenStatement) || !is(TokenType::kIdentifier, 1)) return false;
    for (auto n : names) {
      if (peek(1)->value == n) return true;
    }
    return false;
  }
  uint32_t here() const { return peek() ? peek()->offset : static_cast<uint32_t>(source_.size()); }
  Status error(const std::string& what) const { return error_at(what, here()); }
  Status error_at(const std::string& what, uint32_t offset) const {
    return invalid_argument("chat template syntax error at " + describe_position(source_, offset) + ": " + what);
  }
  Status expect(TokenType t, const char* what) {
    if (!is(t)) return error(std::string("expected ") + what);
    ++pos_;
    return Status::Ok();
  }
  Status expect_ident(const char* name) {
    if (!is_ident(name)) return error(std::string("expected '") + name + "'");
    ++pos_;
    return Status::Ok();
  }
  // Consumes "{% name %}".
  Status expect_end(const char* name) {
    RETURN_IF_ERROR(expect(TokenType::kOpenStatement, (std::string("{% ") + name + " %}").c_str()));
    RETURN_IF_ERROR(expect_ident(name));
    return expect(TokenType::kCloseStatement, "'%}'");
  }
  NodePtr make(NodeKind kind, uint32_t offset) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = offset;
    return n;
  }
  Status check_depth() const {
    return depth_ > kMaxParseDepth ? error("template nested too deeply") : Status::Ok();
  }

  StatusOr<Block> parse_block(std::initializer_list<std::string_view> until, const char* closer);
  StatusOr<NodePtr> parse_any();
  StatusOr<NodePtr> parse_statement();
  StatusOr<NodePtr> parse_set(uint32_t at);
  StatusOr<NodePtr> parse_if(uint32_t at);
  StatusOr<NodePtr> parse_for(uint32_t at);
  StatusOr<NodePtr> parse_macro(uint32_t at);
  StatusOr<NodePtr> parse_sequence(bool primary);
  StatusOr<NodePtr> parse_expression();
  // Binary operators by precedence level (the table in jinja_parser_expr.cc; 0 = `or`).
  StatusOr<NodePtr> parse_binary(size_t level);
  StatusOr<NodePtr> parse_binary_operand(size_t level);
  size_t binary_operator(size_t level, std::string* op) const;
  StatusOr<NodePtr> parse_not();
  StatusOr<NodePtr> parse_test();
  StatusOr<NodePtr> parse_filter();
  StatusOr<NodePtr> parse_unary();
  StatusOr<NodePtr> parse_call_member();
  StatusOr<NodePtr> parse_member(NodePtr object);
  StatusOr<NodePtr> parse_subscript(NodePtr object, uint32_t at);
  Status parse_args(Node* call);
  StatusOr<NodePtr> parse_primary();
  StatusOr<NodePtr> parse_number(const Token& t);

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace maas::jinja::internal
