// jinja_parser_expr.cc — the expression productions of the parser, lowest precedence first:
// conditional; the binary operators from one precedence table (or, and, [not], comparison,
// + - ~, * / // %, **); is, |, unary, call/member, primary.
#include <charconv>
#include <cstdlib>
#include <optional>

#include "chat/jinja_parser_impl.h"

namespace maas::jinja::internal {

StatusOr<NodePtr> Parser::parse_sequence(bool primary) {
  uint32_t at = here();
  ASSIGN_OR_RETURN(NodePtr first, primary ? parse_primary() : parse_expression());
  if (!is(TokenType::kComma)) return first;
  NodePtr tuple = make(NodeKind::kTuple, at);
  tuple->kids.push_back(std::move(first));
  while (is(TokenType::kComma)) {
    ++pos_;
    ASSIGN_OR_RETURN(NodePtr next, primary ? parse_primary() : parse_expression());
    tuple->kids.push_back(std::move(next));
  }
  return tuple;
}

StatusOr<NodePtr> Parser::parse_expression() {
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  uint32_t at = here();
  ASSIGN_OR_RETURN(NodePtr a, parse_binary(0));
  if (!is_ident("if")) return a;
  ++pos_;
  ASSIGN_OR_RETURN(NodePtr test, parse_binary(0));
  if (is_ident("else")) {
    ++pos_;
    ASSIGN_OR_RETURN(NodePtr b, parse_expression());
    NodePtr n = make(NodeKind::kTernary, at);
    n->kids.push_back(std::move(test));
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }
  NodePtr n = make(NodeKind::kSelect, at);
  n->kids.push_back(std::move(a));
  n->kids.push_back(std::move(test));
  return n;
}

// The binary operators, one row per precedence level, lowest first; all left-associative. A
// level's operands are the next level's expressions, except that `not` sits between `and` and
// the comparisons (parse_not) and tests / filters / unary operators below `**` (parse_test).
namespace {

struct BinaryLevel {
  NodeKind kind;                   // kOr, kAnd, or kBinary (named by the operator)
  const char* word;                // a keyword operator, or nullptr
  std::optional<TokenType> token;  // an operator token class, or none
};

constexpr BinaryLevel kBinaryLevels[] = {
    {NodeKind::kOr, "or", std::nullopt},
    {NodeKind::kAnd, "and", std::nullopt},
    {NodeKind::kBinary, "in", TokenType::kComparison},  // and "not in"
    {NodeKind::kBinary, nullptr, TokenType::kAdditive},
    {NodeKind::kBinary, nullptr, TokenType::kMultiplicative},
    {NodeKind::kBinary, nullptr, TokenType::kPower},
};
constexpr size_t kComparisonLevel = 2;
constexpr size_t kNotLevel = 2;  // `not x` is an operand of `and`: it binds above the comparisons
constexpr size_t kNumBinaryLevels = sizeof(kBinaryLevels) / sizeof(kBinaryLevels[0]);

}  // namespace

// The operator of `level` at the cursor: its text in *op and the tokens it spans (0: none).
size_t Parser::binary_operator(size_t level, std::string* op) const {
  const BinaryLevel& l = kBinaryLevels[level];
  if (level == kComparisonLevel && is_ident("not") && is_ident("in", 1)) {
    *op = "not in";
    return 2;
  }
  if ((l.word != nullptr && is_ident(l.word)) || (l.token && is(*l.token))) {
    *op = peek()->value;
    return 1;
  }
  return 0;
}

StatusOr<NodePtr> Parser::parse_binary_operand(size_t level) {
  if (level + 1 == kNotLevel) return parse_not();
  if (level + 1 == kNumBinaryLevels) return parse_test();
  return parse_binary(level + 1);
}

StatusOr<NodePtr> Parser::parse_binary(size_t level) {
  ASSIGN_OR_RETURN(NodePtr left, parse_binary_operand(level));
  std::string op;
  while (size_t n_tokens = binary_operator(level, &op)) {
    NodePtr node = make(kBinaryLevels[level].kind, here());
    pos_ += n_tokens;
    if (node->kind == NodeKind::kBinary) node->name = op;
    ASSIGN_OR_RETURN(NodePtr right, parse_binary_operand(level));
    node->kids.push_back(std::move(left));
    node->kids.push_back(std::move(right));
    left = std::move(node);
  }
  return left;
}

StatusOr<NodePtr> Parser::parse_not() {
  if (!is_ident("not")) return parse_binary(kNotLevel);
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  NodePtr n = make(NodeKind::kNot, here());
  ++pos_;
  ASSIGN_OR_RETURN(NodePtr arg, parse_not());
  n->kids.push_back(std::move(arg));
  return n;
}

StatusOr<NodePtr> Parser::parse_test() {
  ASSIGN_OR_RETURN(NodePtr operand, parse_filter());
  while (is_ident("is")) {
    NodePtr n = make(NodeKind::kTest, here());
    ++pos_;
    n->negate = is_ident("not");
    if (n->negate) ++pos_;
    if (!is(TokenType::kIdentifier)) return error("expected a test name after 'is'");
    n->name = peek()->value;
    ++pos_;
    n->kids.push_back(std::move(operand));
    n->params.push_back("");  // the operand's slot
    if (is(TokenType::kOpenParen)) RETURN_IF_ERROR(parse_args(n.get()));
    operand = std::move(n);
  }
  return operand;
}

StatusOr<NodePtr> Parser::parse_filter() {
  ASSIGN_OR_RETURN(NodePtr operand, parse_unary());
  while (is(TokenType::kPipe)) {
    ++pos_;
    if (!is(TokenType::kIdentifier)) return error("expected a filter name after '|'");
    NodePtr n = make(NodeKind::kFilter, here());
    n->name = peek()->value;
    ++pos_;
    n->kids.push_back(std::move(operand));
    n->params.push_back("");  // the operand's slot
    if (is(TokenType::kOpenParen)) RETURN_IF_ERROR(parse_args(n.get()));
    operand = std::move(n);
  }
  return operand;
}

StatusOr<NodePtr> Parser::parse_unary() {
  if (!(is(TokenType::kUnary) || is(TokenType::kAdditive)) || (peek()->value != "-" && peek()->value != "+")) {
    return parse_call_member();
  }
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  NodePtr n = make(NodeKind::kNegate, here());
  n->name = peek()->value;
  ++pos_;
  ASSIGN_OR_RETURN(NodePtr arg, parse_unary());
  n->kids.push_back(std::move(arg));
  return n;
}

StatusOr<NodePtr> Parser::parse_call_member() {
  ASSIGN_OR_RETURN(NodePtr primary, parse_primary());
  ASSIGN_OR_RETURN(NodePtr expr, parse_member(std::move(primary)));
  while (is(TokenType::kOpenParen)) {
    NodePtr call = make(NodeKind::kCall, expr->offset);
    call->kids.push_back(std::move(expr));
    call->params.push_back("");  // the callee's slot
    RETURN_IF_ERROR(parse_args(call.get()));
    ASSIGN_OR_RETURN(expr, parse_member(std::move(call)));
  }
  return expr;
}

StatusOr<NodePtr> Parser::parse_member(NodePtr object) {
  while (is(TokenType::kDot) || is(TokenType::kOpenBracket)) {
    uint32_t at = here();
    bool dot = is(TokenType::kDot);
    ++pos_;
    if (!dot) {
      ASSIGN_OR_RETURN(object, parse_subscript(std::move(object), at));
      continue;
    }
    bool integer = is(TokenType::kNumber) && peek()->value.find_first_not_of("0123456789") == std::string::npos;
    if (!is(TokenType::kIdentifier) && !integer) return error("expected a name after '.'");
    NodePtr n = make(NodeKind::kMember, at);
    n->name = peek()->value;
    n->negate = integer;  // `.0` indexes like [0]
    ++pos_;
    n->kids.push_back(std::move(object));
    object = std::move(n);
  }
  return object;
}

StatusOr<NodePtr> Parser::parse_subscript(NodePtr object, uint32_t at) {
  std::vector<NodePtr> parts;
  bool slice = false;
  while (!is(TokenType::kCloseBracket)) {
    if (!peek()) return error("missing ']'");
    if (is(TokenType::kColon)) {
      parts.push_back(nullptr);
      ++pos_;
      slice = true;
    } else {
      ASSIGN_OR_RETURN(NodePtr e, parse_expression());
      parts.push_back(std::move(e));
      if (is(TokenType::kColon)) {
        ++pos_;
        slice = true;
      }
    }
  }
  ++pos_;
  if (parts.empty()) return error_at("empty subscript", at);
  if (!slice && parts.size() > 1) return error_at("expected ']'", at);
  if (parts.size() > 3) return error_at("a slice takes at most 3 parts", at);
  NodePtr n = make(slice ? NodeKind::kSlice : NodeKind::kIndex, at);
  n->kids.push_back(std::move(object));
  for (auto& p : parts) n->kids.push_back(std::move(p));
  while (slice && n->kids.size() < 4) n->kids.push_back(nullptr);
  return n;
}

Status Parser::parse_args(Node* call) {
  RETURN_IF_ERROR(expect(TokenType::kOpenParen, "'('"));
  bool keyword_seen = false;
  while (!is(TokenType::kCloseParen)) {
    if (!peek()) return error("missing ')'");
    if (is(TokenType::kPower) || (is(TokenType::kMultiplicative) && peek()->value == "*")) {
      return error("argument unpacking is not supported");
    }
    std::string keyword;
    if (is(TokenType::kIdentifier) && is(TokenType::kEquals, 1)) {
      keyword = peek()->value;
      pos_ += 2;
      keyword_seen = true;
    } else if (keyword_seen) {
      return error("positional argument follows keyword argument");
    }
    ASSIGN_OR_RETURN(NodePtr arg, parse_expression());
    call->kids.push_back(std::move(arg));
    call->params.push_back(std::move(keyword));
    if (is(TokenType::kComma)) ++pos_;
  }
  ++pos_;
  return Status::Ok();
}

StatusOr<NodePtr> Parser::parse_number(const Token& t) {
  NodePtr n = make(NodeKind::kLiteral, t.offset);
  if (t.value.find('.') != std::string::npos) {
    n->value = Value::number(std::strtod(t.value.c_str(), nullptr));
    return n;
  }
  int64_t v = 0;
  const char* b = t.value.data() + (t.value[0] == '+' ? 1 : 0);
  auto res = std::from_chars(b, t.value.data() + t.value.size(), v);
  if (res.ec != std::errc() || res.ptr != t.value.data() + t.value.size()) {
    return error_at("integer literal out of range", t.offset);
  }
  n->value = Value::integer(v);
  return n;
}

StatusOr<NodePtr> Parser::parse_primary() {
  DepthGuard guard(&depth_);
  RETURN_IF_ERROR(check_depth());
  const Token* t = peek();
  if (!t) return error("unexpected end of template");
  ++pos_;
  switch (t->type) {
    case TokenType::kNumber: return parse_number(*t);
    case TokenType::kString: {
      NodePtr n = make(NodeKind::kLiteral, t->offset);
      std::string s = t->value;
      while (is(TokenType::kString)) s += tokens_[pos_++].value;
      n->value = Value::string(std::move(s));
      return n;
    }
    case TokenType::kIdentifier: {
      NodePtr n = make(NodeKind::kIdentifier, t->offset);
      n->name = t->value;
      return n;
    }
    case TokenType::kOpenParen: {
      ASSIGN_OR_RETURN(NodePtr e, parse_sequence(false));
      RETURN_IF_ERROR(expect(TokenType::kCloseParen, "')'"));
      return e;
    }
    case TokenType::kOpenBracket:
    case TokenType::kOpenBrace: {
      bool list = t->type == TokenType::kOpenBracket;
      TokenType close = list ? TokenType::kCloseBracket : TokenType::kCloseBrace;
      NodePtr n = make(list ? NodeKind::kList : NodeKind::kDict, t->offset);
      while (!is(close)) {
        if (!peek()) return error(list ? "missing ']'" : "missing '}'");
        ASSIGN_OR_RETURN(NodePtr item, parse_expression());
        n->kids.push_back(std::move(item));
        if (!list) {
          RETURN_IF_ERROR(expect(TokenType::kColon, "':' in a dict literal"));
          ASSIGN_OR_RETURN(NodePtr value, parse_expression());
          n->kids.push_back(std::move(value));
        }
        if (is(TokenType::kComma)) ++pos_;
      }
      ++pos_;
      return n;
    }
    default: return error_at("unexpected '" + t->value + "'", t->offset);
  }
}


}  // namespace maas::jinja::internal
