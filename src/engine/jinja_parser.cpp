#include "engine/jinja_parser.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

#include "engine/jinja_lexer.h"
#include "format/error.h"

namespace tandem::jinja {

namespace {

using K = Expr::Kind;

constexpr int kMaxExprDepth = 300;

ExprPtr make(K kind, int line, std::string name = {}) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  e->name = std::move(name);
  return e;
}

std::unique_ptr<Node> make_node(Node::Kind kind, int line) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->line = line;
  return n;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().kind != TokenKind::End) fail("unexpected '" + cur().value + "'");
    return body;
  }

 private:
  // Tokens.
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
  Token next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool is_op(std::string_view op) const { return cur().kind == TokenKind::Operator && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().kind == TokenKind::Name && cur().value == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    ++i_;
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    ++i_;
    return true;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("template syntax error at line " + std::to_string(cur().line) + ": " + what);
  }
  std::string describe() const {
    switch (cur().kind) {
      case TokenKind::End: return "end of template";
      case TokenKind::BlockEnd: return "'%}'";
      case TokenKind::VarEnd: return "'}}'";
      case TokenKind::String: return "a string";
      default: return "'" + cur().value + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe());
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::Name) fail("expected a name, got " + describe());
    return next().value;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) fail("expected '%}', got " + describe());
    ++i_;
  }

  // Statements.
  Body parse_body(std::initializer_list<std::string_view> end_tags);
  std::unique_ptr<Node> parse_statement();
  std::unique_ptr<Node> parse_if(int line);
  std::unique_ptr<Node> parse_for(int line);
  std::unique_ptr<Node> parse_set(int line);
  std::unique_ptr<Node> parse_macro(int line);
  std::unique_ptr<Node> parse_call_block(int line);
  std::unique_ptr<Node> parse_filter_block(int line);
  std::vector<MacroParam> parse_params();
  void end_tag(std::string_view name);

  // Expressions, loosest first.
  ExprPtr parse_tuple(bool with_cond = true);
  ExprPtr parse_expr(bool with_cond = true);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter = true);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_filter_expr(ExprPtr e);
  ExprPtr parse_filter(ExprPtr input);
  ExprPtr parse_test(ExprPtr input);
  ExprPtr parse_subscript(ExprPtr obj);
  ExprPtr parse_collection(K kind, std::string_view close);
  void parse_call_args(Expr& call);
  // Records a node's depth (chains such as a + b + c + ... or x|f|g|... grow the tree without
  // recursing in the parser) and bounds it, as DepthLimit bounds the parser's own recursion.
  ExprPtr deepen(ExprPtr e) const {
    int d = 0;
    for (const auto& a : e->args)
      if (a) d = std::max(d, a->depth);
    for (const auto& [k, v] : e->kwargs) d = std::max(d, v->depth);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth) fail("expression nested too deeply");
    return e;
  }
  ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, int line) {
    ExprPtr e = make(K::Binary, line, std::move(op));
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return deepen(std::move(e));
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;  // nesting of statements and sub-expressions, bounded (see DepthLimit)
};

// Bounds the parser's (and so the evaluator's) recursion, so that a template of nested brackets
// or blocks is an Error rather than a stack overflow. Real templates nest a few levels.
constexpr int kMaxNesting = 200;

class DepthLimit {
 public:
  DepthLimit(int& depth, int line) : depth_(depth) {
    if (++depth_ > kMaxNesting) {
      --depth_;
      throw Error("template syntax error at line " + std::to_string(line) + ": nested too deeply");
    }
  }
  ~DepthLimit() { --depth_; }
  DepthLimit(const DepthLimit&) = delete;
  DepthLimit& operator=(const DepthLimit&) = delete;

 private:
  int& depth_;
};

Body Parser::parse_body(std::initializer_list<std::string_view> end_tags) {
  Body body;
  while (true) {
    const Token& tok = cur();
    if (tok.kind == TokenKind::End) {
      if (end_tags.size() != 0) fail("unexpected end of template, expected '" + std::string(*end_tags.begin()) + "'");
      return body;
    }
    if (tok.kind == TokenKind::Text) {
      auto n = make_node(Node::Kind::Text, tok.line);
      n->text = next().value;
      body.push_back(std::move(n));
    } else if (tok.kind == TokenKind::VarBegin) {
      auto n = make_node(Node::Kind::Output, next().line);
      n->expr = parse_tuple();
      if (cur().kind != TokenKind::VarEnd) fail("expected '}}', got " + describe());
      ++i_;
      body.push_back(std::move(n));
    } else if (tok.kind == TokenKind::BlockBegin) {
      const Token& name = peek();
      for (std::string_view end : end_tags)
        if (name.kind == TokenKind::Name && name.value == end) {
          ++i_;  // leave the tag name for the caller
          return body;
        }
      ++i_;
      body.push_back(parse_statement());
    } else {
      fail("unexpected " + describe());
    }
  }
}

void Parser::end_tag(std::string_view name) {
  if (!skip_name(name)) fail("expected '" + std::string(name) + "', got " + describe());
  expect_block_end();
}

std::unique_ptr<Node> Parser::parse_statement() {
  const int line = cur().line;
  DepthLimit limit(depth_, line);
  if (cur().kind != TokenKind::Name) fail("expected a statement name, got " + describe());
  const std::string tag = next().value;
  if (tag == "if") return parse_if(line);
  if (tag == "for") return parse_for(line);
  if (tag == "set") return parse_set(line);
  if (tag == "macro") return parse_macro(line);
  if (tag == "call") return parse_call_block(line);
  if (tag == "filter") return parse_filter_block(line);
  if (tag == "break" || tag == "continue") {
    expect_block_end();
    return make_node(tag == "break" ? Node::Kind::Break : Node::Kind::Continue, line);
  }
  if (tag == "generation") {
    expect_block_end();
    auto n = make_node(Node::Kind::Scope, line);
    n->body = parse_body({"endgeneration"});
    end_tag("endgeneration");
    return n;
  }
  --i_;
  fail("unknown tag '" + tag + "'");
}

std::unique_ptr<Node> Parser::parse_if(int line) {
  auto n = make_node(Node::Kind::If, line);
  ExprPtr cond = parse_tuple();
  expect_block_end();
  while (true) {
    Body body = parse_body({"elif", "else", "endif"});
    n->branches.emplace_back(std::move(cond), std::move(body));
    if (skip_name("elif")) {
      cond = parse_tuple();
      expect_block_end();
      continue;
    }
    if (skip_name("else")) {
      expect_block_end();
      n->else_body = parse_body({"endif"});
    }
    end_tag("endif");
    return n;
  }
}

std::unique_ptr<Node> Parser::parse_for(int line) {
  auto n = make_node(Node::Kind::For, line);
  const bool paren = skip_op("(");
  do {
    n->targets.push_back(expect_name());
  } while (skip_op(","));
  if (paren) expect_op(")");
  if (!skip_name("in")) fail("expected 'in', got " + describe());
  n->expr = parse_tuple(false);
  if (skip_name("if")) n->cond = parse_expr();
  n->recursive = skip_name("recursive");
  expect_block_end();
  n->body = parse_body({"endfor", "else"});
  if (skip_name("else")) {
    expect_block_end();
    n->else_body = parse_body({"endfor"});
  }
  end_tag("endfor");
  return n;
}

std::unique_ptr<Node> Parser::parse_set(int line) {
  auto n = make_node(Node::Kind::Set, line);
  const std::string first = expect_name();
  if (skip_op(".")) {
    n->name = first;
    n->attr = expect_name();
  } else {
    n->targets.push_back(first);
    while (skip_op(",")) n->targets.push_back(expect_name());
  }
  if (skip_op("=")) {
    n->expr = parse_tuple();
    expect_block_end();
    return n;
  }
  if (!n->attr.empty() || n->targets.size() != 1) fail("expected '=', got " + describe());
  n->kind = Node::Kind::SetBlock;
  if (is_op("|")) n->filter = parse_filter_expr(nullptr);
  expect_block_end();
  n->body = parse_body({"endset"});
  end_tag("endset");
  return n;
}

std::vector<MacroParam> Parser::parse_params() {
  std::vector<MacroParam> params;
  expect_op("(");
  while (!is_op(")")) {
    if (!params.empty()) expect_op(",");
    if (is_op(")")) break;
    MacroParam p;
    p.name = expect_name();
    if (skip_op("=")) p.default_value = parse_expr();
    params.push_back(std::move(p));
  }
  expect_op(")");
  return params;
}

std::unique_ptr<Node> Parser::parse_macro(int line) {
  auto n = make_node(Node::Kind::Macro, line);
  n->name = expect_name();
  n->params = parse_params();
  expect_block_end();
  n->body = parse_body({"endmacro"});
  end_tag("endmacro");
  return n;
}

std::unique_ptr<Node> Parser::parse_call_block(int line) {
  auto n = make_node(Node::Kind::CallBlock, line);
  if (is_op("(")) n->params = parse_params();
  n->expr = parse_expr();
  if (n->expr->kind != K::Call) fail("expected a call");
  expect_block_end();
  n->body = parse_body({"endcall"});
  end_tag("endcall");
  return n;
}

std::unique_ptr<Node> Parser::parse_filter_block(int line) {
  auto n = make_node(Node::Kind::FilterBlock, line);
  n->filter = parse_filter(nullptr);
  while (is_op("|")) n->filter = parse_filter_expr(std::move(n->filter));
  expect_block_end();
  n->body = parse_body({"endfilter"});
  end_tag("endfilter");
  return n;
}

ExprPtr Parser::parse_tuple(bool with_cond) {
  const int line = cur().line;
  ExprPtr first = parse_expr(with_cond);
  if (!is_op(",")) return first;
  ExprPtr t = make(K::Tuple, line);
  t->args.push_back(std::move(first));
  while (skip_op(",")) {
    if (cur().kind == TokenKind::BlockEnd || cur().kind == TokenKind::VarEnd || is_op(")")) break;
    t->args.push_back(parse_expr(with_cond));
  }
  return t;
}

ExprPtr Parser::parse_expr(bool with_cond) {
  const int line = cur().line;
  ExprPtr e = parse_or();
  while (with_cond && skip_name("if")) {
    ExprPtr c = make(K::Cond, line);
    c->args.push_back(std::move(e));
    c->args.push_back(parse_or());
    c->args.push_back(skip_name("else") ? parse_expr() : nullptr);
    e = deepen(std::move(c));
  }
  return e;
}

ExprPtr Parser::parse_or() {
  ExprPtr e = parse_and();
  while (is_name("or")) {
    const int line = next().line;
    ExprPtr o = make(K::Or, line);
    o->args.push_back(std::move(e));
    o->args.push_back(parse_and());
    e = deepen(std::move(o));
  }
  return e;
}

ExprPtr Parser::parse_and() {
  ExprPtr e = parse_not();
  while (is_name("and")) {
    const int line = next().line;
    ExprPtr a = make(K::And, line);
    a->args.push_back(std::move(e));
    a->args.push_back(parse_not());
    e = deepen(std::move(a));
  }
  return e;
}

ExprPtr Parser::parse_not() {
  DepthLimit limit(depth_, cur().line);
  if (is_name("not")) {
    ExprPtr n = make(K::Unary, next().line, "not");
    n->args.push_back(parse_not());
    return n;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const int line = cur().line;
  ExprPtr first = parse_math1();
  ExprPtr cmp = make(K::Compare, line);
  while (true) {
    if (cur().kind == TokenKind::Operator &&
        (is_op("==") || is_op("!=") || is_op("<") || is_op("<=") || is_op(">") || is_op(">="))) {
      cmp->ops.push_back(next().value);
    } else if (skip_name("in")) {
      cmp->ops.push_back("in");
    } else if (is_name("not") && peek().kind == TokenKind::Name && peek().value == "in") {
      i_ += 2;
      cmp->ops.push_back("not in");
    } else {
      break;
    }
    cmp->args.push_back(parse_math1());
  }
  if (cmp->ops.empty()) return first;
  cmp->args.insert(cmp->args.begin(), std::move(first));
  return deepen(std::move(cmp));
}

ExprPtr Parser::parse_math1() {
  ExprPtr e = parse_concat();
  while (is_op("+") || is_op("-")) {
    const Token op = next();
    e = binary(op.value, std::move(e), parse_concat(), op.line);
  }
  return e;
}

ExprPtr Parser::parse_concat() {
  ExprPtr e = parse_math2();
  while (is_op("~")) {
    const Token op = next();
    e = binary("~", std::move(e), parse_math2(), op.line);
  }
  return e;
}

ExprPtr Parser::parse_math2() {
  ExprPtr e = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const Token op = next();
    e = binary(op.value, std::move(e), parse_pow(), op.line);
  }
  return e;
}

ExprPtr Parser::parse_pow() {
  ExprPtr e = parse_unary();
  while (is_op("**")) {
    const Token op = next();
    e = binary("**", std::move(e), parse_unary(), op.line);
  }
  return e;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  DepthLimit limit(depth_, cur().line);
  ExprPtr e;
  if (is_op("-") || is_op("+")) {
    const Token op = next();
    e = make(K::Unary, op.line, op.value);
    e->args.push_back(parse_unary(false));
  } else {
    e = parse_primary();
  }
  e = parse_postfix(std::move(e));
  return with_filter ? parse_filter_expr(std::move(e)) : std::move(e);
}

ExprPtr Parser::parse_primary() {
  const Token& tok = cur();
  const int line = tok.line;
  if (tok.kind == TokenKind::Name) {
    const std::string n = next().value;
    ExprPtr e = make(K::Literal, line);
    if (n == "true" || n == "True") e->value = Value(true);
    else if (n == "false" || n == "False") e->value = Value(false);
    else if (n == "none" || n == "None") e->value = Value::none();
    else e = make(K::Name, line, n);
    return e;
  }
  if (tok.kind == TokenKind::String) {
    std::string s;
    while (cur().kind == TokenKind::String) s += next().value;
    ExprPtr e = make(K::Literal, line);
    e->value = Value(std::move(s));
    return e;
  }
  if (tok.kind == TokenKind::Integer || tok.kind == TokenKind::Float) {
    ExprPtr e = make(K::Literal, line);
    const std::string text = next().value;
    if (tok.kind == TokenKind::Float) e->value = Value(std::strtod(text.c_str(), nullptr));
    else e->value = Value(int64_t(std::strtoll(text.c_str(), nullptr, 10)));
    return e;
  }
  if (skip_op("(")) {
    if (skip_op(")")) return make(K::Tuple, line);
    ExprPtr e = parse_tuple();
    if (is_op(")") && e->kind != K::Tuple && t_[i_ - 1].value == ",") {
      ExprPtr t = make(K::Tuple, line);
      t->args.push_back(std::move(e));
      e = std::move(t);
    }
    expect_op(")");
    return e;
  }
  if (skip_op("[")) return parse_collection(K::List, "]");
  if (skip_op("{")) return parse_collection(K::Dict, "}");
  fail("unexpected " + describe());
}

ExprPtr Parser::parse_collection(K kind, std::string_view close) {
  ExprPtr e = make(kind, t_[i_ - 1].line);
  while (!is_op(close)) {
    if (!e->args.empty()) expect_op(",");
    if (is_op(close)) break;
    e->args.push_back(parse_expr());
    if (kind == K::Dict) {
      expect_op(":");
      e->args.push_back(parse_expr());
    }
  }
  expect_op(close);
  return e;
}

ExprPtr Parser::parse_postfix(ExprPtr e) {
  while (true) {
    const int line = cur().line;
    if (skip_op(".")) {
      if (cur().kind == TokenKind::Integer) {
        ExprPtr item = make(K::Item, line);
        ExprPtr index = make(K::Literal, line);
        index->value = Value(int64_t(std::strtoll(next().value.c_str(), nullptr, 10)));
        item->args.push_back(std::move(e));
        item->args.push_back(std::move(index));
        e = deepen(std::move(item));
        continue;
      }
      ExprPtr a = make(K::Attr, line, expect_name());
      a->args.push_back(std::move(e));
      e = deepen(std::move(a));
    } else if (skip_op("[")) {
      e = parse_subscript(std::move(e));
    } else if (is_op("(")) {
      ExprPtr c = make(K::Call, line);
      c->args.push_back(std::move(e));
      parse_call_args(*c);
      e = deepen(std::move(c));
    } else {
      return e;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr obj) {
  const int line = cur().line;
  ExprPtr parts[3];
  bool slice = false;
  for (int k = 0; k < 3; ++k) {
    if (!is_op(":") && !is_op("]")) parts[k] = parse_expr();
    if (k < 2 && skip_op(":")) {
      slice = true;
      continue;
    }
    break;
  }
  expect_op("]");
  ExprPtr e = make(slice ? K::Slice : K::Item, line);
  e->args.push_back(std::move(obj));
  if (!slice) {
    if (!parts[0]) fail("expected a subscript");
    e->args.push_back(std::move(parts[0]));
    return deepen(std::move(e));
  }
  for (auto& p : parts) e->args.push_back(std::move(p));
  return deepen(std::move(e));
}

void Parser::parse_call_args(Expr& call) {
  expect_op("(");
  bool first = true;
  while (!is_op(")")) {
    if (!first) expect_op(",");
    first = false;
    if (is_op(")")) break;
    if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
    if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().value == "=") {
      std::string key = next().value;
      ++i_;
      call.kwargs.emplace_back(std::move(key), parse_expr());
    } else {
      if (!call.kwargs.empty()) fail("a positional argument follows a keyword argument");
      call.args.push_back(parse_expr());
    }
  }
  expect_op(")");
}

ExprPtr Parser::parse_filter_expr(ExprPtr e) {
  while (true) {
    if (skip_op("|")) e = parse_filter(std::move(e));
    else if (skip_name("is")) e = parse_test(std::move(e));
    else if (is_op("(")) {
      ExprPtr c = make(K::Call, cur().line);
      c->args.push_back(std::move(e));
      parse_call_args(*c);
      e = deepen(std::move(c));
    } else {
      return e;
    }
  }
}

ExprPtr Parser::parse_filter(ExprPtr input) {
  const int line = cur().line;
  std::string name = expect_name();
  while (skip_op(".")) name += "." + expect_name();
  ExprPtr f = make(K::Filter, line, std::move(name));
  f->args.push_back(std::move(input));
  if (is_op("(")) parse_call_args(*f);
  return deepen(std::move(f));
}

ExprPtr Parser::parse_test(ExprPtr input) {
  const int line = cur().line;
  const bool negated = skip_name("not");
  std::string name = expect_name();
  while (skip_op(".")) name += "." + expect_name();
  ExprPtr t = make(K::Test, line, std::move(name));
  t->negated = negated;
  t->args.push_back(std::move(input));
  const TokenKind k = cur().kind;
  if (is_op("(")) {
    parse_call_args(*t);
  } else if ((k == TokenKind::Name || k == TokenKind::String || k == TokenKind::Integer || k == TokenKind::Float ||
              is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    t->args.push_back(parse_postfix(parse_primary()));
  }
  return deepen(std::move(t));
}

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace tandem::jinja
