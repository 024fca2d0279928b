// The Jinja evaluator: runs a parsed template over a context, with jinja2's scoping (a for loop
// and a macro body have their own scope, an if does not; namespace() objects carry values out
// of loops) and the default Undefined of jinja2 (printing it or iterating it is fine, doing
// arithmetic with it or reading its attributes is an error).
#pragma once
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/jinja_ast.h"
#include "engine/jinja_value.h"

namespace tandem::jinja {

// Bounds on one render (with kMaxTextBytes, jinja_value.h), so that a hostile template is an
// Error rather than a hang: loop iterations plus macro calls.
constexpr int64_t kMaxSteps = 1'000'000;

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  int line = 0;

  // The argument at position i or named name (consumed, so that leftovers can be reported);
  // fallback if neither was given.
  Value take(size_t i, std::string_view name, Value fallback = Value());
  // Throws Error if an argument was not consumed by take().
  void expect_consumed(std::string_view what) const;

 private:
  std::vector<bool> used_;
};

// A variable scope; lookups walk out to the parent (and finally the template's globals).
struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;
  Value* find_local(std::string_view name);
  Value lookup(std::string_view name) const;
  void set(std::string_view name, Value v);
};

class Renderer {
 public:
  Renderer(Value context, std::time_t now);
  ~Renderer();
  std::string render(const Body& body);

  Value eval(const Expr& e);
  // Calls a function value (a macro, a global, a bound method); throws Error otherwise.
  Value call(const Value& fn, CallArgs& args);
  Value apply_filter(std::string_view name, const Value& input, CallArgs& args);
  bool apply_test(std::string_view name, const Value& input, CallArgs& args);
  // jinja2's getattr / getitem on a value (methods of strings, dicts and lists included).
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  std::time_t now() const { return now_; }

 private:
  enum class Flow { Normal, Break, Continue };
  Flow exec(const Body& body, std::string& out);
  Flow exec_node(const Node& n, std::string& out);
  Flow exec_if(const Node& n, std::string& out);
  void exec_for(const Node& n, std::string& out);
  void bind_targets(const std::vector<std::string>& targets, const Value& item);
  void exec_set(const Node& n);
  void exec_set_block(const Node& n);
  void exec_macro(const Node& n);
  void exec_call_block(const Node& n, std::string& out);
  void exec_filter_block(const Node& n, std::string& out);
  Value make_macro(const Node& n, const std::string& name);
  Value call_macro(const Node& n, const std::weak_ptr<Scope>& defining, CallArgs& args);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_filter_chain(const Expr& e, Value input);
  CallArgs eval_args(const Expr& e, size_t first);
  Value slice(const Value& obj, const Expr& e);

  std::shared_ptr<Scope> globals_, scope_;
  std::time_t now_;
  int depth_ = 0;      // macro call depth, bounded so that runaway recursion is an Error
  int64_t steps_ = 0;  // loop iterations and macro calls so far (kMaxSteps)
  void step();
};

// Iterating a value as Python's for does: list items, dict keys, string characters; undefined
// is empty. Throws Error for other values.
ValueList iterate(const Value& v);
// Python's len(); throws Error for values without one.
size_t value_length(const Value& v);

// Python's printf-style `fmt % args`: %s %r %d %i %f %e %g %x %o %% with flags, width and
// precision (up to 3 digits each). Throws Error for a bad format or a wrong number of arguments.
std::string percent_format(const std::string& fmt, const ValueList& args);

// Builtins (jinja_filters.cpp, jinja_predicates.cpp, jinja_methods.cpp): nullptr if unknown.
using FilterFn = Value (*)(Renderer&, const Value&, CallArgs&);
using TestFn = bool (*)(Renderer&, const Value&, CallArgs&);
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// A bound method of a string, dict or list, or undefined if the value has no such method.
Value find_method(const Value& obj, const std::string& name);
// The globals every template sees: range, namespace, dict, raise_exception, strftime_now.
void add_globals(Scope& globals);

}  // namespace tandem::jinja
