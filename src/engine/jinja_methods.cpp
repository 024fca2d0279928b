// Methods of strings, dicts and lists that templates call (the ones Python's sandboxed,
// immutable jinja2 environment allows: a method that would modify a list or dict is an error),
// and the globals of Hugging Face's chat template environment.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "engine/jinja_eval.h"
#include "engine/jinja_text.h"

namespace tandem::jinja {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

using Method = Value (*)(Renderer&, const Value& self, CallArgs&);

const std::string* opt_string(const Value& v) { return v.is_string() ? &v.as_string() : nullptr; }

Value m_strip(Renderer&, const Value& s, CallArgs& a) {
  const Value c = a.take(0, "chars", Value::none());
  return Value(py_strip(s.as_string(), opt_string(c), true, true));
}
Value m_lstrip(Renderer&, const Value& s, CallArgs& a) {
  const Value c = a.take(0, "chars", Value::none());
  return Value(py_strip(s.as_string(), opt_string(c), true, false));
}
Value m_rstrip(Renderer&, const Value& s, CallArgs& a) {
  const Value c = a.take(0, "chars", Value::none());
  return Value(py_strip(s.as_string(), opt_string(c), false, true));
}

Value split_impl(const Value& s, CallArgs& a, bool from_right) {
  const Value sep = a.take(0, "sep", Value::none());
  const int64_t maxsplit = a.take(1, "maxsplit", Value(-1)).as_int();
  if (sep.is_string() && sep.as_string().empty()) fail("empty separator");
  ValueList parts;
  for (auto& p : py_split(s.as_string(), opt_string(sep), maxsplit, from_right)) parts.emplace_back(std::move(p));
  return Value::list(std::move(parts));
}
Value m_split(Renderer&, const Value& s, CallArgs& a) { return split_impl(s, a, false); }
Value m_rsplit(Renderer&, const Value& s, CallArgs& a) { return split_impl(s, a, true); }

Value affix_impl(const Value& s, CallArgs& a, bool prefix) {
  const Value want = a.take(0, "prefix");
  const std::string& str = s.as_string();
  auto match = [&](const Value& w) {
    if (!w.is_string()) fail(std::string(prefix ? "startswith" : "endswith") + " first arg must be str or a tuple of str");
    return prefix ? str.starts_with(w.as_string()) : str.ends_with(w.as_string());
  };
  if (want.is_list()) {
    for (const Value& w : want.items())
      if (match(w)) return Value(true);
    return Value(false);
  }
  return Value(match(want));
}
Value m_startswith(Renderer&, const Value& s, CallArgs& a) { return affix_impl(s, a, true); }
Value m_endswith(Renderer&, const Value& s, CallArgs& a) { return affix_impl(s, a, false); }

Value m_replace(Renderer&, const Value& s, CallArgs& a) {
  const std::string o = a.take(0, "old").str(), n = a.take(1, "new").str();
  return Value(py_replace(s.as_string(), o, n, a.take(2, "count", Value(-1)).as_int()));
}
Value m_upper(Renderer&, const Value& s, CallArgs&) { return Value(text_upper(s.as_string())); }
Value m_lower(Renderer&, const Value& s, CallArgs&) { return Value(text_lower(s.as_string())); }
Value m_title(Renderer&, const Value& s, CallArgs&) { return Value(py_title(s.as_string())); }
Value m_capitalize(Renderer&, const Value& s, CallArgs&) { return Value(py_capitalize(s.as_string())); }

Value find_impl(const Value& s, CallArgs& a, bool from_right) {
  const std::string sub = a.take(0, "sub").str();
  const size_t hit = from_right ? s.as_string().rfind(sub) : s.as_string().find(sub);
  if (hit == std::string::npos) return Value(-1);
  return Value(utf8_chars(std::string_view(s.as_string()).substr(0, hit)).size());
}
Value m_find(Renderer&, const Value& s, CallArgs& a) { return find_impl(s, a, false); }
Value m_rfind(Renderer&, const Value& s, CallArgs& a) { return find_impl(s, a, true); }

Value m_count(Renderer&, const Value& s, CallArgs& a) {
  const Value x = a.take(0, "x");
  if (s.is_list()) {
    int64_t n = 0;
    for (const Value& v : s.items()) n += values_equal(v, x);
    return Value(n);
  }
  const std::string sub = x.str();
  if (sub.empty()) return Value(int64_t(utf8_chars(s.as_string()).size()) + 1);
  int64_t n = 0;
  for (size_t p = s.as_string().find(sub); p != std::string::npos; p = s.as_string().find(sub, p + sub.size())) ++n;
  return Value(n);
}

Value m_join(Renderer&, const Value& s, CallArgs& a) {
  std::string out;
  bool first = true;
  for (const Value& v : iterate(a.take(0, "iterable"))) {
    if (!v.is_string()) fail("sequence item: expected str instance, " + v.type_name() + " found");
    if (!first) out += s.as_string();
    first = false;
    out += v.as_string();
    check_size(out.size());
  }
  return Value(std::move(out));
}

Value m_splitlines(Renderer&, const Value& s, CallArgs&) {
  ValueList lines;
  for (auto& l : py_splitlines(s.as_string())) lines.emplace_back(std::move(l));
  return Value::list(std::move(lines));
}

Value m_isdigit(Renderer&, const Value& s, CallArgs&) {
  const std::string& t = s.as_string();
  return Value(!t.empty() && t.find_first_not_of("0123456789") == std::string::npos);
}

// str.format with {} / {0} / {name} fields (format specs after ':' are not supported).
Value m_format(Renderer& r, const Value& s, CallArgs& a) {
  const std::string& f = s.as_string();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) fail("Single '{' encountered in format string");
    const std::string field = f.substr(i + 1, close - i - 1);
    if (field.find(':') != std::string::npos || field.find('!') != std::string::npos)
      fail("format specs in str.format are not supported");
    Value v;
    if (field.empty()) v = a.take(auto_index++, "");
    else if (field.find_first_not_of("0123456789") == std::string::npos) v = a.take(size_t(std::stoul(field)), "");
    else v = a.take(size_t(-1), field);
    if (v.is_undefined()) fail("format: no argument for field '{" + field + "}'");
    (void)r;
    out += v.str();
    check_size(out.size());
    i = close;
  }
  return Value(std::move(out));
}

Value m_items(Renderer&, const Value& d, CallArgs&) {
  ValueList pairs;
  for (const auto& [k, v] : d.dict_data().entries) pairs.push_back(Value::list({k, v}, true));
  return Value::dict_view("dict_items", std::move(pairs));
}
Value m_keys(Renderer&, const Value& d, CallArgs&) { return Value::dict_view("dict_keys", iterate(d)); }
Value m_values(Renderer&, const Value& d, CallArgs&) {
  ValueList vals;
  for (const auto& [k, v] : d.dict_data().entries) vals.push_back(v);
  return Value::dict_view("dict_values", std::move(vals));
}
Value m_get(Renderer&, const Value& d, CallArgs& a) {
  const Value* v = d.dict_data().find(a.take(0, "key"));
  return v ? *v : a.take(1, "default", Value::none());
}

Value m_index(Renderer&, const Value& l, CallArgs& a) {
  const Value x = a.take(0, "x");
  for (size_t i = 0; i < l.items().size(); ++i)
    if (values_equal(l.items()[i], x)) return Value(i);
  fail(x.repr() + " is not in list");
}

struct MethodEntry {
  Value::Kind kind;
  const char* name;
  Method fn;
};

constexpr MethodEntry kMethods[] = {
    {Value::Kind::String, "strip", m_strip},         {Value::Kind::String, "lstrip", m_lstrip},
    {Value::Kind::String, "rstrip", m_rstrip},       {Value::Kind::String, "split", m_split},
    {Value::Kind::String, "rsplit", m_rsplit},       {Value::Kind::String, "startswith", m_startswith},
    {Value::Kind::String, "endswith", m_endswith},   {Value::Kind::String, "replace", m_replace},
    {Value::Kind::String, "upper", m_upper},         {Value::Kind::String, "lower", m_lower},
    {Value::Kind::String, "title", m_title},         {Value::Kind::String, "capitalize", m_capitalize},
    {Value::Kind::String, "find", m_find},           {Value::Kind::String, "rfind", m_rfind},
    {Value::Kind::String, "count", m_count},         {Value::Kind::String, "join", m_join},
    {Value::Kind::String, "splitlines", m_splitlines}, {Value::Kind::String, "isdigit", m_isdigit},
    {Value::Kind::String, "format", m_format},       {Value::Kind::Dict, "items", m_items},
    {Value::Kind::Dict, "keys", m_keys},             {Value::Kind::Dict, "values", m_values},
    {Value::Kind::Dict, "get", m_get},               {Value::Kind::List, "index", m_index},
    {Value::Kind::List, "count", m_count},
};

// Methods that modify their object: the immutable sandbox refuses to call them.
constexpr const char* kMutators[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort",
                                     "reverse", "update", "setdefault", "popitem"};

}  // namespace

namespace {

// flags, then an optional width, then an optional '.' and precision (at most 3 digits each).
bool valid_spec(std::string_view spec) {
  size_t i = 0;
  while (i < spec.size() && std::string_view("-+ #0").find(spec[i]) != std::string_view::npos) ++i;
  auto digits = [&] {
    const size_t b = i;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') ++i;
    return i - b <= 3;
  };
  if (!digits()) return false;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  return i == spec.size();
}

// One % conversion: flags, width, precision, then the conversion character.
std::string format_one(const std::string& spec, char conv, const Value& v) {
  if (conv == 's' || conv == 'r') {
    const std::string text = conv == 's' ? v.str() : v.repr();
    const bool left = spec.find('-') != std::string::npos;
    size_t width = 0, p = spec.find_first_of("123456789");
    const size_t dot = spec.find('.');
    std::string body = text;
    if (dot != std::string::npos) body = text.substr(0, size_t(std::max(0LL, std::atoll(spec.c_str() + dot + 1))));
    if (p != std::string::npos && (dot == std::string::npos || p < dot)) width = size_t(std::atoll(spec.c_str() + p));
    check_size(width);
    const size_t n = utf8_chars(body).size();
    const std::string pad(width > n ? width - n : 0, ' ');
    return left ? body + pad : pad + body;
  }
  if (!v.is_number()) fail(std::string("%") + conv + " format: a real number is required, not " + v.type_name());
  char buf[256] = {};
  const std::string f = "%" + spec;
  int n;
  if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
    const long long i = v.is_float() ? (long long)double_to_int(v.as_double()) : (long long)v.as_int();
    n = std::snprintf(buf, sizeof buf, (f + "ll" + (conv == 'i' ? 'd' : conv)).c_str(), i);
  } else {
    n = std::snprintf(buf, sizeof buf, (f + conv).c_str(), v.as_double());
  }
  if (n < 0 || size_t(n) >= sizeof buf) fail("%" + spec + conv + ": the formatted number is too long");
  return std::string(buf, size_t(n));
}

}  // namespace

std::string percent_format(const std::string& fmt, const ValueList& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t j = i + 1;
    while (j < fmt.size() && std::string_view("-+ #0123456789.").find(fmt[j]) != std::string_view::npos) ++j;
    if (j >= fmt.size()) fail("incomplete format");
    const char conv = fmt[j];
    if (conv == '%') {
      out += '%';
    } else if (std::string_view("srdifFeEgGxXo").find(conv) != std::string_view::npos) {
      if (!valid_spec(std::string_view(fmt).substr(i + 1, j - i - 1))) fail("unsupported format specification");
      if (next >= args.size()) fail("not enough arguments for format string");
      out += format_one(fmt.substr(i + 1, j - i - 1), conv, args[next++]);
      check_size(out.size());
    } else {
      fail(std::string("unsupported format character '") + conv + "'");
    }
    i = j;
  }
  if (next < args.size()) fail("not all arguments converted during string formatting");
  return out;
}

Value find_method(const Value& obj, const std::string& name) {
  for (const auto& m : kMethods)
    if (m.kind == obj.kind() && name == m.name) {
      const Method fn = m.fn;
      return Value::function([obj, fn](Renderer& r, CallArgs& a) { return fn(r, obj, a); });
    }
  if (obj.is_list() || obj.is_dict())
    for (const char* m : kMutators)
      if (name == m) {
        const std::string what = "access to attribute '" + name + "' of '" + obj.type_name() + "' object is unsafe";
        return Value::function([what](Renderer&, CallArgs&) -> Value { throw Error(what); });
      }
  return Value::undefined(name);
}

namespace {

Value g_range(Renderer&, CallArgs& a) {
  int64_t start = 0, stop = 0, step = 1;
  for (const Value& v : a.pos)
    if (!v.is_int() && !v.is_bool()) fail("range() arguments must be integers, not " + v.type_name());
  if (a.pos.size() == 1) stop = a.pos[0].as_int();
  else if (a.pos.size() >= 2) {
    start = a.pos[0].as_int();
    stop = a.pos[1].as_int();
    if (a.pos.size() >= 3) step = a.pos[2].as_int();
  } else {
    fail("range expected at least 1 argument");
  }
  if (step == 0) fail("range() arg 3 must not be zero");
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
    out.emplace_back(i);
    if (out.size() > 1000000) fail("range() too large");
    if (__builtin_add_overflow(i, step, &i)) break;
  }
  return Value::list(std::move(out));
}

Value make_dict(CallArgs& a, bool is_namespace) {
  Value d = Value::dict(is_namespace);
  for (const Value& p : a.pos) {
    if (!p.is_dict()) fail("namespace() / dict() take a mapping and keyword arguments");
    for (const auto& [k, v] : p.dict_data().entries) d.dict_data().set(k, v);
  }
  for (const auto& [k, v] : a.kw) d.dict_data().set(Value(k), v);
  return d;
}

Value g_strftime_now(Renderer& r, CallArgs& a) {
  const std::string fmt = a.take(0, "format").str();
  const std::time_t now = r.now();
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[512];
  const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
  return Value(std::string(buf, n));
}

}  // namespace

void add_globals(Scope& g) {
  g.set("range", Value::function(g_range));
  g.set("namespace", Value::function([](Renderer&, CallArgs& a) { return make_dict(a, true); }));
  g.set("dict", Value::function([](Renderer&, CallArgs& a) { return make_dict(a, false); }));
  g.set("raise_exception", Value::function([](Renderer&, CallArgs& a) -> Value { throw Error(a.take(0, "message").str()); }));
  g.set("strftime_now", Value::function(g_strftime_now));
}

}  // namespace tandem::jinja
