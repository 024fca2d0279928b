// Expressions: names, literals, operators, attribute and item access, slices, calls.
#include <cmath>

#include "engine/jinja_eval.h"
#include "engine/jinja_text.h"

namespace tandem::jinja {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
}

int64_t add_int(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail_int_overflow();
  return r;
}

int64_t sub_int(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail_int_overflow();
  return r;
}

int64_t mul_int(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail_int_overflow();
  return r;
}

// base ** exp for exp >= 0, by squaring.
int64_t pow_int(int64_t base, int64_t exp) {
  if (base == 0 || base == 1) return exp == 0 ? 1 : base;
  if (base == -1) return exp % 2 == 0 ? 1 : -1;
  int64_t r = 1;
  while (exp > 0) {
    if (exp & 1) r = mul_int(r, base);
    exp >>= 1;
    if (exp > 0) base = mul_int(base, base);
  }
  return r;
}

int64_t floor_div(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) fail_int_overflow();
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Value repeat(const Value& seq, int64_t n) {
  const size_t unit = seq.is_string() ? seq.as_string().size() : seq.items().size() * sizeof(Value);
  if (n > 0 && unit > 0) check_size(unit > kMaxTextBytes ? unit : unit * size_t(std::min<int64_t>(n, int64_t(kMaxTextBytes) + 1)));
  if (seq.is_string()) {
    std::string s;
    for (int64_t i = 0; i < n; ++i) s += seq.as_string();
    return Value(std::move(s));
  }
  ValueList items;
  for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq.items().begin(), seq.items().end());
  return Value::list(std::move(items));
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) a.fail_undefined();
  if (b.is_undefined()) b.fail_undefined();
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_size(a.as_string().size() + b.as_string().size());
      if (!a.is_markup() && !b.is_markup()) return Value(a.as_string() + b.as_string());
      auto safe = [](const Value& v) { return v.is_markup() ? v.as_string() : html_escape(v.as_string()); };
      return Value::markup(safe(a) + safe(b));
    }
    if (a.is_list() && b.is_list()) {
      check_size((a.items().size() + b.items().size()) * sizeof(Value));
      ValueList items = a.items();
      items.insert(items.end(), b.items().begin(), b.items().end());
      return Value::list(std::move(items));
    }
  }
  if (op == "%" && a.is_string()) {
    const bool many = b.is_list() && b.list_data().is_tuple;
    return Value(percent_format(a.as_string(), many ? b.items() : ValueList{b}));
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
  }
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  const bool ints = !a.is_float() && !b.is_float();
  const int64_t x = a.as_int(), y = b.as_int();
  const double dx = a.as_double(), dy = b.as_double();
  if (op == "+") return ints ? Value(add_int(x, y)) : Value(dx + dy);
  if (op == "-") return ints ? Value(sub_int(x, y)) : Value(dx - dy);
  if (op == "*") return ints ? Value(mul_int(x, y)) : Value(dx * dy);
  if (op == "/") {
    if (dy == 0) fail("division by zero");
    return Value(dx / dy);
  }
  if (op == "//" || op == "%") {
    if (ints ? y == 0 : dy == 0) fail(op == "%" ? "modulo by zero" : "integer division or modulo by zero");
    if (op == "//") return ints ? Value(floor_div(x, y)) : Value(std::floor(dx / dy));
    if (ints) {
      if (y == -1) return Value(0);
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value(m);
    }
    double m = std::fmod(dx, dy);
    if (m != 0 && ((m < 0) != (dy < 0))) m += dy;
    return Value(m);
  }
  if (op == "**") {
    if (ints && y >= 0) return Value(pow_int(x, y));
    return Value(std::pow(dx, dy));
  }
  unsupported(op, a, b);
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string()) fail("'in <string>' requires string as left operand, not " + item.type_name());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict()) return container.dict_data().find(item) != nullptr;
  for (const Value& v : iterate(container))
    if (values_equal(v, item)) return true;
  return false;
}

// Python's slice indices for a sequence of length n.
void slice_bounds(int64_t n, const Value& start, const Value& stop, const Value& step, std::vector<int64_t>& out) {
  const int64_t st = step.is_none() || step.is_undefined() ? 1 : step.as_int();
  if (st == 0) fail("slice step cannot be zero");
  auto norm = [&](const Value& v, int64_t dflt, int64_t lo, int64_t hi) {
    if (v.is_none() || v.is_undefined()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) i += n;
    return std::clamp(i, lo, hi);
  };
  if (st > 0) {
    const int64_t b = norm(start, 0, 0, n), e = norm(stop, n, 0, n);
    for (int64_t i = b; i < e; i += st) out.push_back(i);
  } else {
    const int64_t b = norm(start, n - 1, -1, n - 1), e = norm(stop, -1, -1, n - 1);
    for (int64_t i = b; i > e; i += st) out.push_back(i);
  }
}

}  // namespace

Value Renderer::eval(const Expr& e) {
  using K = Expr::Kind;
  switch (e.kind) {
    case K::Literal: return e.value;
    case K::Name: return scope_->lookup(e.name);
    case K::List:
    case K::Tuple: {
      ValueList items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::list(std::move(items), e.kind == K::Tuple);
    }
    case K::Dict: {
      Value d = Value::dict();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) d.dict_data().set(eval(*e.args[i]), eval(*e.args[i + 1]));
      return d;
    }
    case K::Attr: return get_attr(eval(*e.args[0]), e.name);
    case K::Item: {
      const Value obj = eval(*e.args[0]);
      return get_item(obj, eval(*e.args[1]));
    }
    case K::Slice: return slice(eval(*e.args[0]), e);
    case K::Call: return eval_call(e);
    case K::Filter:
    case K::Test: return eval_filter_chain(e, Value());
    case K::Unary: {
      const Value v = eval(*e.args[0]);
      if (e.name == "not") return Value(!v.truthy());
      if (v.is_undefined()) v.fail_undefined();
      if (!v.is_number()) fail("bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
      if (e.name == "+") return v.is_float() ? v : Value(v.as_int());
      return v.is_float() ? Value(-v.as_double()) : Value(sub_int(0, v.as_int()));
    }
    case K::Binary: return eval_binary(e);
    case K::Compare: return eval_compare(e);
    case K::And: {
      Value a = eval(*e.args[0]);
      return a.truthy() ? eval(*e.args[1]) : a;
    }
    case K::Or: {
      Value a = eval(*e.args[0]);
      return a.truthy() ? a : eval(*e.args[1]);
    }
    case K::Cond:
      if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
      return e.args[2] ? eval(*e.args[2]) : Value::undefined();
  }
  return Value();
}

Value Renderer::eval_binary(const Expr& e) {
  const Value a = eval(*e.args[0]);
  const Value b = eval(*e.args[1]);
  if (e.name == "~") {
    std::string s = a.str();
    const std::string t = b.str();
    check_size(s.size() + t.size());
    return Value(s + t);
  }
  return arithmetic(e.name, a, b);
}

// a < b < c is a < b and b < c, each operand evaluated once, stopping at the first false.
Value Renderer::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1]);
    const std::string& op = e.ops[i];
    bool ok;
    if (op == "==") ok = values_equal(left, right);
    else if (op == "!=") ok = !values_equal(left, right);
    else if (op == "<") ok = value_less(left, right);
    else if (op == ">") ok = value_less(right, left);
    else if (op == "<=") ok = !value_less(right, left);
    else if (op == ">=") ok = !value_less(left, right);
    else if (op == "in") ok = contains(right, left);
    else ok = !contains(right, left);
    if (!ok) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Renderer::eval_call(const Expr& e) {
  const Value fn = eval(*e.args[0]);
  CallArgs args = eval_args(e, 1);
  return call(fn, args);
}

Value Renderer::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) obj.fail_undefined();
  if (obj.is_dict()) {
    if (!obj.dict_data().is_namespace) {
      Value m = find_method(obj, name);
      if (!m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict_data().find(Value(name))) return *v;
    return Value::undefined(name);
  }
  Value m = find_method(obj, name);
  return m.is_undefined() ? Value::undefined(name) : m;
}

Value Renderer::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) obj.fail_undefined();
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_data().find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    // jinja2's getitem: a value Python cannot index gives undefined, not an error.
    if (obj.is_list() && !obj.list_data().iter_type.empty()) return Value::undefined("[" + key.str() + "]");
    int64_t i = key.as_int();
    if (obj.is_list()) {
      const int64_t n = int64_t(obj.items().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.items()[size_t(i)];
    } else {
      const auto chars = utf8_chars(obj.as_string());
      const int64_t n = int64_t(chars.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return Value(chars[size_t(i)]);
    }
    return Value::undefined("[" + std::to_string(key.as_int()) + "]");
  }
  if (key.is_string() && !obj.is_dict()) return get_attr(obj, key.as_string());
  if (key.is_string()) {
    Value m = obj.dict_data().is_namespace ? Value() : find_method(obj, key.as_string());
    if (!m.is_undefined()) return m;
  }
  return Value::undefined(key.str());
}

Value Renderer::slice(const Value& obj, const Expr& e) {
  Value parts[3];
  for (int k = 0; k < 3; ++k) parts[k] = e.args[size_t(k) + 1] ? eval(*e.args[size_t(k) + 1]) : Value::none();
  for (const Value& p : parts)
    if (!p.is_none() && !p.is_int() && !p.is_bool()) fail("slice indices must be integers or None");
  if (obj.is_undefined()) obj.fail_undefined();
  std::vector<int64_t> idx;
  if (obj.is_string()) {
    const auto chars = utf8_chars(obj.as_string());
    slice_bounds(int64_t(chars.size()), parts[0], parts[1], parts[2], idx);
    std::string s;
    for (int64_t i : idx) s += chars[size_t(i)];
    return Value(std::move(s));
  }
  // jinja2 compiles a slice to Python's own obj[a:b:c]: only lists and strings take one.
  if (!obj.is_list() || !obj.list_data().iter_type.empty()) fail("'" + obj.type_name() + "' object is not subscriptable");
  slice_bounds(int64_t(obj.items().size()), parts[0], parts[1], parts[2], idx);
  ValueList items;
  for (int64_t i : idx) items.push_back(obj.items()[size_t(i)]);
  return Value::list(std::move(items), obj.list_data().is_tuple);
}

}  // namespace tandem::jinja
