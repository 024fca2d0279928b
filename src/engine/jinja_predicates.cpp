// jinja2's tests (`value is name`), as in jinja2/tests.py.
#include <map>

#include "engine/jinja_eval.h"
#include "engine/jinja_text.h"

namespace tandem::jinja {

namespace {

using Args = CallArgs;

bool t_defined(Renderer&, const Value& v, Args&) { return !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, Args&) { return v.is_undefined(); }
bool t_none(Renderer&, const Value& v, Args&) { return v.is_none(); }
bool t_string(Renderer&, const Value& v, Args&) { return v.is_string(); }
bool t_number(Renderer&, const Value& v, Args&) { return v.is_number(); }
bool t_integer(Renderer&, const Value& v, Args&) { return v.is_int(); }
bool t_float(Renderer&, const Value& v, Args&) { return v.is_float(); }
bool t_boolean(Renderer&, const Value& v, Args&) { return v.is_bool(); }
bool t_true(Renderer&, const Value& v, Args&) { return v.is_bool() && v.as_bool(); }
bool t_false(Renderer&, const Value& v, Args&) { return v.is_bool() && !v.as_bool(); }
bool t_mapping(Renderer&, const Value& v, Args&) { return v.is_dict(); }
bool t_callable(Renderer&, const Value& v, Args&) { return v.is_callable(); }
// Python: iter() works on strings, lists, dicts and jinja2's Undefined.
bool t_iterable(Renderer&, const Value& v, Args&) {
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
// Python: len() and __getitem__ (not generators or dict views).
bool t_sequence(Renderer& r, const Value& v, Args& a) {
  return t_iterable(r, v, a) && !(v.is_list() && !v.list_data().iter_type.empty());
}

int64_t integer_of(const Value& v, const char* test) {
  if (v.is_undefined()) v.fail_undefined();
  if (!v.is_int() && !v.is_bool()) throw Error(std::string("the '") + test + "' test needs an integer, got " + v.type_name());
  return v.as_int();
}

bool t_odd(Renderer&, const Value& v, Args&) { return integer_of(v, "odd") % 2 != 0; }
bool t_even(Renderer&, const Value& v, Args&) { return integer_of(v, "even") % 2 == 0; }
bool t_divisibleby(Renderer&, const Value& v, Args& a) {
  const int64_t d = integer_of(a.take(0, "num"), "divisibleby");
  if (d == 0) throw Error("integer division or modulo by zero");
  return d == -1 || integer_of(v, "divisibleby") % d == 0;
}

bool t_eq(Renderer&, const Value& v, Args& a) { return values_equal(v, a.take(0, "other")); }
bool t_ne(Renderer&, const Value& v, Args& a) { return !values_equal(v, a.take(0, "other")); }
bool t_lt(Renderer&, const Value& v, Args& a) { return value_less(v, a.take(0, "other")); }
bool t_gt(Renderer&, const Value& v, Args& a) { return value_less(a.take(0, "other"), v); }
bool t_le(Renderer&, const Value& v, Args& a) { return !value_less(a.take(0, "other"), v); }
bool t_ge(Renderer&, const Value& v, Args& a) { return !value_less(v, a.take(0, "other")); }

bool t_in(Renderer&, const Value& v, Args& a) {
  const Value seq = a.take(0, "seq");
  if (seq.is_string()) return v.is_string() && seq.as_string().find(v.as_string()) != std::string::npos;
  if (seq.is_dict()) return seq.dict_data().find(v) != nullptr;
  for (const Value& x : iterate(seq))
    if (values_equal(x, v)) return true;
  return false;
}

// Python's `is`: the same singleton for none and the bools, the same object otherwise.
bool t_sameas(Renderer&, const Value& v, Args& a) {
  const Value o = a.take(0, "other");
  if (v.kind() != o.kind()) return false;
  if (v.is_none() || v.is_undefined()) return true;
  if (v.is_bool()) return v.as_bool() == o.as_bool();
  if (v.is_list()) return &v.list_data() == &o.list_data();
  if (v.is_dict()) return &v.dict_data() == &o.dict_data();
  return values_equal(v, o);
}

bool t_lower(Renderer&, const Value& v, Args&) { return text_lower(v.str()) == v.str(); }
bool t_upper(Renderer&, const Value& v, Args&) { return text_upper(v.str()) == v.str(); }
bool t_escaped(Renderer&, const Value&, Args&) { return false; }
bool t_filter(Renderer&, const Value& v, Args&) { return v.is_string() && find_filter(v.as_string()) != nullptr; }
bool t_test(Renderer&, const Value& v, Args&) { return v.is_string() && find_test(v.as_string()) != nullptr; }

}  // namespace

TestFn find_test(std::string_view name) {
  static const std::map<std::string_view, TestFn> kTests = {
      {"!=", t_ne},           {"<", t_lt},          {"<=", t_le},           {"==", t_eq},
      {">", t_gt},            {">=", t_ge},         {"boolean", t_boolean}, {"callable", t_callable},
      {"defined", t_defined}, {"divisibleby", t_divisibleby}, {"eq", t_eq},  {"equalto", t_eq},
      {"escaped", t_escaped}, {"even", t_even},     {"false", t_false},     {"filter", t_filter},
      {"float", t_float},     {"ge", t_ge},         {"greaterthan", t_gt},  {"gt", t_gt},
      {"in", t_in},           {"integer", t_integer}, {"iterable", t_iterable}, {"le", t_le},
      {"lessthan", t_lt},     {"lower", t_lower},   {"lt", t_lt},           {"mapping", t_mapping},
      {"ne", t_ne},           {"none", t_none},     {"number", t_number},   {"odd", t_odd},
      {"sameas", t_sameas},   {"sequence", t_sequence}, {"string", t_string}, {"test", t_test},
      {"true", t_true},       {"undefined", t_undefined}, {"upper", t_upper},
  };
  const auto it = kTests.find(name);
  return it == kTests.end() ? nullptr : it->second;
}

}  // namespace tandem::jinja
