// jinja_parser.cc — recursive-descent parser for the chat-template subset (see jinja_parser.h):
// the statement productions and the entry point; expressions are in jinja_parser_expr.cc.
#include "chat/jinja_parser.h"

#include "chat/jinja_parser_impl.h"

namespace maas::jinja {

namespace internal {

StatusOr<Block> Parser::parse_block(std::initializer_list<std::string_view> until, const char* closer) {
  Block out;
  while (!is_statement(until)) {
    if (!peek()) return error(std::string("missing ") + closer);
    ASSIGN_OR_RETURN(NodePtr n, parse_any());
    out.push_back(std::move(n));
  }
  return out;
}

StatusOr<NodePtr> Parser::parse_any() {
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  const Token* t = peek();
  if (!t) return error("unexpected end of template");
  switch (t->type) {
    case TokenType::kComment: ++pos_; return make(NodeKind::kNoop, t->offset);
    case TokenType::kText: {
      NodePtr n = make(NodeKind::kText, t->offset);
      n->name = t->value;
      ++pos_;
      return n;
    }
    case TokenType::kOpenStatement: return parse_statement();
    case TokenType::kOpenExpression: {
      NodePtr n = make(NodeKind::kOutput, t->offset);
      ++pos_;
      ASSIGN_OR_RETURN(NodePtr e, parse_expression());
      n->kids.push_back(std::move(e));
      RETURN_IF_ERROR(expect(TokenType::kCloseExpression, "'}}'"));
      return n;
    }
    default: return error("unexpected '" + t->value + "'");
  }
}

StatusOr<NodePtr> Parser::parse_statement() {
  uint32_t at = here();
  ++pos_;  // {%
  if (!is(TokenType::kIdentifier)) return error("expected a statement name");
  std::string name = peek()->value;
  ++pos_;
  if (name == "set") return parse_set(at);
  if (name == "if") {
    ASSIGN_OR_RETURN(NodePtr n, parse_if(at));
    RETURN_IF_ERROR(expect_end("endif"));
    return n;
  }
  if (name == "for") return parse_for(at);
  if (name == "macro") return parse_macro(at);
  if (name == "break" || name == "continue") {
    RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
    return make(name == "break" ? NodeKind::kBreak : NodeKind::kContinue, at);
  }
  return error_at("unsupported or unexpected statement '" + name + "'", at);
}

StatusOr<NodePtr> Parser::parse_set(uint32_t at) {
  NodePtr n = make(NodeKind::kSet, at);
  ASSIGN_OR_RETURN(NodePtr target, parse_sequence(false));
  bool ok = target->kind == NodeKind::kIdentifier || target->kind == NodeKind::kMember;
  if (target->kind == NodeKind::kTuple) {
    ok = true;
    for (const auto& k : target->kids) ok = ok && k->kind == NodeKind::kIdentifier;
  }
  if (!ok) return error_at("cannot assign to this expression", target->offset);
  n->kids.push_back(std::move(target));
  if (is(TokenType::kEquals)) {
    ++pos_;
    ASSIGN_OR_RETURN(NodePtr value, parse_sequence(false));
    n->kids.push_back(std::move(value));
    RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
    return n;
  }
  RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}' or '='"));
  ASSIGN_OR_RETURN(n->body, parse_block({"endset"}, "{% endset %}"));
  RETURN_IF_ERROR(expect_end("endset"));
  return n;
}

StatusOr<NodePtr> Parser::parse_if(uint32_t at) {
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  NodePtr n = make(NodeKind::kIf, at);
  ASSIGN_OR_RETURN(NodePtr test, parse_expression());
  n->kids.push_back(std::move(test));
  RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
  ASSIGN_OR_RETURN(n->body, parse_block({"elif", "else", "endif"}, "{% endif %}"));
  if (is_statement({"elif"})) {
    uint32_t elif_at = here();
    pos_ += 2;
    ASSIGN_OR_RETURN(NodePtr elif, parse_if(elif_at));
    n->alt.push_back(std::move(elif));
  } else if (is_statement({"else"})) {
    pos_ += 2;
    RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
    ASSIGN_OR_RETURN(n->alt, parse_block({"endif"}, "{% endif %}"));
  }
  return n;
}

StatusOr<NodePtr> Parser::parse_for(uint32_t at) {
  NodePtr n = make(NodeKind::kFor, at);
  ASSIGN_OR_RETURN(NodePtr target, parse_sequence(true));
  bool ok = target->kind == NodeKind::kIdentifier;
  if (target->kind == NodeKind::kTuple) {
    ok = true;
    for (const auto& k : target->kids) ok = ok && k->kind == NodeKind::kIdentifier;
  }
  if (!ok) return error_at("expected a name or names for the loop variable", target->offset);
  RETURN_IF_ERROR(expect_ident("in"));
  ASSIGN_OR_RETURN(NodePtr iterable, parse_expression());
  NodePtr filter;
  if (iterable->kind == NodeKind::kSelect) {  // for x in xs if cond
    filter = std::move(iterable->kids[1]);
    iterable = std::move(iterable->kids[0]);
  }
  n->kids.push_back(std::move(target));
  n->kids.push_back(std::move(iterable));
  n->kids.push_back(std::move(filter));
  RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
  ASSIGN_OR_RETURN(n->body, parse_block({"endfor", "else"}, "{% endfor %}"));
  if (is_statement({"else"})) {
    pos_ += 2;
    RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
    ASSIGN_OR_RETURN(n->alt, parse_block({"endfor"}, "{% endfor %}"));
  }
  RETURN_IF_ERROR(expect_end("endfor"));
  return n;
}

StatusOr<NodePtr> Parser::parse_macro(uint32_t at) {
  NodePtr n = make(NodeKind::kMacro, at);
  if (!is(TokenType::kIdentifier)) return error("expected a macro name");
  n->name = peek()->value;
  ++pos_;
  RETURN_IF_ERROR(expect(TokenType::kOpenParen, "'('"));
  while (!is(TokenType::kCloseParen)) {
    if (!is(TokenType::kIdentifier)) return error("expected a parameter name");
    std::string param = peek()->value;
    for (const auto& p : n->params) {
      if (p == param) return error("duplicate parameter '" + param + "'");
    }
    ++pos_;
    NodePtr def;
    if (is(TokenType::kEquals)) {
      ++pos_;
      ASSIGN_OR_RETURN(def, parse_expression());
    } else if (!n->kids.empty() && n->kids.back()) {
      return error("parameter without default follows parameter with default");
    }
    n->params.push_back(std::move(param));
    n->kids.push_back(std::move(def));
    if (is(TokenType::kComma)) ++pos_;
  }
  ++pos_;
  RETURN_IF_ERROR(expect(TokenType::kCloseStatement, "'%}'"));
  ASSIGN_OR_RETURN(n->body, parse_block({"endmacro"}, "{% endmacro %}"));
  RETURN_IF_ERROR(expect_end("endmacro"));
  return n;
}

}  // namespace internal

StatusOr<std::shared_ptr<const Program>> parse_program(std::string_view source) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  internal::Parser parser(source, std::move(tokens));
  auto program = std::make_shared<Program>();
  program->source = std::string(source);
  ASSIGN_OR_RETURN(program->body, parser.parse_all());
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace maas::jinja
