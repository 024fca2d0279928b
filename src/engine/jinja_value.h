// The values a Jinja template computes with, as Python's jinja2 sees them: undefined, none,
// bools, ints, floats, UTF-8 strings, lists (and tuples), insertion-ordered dicts (and
// namespace() objects), and callables (macros, globals, bound methods).
//
// Printing follows Python: str() of a float is its shortest round-trip repr ("1.0", "1e-05"),
// True / False / None are capitalized, lists and dicts print as their repr (['a', 1]).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/error.h"

namespace tandem::jinja {

class Value;
struct CallArgs;
class Renderer;

using ValueList = std::vector<Value>;

struct ListData {
  ValueList items;
  bool is_tuple = false;
  // Python's type when this is not a plain list: "generator" (what map, select, ... give:
  // iterable, but no len(), no indexing, no JSON form) or a dict view ("dict_items",
  // "dict_keys", "dict_values": a len(), but no indexing and no JSON form).
  std::string iter_type;
  bool is_generator() const { return iter_type == "generator"; }
};

struct DictData {
  std::vector<std::pair<Value, Value>> entries;  // insertion order, as Python dicts
  bool is_namespace = false;
  Value* find(const Value& key);
  const Value* find(const Value& key) const;
  void set(const Value& key, Value v);
};

// A callable: a global, a macro, a method bound to its object.
using Function = std::function<Value(Renderer&, CallArgs&)>;

class Value {
 public:
  enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

  Value() = default;  // undefined
  static Value undefined(std::string name = {}) {
    Value v;
    v.str_ = std::make_shared<const std::string>(std::move(name));
    return v;
  }
  static Value none() { return Value(Kind::None); }
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int v) : kind_(Kind::Int), int_(v) {}
  Value(int64_t v) : kind_(Kind::Int), int_(v) {}
  Value(size_t v) : kind_(Kind::Int), int_(int64_t(v)) {}
  Value(double v) : kind_(Kind::Float), float_(v) {}
  Value(std::string s) : kind_(Kind::String), str_(std::make_shared<const std::string>(std::move(s))) {}
  Value(std::string_view s) : kind_(Kind::String), str_(std::make_shared<const std::string>(s)) {}
  Value(const char* s) : kind_(Kind::String), str_(std::make_shared<const std::string>(s)) {}
  // A string marked safe (markupsafe's Markup, from the safe and escape filters): `+` with a
  // plain string HTML-escapes the plain one, as Python does.
  static Value markup(std::string s) {
    Value v(std::move(s));
    v.int_ = 1;
    return v;
  }
  bool is_markup() const { return kind_ == Kind::String && int_ == 1; }
  static Value list(ValueList items = {}, bool tuple = false);
  static Value generator(ValueList items);
  static Value dict_view(const char* type, ValueList items);
  static Value dict(bool is_namespace = false);
  static Value function(Function f);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_callable() const { return kind_ == Kind::Function; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_double() const { return kind_ == Kind::Float ? float_ : double(int_); }
  const std::string& as_string() const { return str_ ? *str_ : empty_string(); }
  // The undefined value's name, for error messages.
  const std::string& undefined_name() const { return as_string(); }
  ListData& list_data() const { return *list_; }
  const ValueList& items() const { return list_->items; }
  DictData& dict_data() const { return *dict_; }
  const Function& function_ref() const { return *fn_; }

  // Python's truth value (undefined is false).
  bool truthy() const;
  // Python's str(): what {{ value }} prints.
  std::string str() const;
  // Python's repr(): how a value prints inside a list or dict.
  std::string repr() const;
  // A name for error messages: "str", "list", "dict", ...
  std::string type_name() const;
  // Throws the error jinja2 raises when an undefined value is used as a value.
  [[noreturn]] void fail_undefined() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::Undefined;
  int64_t int_ = 0;
  double float_ = 0;
  static const std::string& empty_string();
  std::shared_ptr<const std::string> str_;  // shared: values are copied often, strings never change
  std::shared_ptr<ListData> list_;
  std::shared_ptr<DictData> dict_;
  std::shared_ptr<Function> fn_;
};

// The largest text (or list, in bytes) a render makes: a hostile template is an Error rather
// than exhausted memory. check_size throws Error for a size beyond it.
constexpr size_t kMaxTextBytes = size_t(64) << 20;
void check_size(size_t bytes);

// Python's ints are unbounded; here they are 64-bit, and a result beyond that is an Error.
[[noreturn]] void fail_int_overflow();
// int(d) of a finite double, or fail_int_overflow() if it does not fit 64 bits.
int64_t double_to_int(double d);

// Python's ==: 1 == 1.0 == True, deep on lists and dicts.
bool values_equal(const Value& a, const Value& b);
// Python's < for numbers, strings and lists; throws Error for other pairs.
bool value_less(const Value& a, const Value& b);
// Python's repr() of a float: the shortest text that reads back as the same double.
std::string python_float_repr(double d);
// Python's json.dumps(v, ensure_ascii=..., indent=..., separators=..., sort_keys=...); indent < 0:
// none (one line). Throws Error for values JSON cannot hold (undefined, callables).
struct JsonStyle {
  bool ensure_ascii = false;
  int indent = -1;
  std::string indent_text;  // used when not empty (an indent given as a string)
  std::string item_sep = ", ", key_sep = ": ";
  bool sort_keys = false;
};
std::string to_json_text(const Value& v, const JsonStyle& style);

// Code points of UTF-8 text (invalid bytes count as one each), for Python's len() and indexing.
std::vector<std::string_view> utf8_chars(std::string_view s);

}  // namespace tandem::jinja
