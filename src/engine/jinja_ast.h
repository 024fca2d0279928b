// The syntax tree of a parsed Jinja template: expressions and statements, each with its line.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/jinja_value.h"

namespace tandem::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,    // value
    Name,       // name
    List,       // args: the items
    Tuple,      // args: the items
    Dict,       // args: key, value, key, value, ...
    Attr,       // args[0].name
    Item,       // args[0][args[1]]
    Slice,      // args[0][args[1]:args[2]:args[3]] (null parts are omitted)
    Call,       // args[0](args[1:], kwargs)
    Filter,     // args[0] | name(args[1:], kwargs); args[0] is null inside a filter block
    Test,       // args[0] is [not] name(args[1:], kwargs)
    Unary,      // name is "-", "+" or "not"
    Binary,     // args[0] name args[1]; name: + - * / // % ** ~
    Compare,    // args[0] ops[0] args[1] ops[1] args[2] ...: Python's chained comparison; ops:
                // == != < <= > >= in "not in"
    And,
    Or,
    Cond,       // args[0] if args[1] else args[2] (args[2] may be null)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;
  bool negated = false;  // `is not`
  std::vector<std::string> ops;  // Compare
  int depth = 1;                 // of the tree under this node (bounded by the parser)
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Node {
  enum class Kind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches (cond, body)..., else_body
    For,          // targets in expr [if cond]: body [else: else_body]
    Set,          // targets = expr, or attr_of.attr = expr
    SetBlock,     // targets[0] = rendered body, through filter (may be null)
    Macro,        // name(params): body
    CallBlock,    // expr (a call) with caller(params): body
    FilterBlock,  // filter (a Filter chain on null): body
    Break,
    Continue,
    Scope,        // body rendered in place ({% generation %})
  };
  Kind kind;
  int line = 0;
  std::string text;
  std::string name;     // Macro name; Set: the namespace variable of `ns.attr = ...`
  std::string attr;     // Set: the attribute of `ns.attr = ...`
  std::vector<std::string> targets;
  ExprPtr expr, cond, filter;
  std::vector<MacroParam> params;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  bool recursive = false;
};

}  // namespace tandem::jinja
