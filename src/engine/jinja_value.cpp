#include "engine/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace tandem::jinja {

Value* DictData::find(const Value& key) {
  for (auto& [k, v] : entries)
    if (values_equal(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find(const Value& key) const { return const_cast<DictData*>(this)->find(key); }

void DictData::set(const Value& key, Value v) {
  if (Value* slot = find(key)) *slot = std::move(v);
  else entries.emplace_back(key, std::move(v));
}

Value Value::list(ValueList items, bool tuple) {
  Value v(Kind::List);
  v.list_ = std::make_shared<ListData>();
  v.list_->items = std::move(items);
  v.list_->is_tuple = tuple;
  return v;
}

const std::string& Value::empty_string() {
  static const std::string empty;
  return empty;
}

Value Value::generator(ValueList items) {
  Value v = list(std::move(items));
  v.list_->iter_type = "generator";
  return v;
}

Value Value::dict_view(const char* type, ValueList items) {
  Value v = list(std::move(items));
  v.list_->iter_type = type;
  return v;
}

Value Value::dict(bool is_namespace) {
  Value v(Kind::Dict);
  v.dict_ = std::make_shared<DictData>();
  v.dict_->is_namespace = is_namespace;
  return v;
}

Value Value::function(Function f) {
  Value v(Kind::Function);
  v.fn_ = std::make_shared<Function>(std::move(f));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return Value(int64_t(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get_ref<const std::string&>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = dict();
      d.dict_->entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) d.dict_->entries.emplace_back(Value(it.key()), from_json(it.value()));
      return d;
    }
    default: return Value();
  }
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return int_ != 0;
    case Kind::Float: return float_ != 0;
    case Kind::String: return !as_string().empty();
    case Kind::List: return list_->is_generator() || !list_->items.empty();
    case Kind::Dict: return !dict_->entries.empty();
    case Kind::Function: return true;
  }
  return false;
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  std::string mant = sci.substr(0, e);
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(size_t(-exp - 1), '0') + digits;
    } else {
      if (digits.size() <= size_t(exp) + 1) digits += std::string(size_t(exp) + 1 - digits.size(), '0');
      out = digits.substr(0, size_t(exp) + 1) + "." + digits.substr(size_t(exp) + 1);
      if (out.back() == '.') out += '0';
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  }
  return neg ? "-" + out : out;
}

namespace {

std::string repr_string(const std::string& s) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == q) {
          out += '\\';
          out += char(c);
        } else if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += char(c);
        }
    }
  }
  return out + q;
}

}  // namespace

std::string Value::str() const {
  switch (kind_) {
    case Kind::Undefined: return "";
    case Kind::None: return "None";
    case Kind::Bool: return int_ ? "True" : "False";
    case Kind::Int: return std::to_string(int_);
    case Kind::Float: return python_float_repr(float_);
    case Kind::String: return as_string();
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::String: return repr_string(as_string());
    case Kind::List: {
      if (list_->is_generator()) return "<generator object>";
      std::string out = list_->iter_type + (list_->is_tuple ? "(" : list_->iter_type.empty() ? "[" : "([");
      for (size_t i = 0; i < list_->items.size(); ++i) {
        out += (i ? ", " : "") + list_->items[i].repr();
        check_size(out.size());
      }
      if (list_->is_tuple && list_->items.size() == 1) out += ",";
      return out + (list_->is_tuple ? ")" : list_->iter_type.empty() ? "]" : "])");
    }
    case Kind::Dict: {
      std::string out = dict_->is_namespace ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [k, v] : dict_->entries) {
        out += (first ? "" : ", ") + k.repr() + ": " + v.repr();
        check_size(out.size());
        first = false;
      }
      return out + (dict_->is_namespace ? "}>" : "}");
    }
    case Kind::Function: return "<function>";
    case Kind::Undefined: return "Undefined";
    default: return str();
  }
}

std::string Value::type_name() const {
  static constexpr const char* kNames[] = {"undefined", "NoneType", "bool", "int",     "float",
                                           "str",       "list",     "dict", "function"};
  if (kind_ == Kind::List && list_->is_tuple) return "tuple";
  if (kind_ == Kind::List && !list_->iter_type.empty()) return list_->iter_type;
  return kNames[int(kind_)];
}

void Value::fail_undefined() const {
  const std::string& name = as_string();
  throw Error(name.empty() ? "a value is undefined" : "'" + name + "' is undefined");
}

void check_size(size_t bytes) {
  if (bytes > kMaxTextBytes) throw Error("the template renders more than " + std::to_string(kMaxTextBytes >> 20) + " MB");
}

void fail_int_overflow() { throw Error("integer overflow: ints beyond 64 bits are not supported"); }

int64_t double_to_int(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    if (std::isnan(d)) throw Error("cannot convert float NaN to integer");
    fail_int_overflow();
  }
  return int64_t(d);
}

bool values_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Undefined:
    case K::None: return true;
    case K::String: return a.as_string() == b.as_string();
    case K::List: {
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!values_equal(x[i], y[i])) return false;
      return true;
    }
    case K::Dict: {
      const auto &x = a.dict_data(), &y = b.dict_data();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* o = y.find(k);
        if (!o || !values_equal(v, *o)) return false;
      }
      return true;
    }
    case K::Function: return &a.function_ref() == &b.function_ref();
    default: return false;
  }
}

bool value_less(const Value& a, const Value& b) {
  if (a.is_undefined()) a.fail_undefined();
  if (b.is_undefined()) b.fail_undefined();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      if (value_less(x[i], y[i])) return true;
      if (value_less(y[i], x[i])) return false;
    }
    return x.size() < y.size();
  }
  throw Error("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

namespace {

uint32_t decode_utf8(std::string_view c) {
  const auto b = [&](size_t i) { return uint32_t(static_cast<unsigned char>(c[i])); };
  if (c.size() == 1) return b(0);
  if (c.size() == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (c.size() == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (std::string_view ch : utf8_chars(s)) {
    const unsigned char c = ch[0];
    char b[16];
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c == 0x7f)) {
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else if (ensure_ascii && c >= 0x80) {
      uint32_t cp = decode_utf8(ch);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(b, sizeof b, "\\u%04x", cp);
      }
      out += b;
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string json_key(const Value& k) {
  if (k.is_string()) return k.as_string();
  if (k.is_bool()) return k.as_bool() ? "true" : "false";
  if (k.is_none()) return "null";
  if (k.is_int() || k.is_float()) return k.str();
  throw Error("keys must be str, int, float, bool or None, not " + k.type_name());
}

void json_value(std::string& out, const Value& v, const JsonStyle& st, int depth) {
  const bool pretty = st.indent >= 0 || !st.indent_text.empty();
  const std::string unit = st.indent_text.empty() ? std::string(size_t(std::max(st.indent, 0)), ' ') : st.indent_text;
  auto newline = [&](int d) {
    check_size(out.size() + 1 + unit.size() * size_t(d));
    out += '\n';
    for (int i = 0; i < d; ++i) out += unit;
  };
  switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
      const double d = v.as_double();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : python_float_repr(d);
      return;
    }
    case Value::Kind::String: json_string(out, v.as_string(), st.ensure_ascii); return;
    case Value::Kind::List: {
      if (!v.list_data().iter_type.empty())
        throw Error("Object of type " + v.list_data().iter_type + " is not JSON serializable");
      if (v.items().empty()) { out += "[]"; return; }
      out += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += st.item_sep;
        if (pretty) newline(depth + 1);
        json_value(out, v.items()[i], st, depth + 1);
        check_size(out.size());
      }
      if (pretty) newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      auto entries = v.dict_data().entries;
      if (entries.empty()) { out += "{}"; return; }
      if (st.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return value_less(a.first, b.first); });
      out += '{';
      bool first = true;
      for (const auto& [k, val] : entries) {
        if (!first) out += st.item_sep;
        first = false;
        if (pretty) newline(depth + 1);
        json_string(out, json_key(k), st.ensure_ascii);
        out += st.key_sep;
        json_value(out, val, st, depth + 1);
        check_size(out.size());
      }
      if (pretty) newline(depth);
      out += '}';
      return;
    }
    default: throw Error("Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string to_json_text(const Value& v, const JsonStyle& style) {
  std::string out;
  json_value(out, v, style, 0);
  return out;
}

}  // namespace tandem::jinja
