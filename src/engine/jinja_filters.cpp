// jinja2's filters (as in jinja2/filters.py), with Hugging Face's tojson.
#include <algorithm>
#include <cmath>
#include <map>

#include "engine/jinja_eval.h"
#include "engine/jinja_text.h"

namespace tandem::jinja {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

using Args = CallArgs;

Value f_string(Renderer&, const Value& v, Args&) { return v.is_string() ? v : Value(v.str()); }
Value f_upper(Renderer&, const Value& v, Args&) { return Value(text_upper(v.str())); }
Value f_lower(Renderer&, const Value& v, Args&) { return Value(text_lower(v.str())); }
Value f_capitalize(Renderer&, const Value& v, Args&) { return Value(py_capitalize(v.str())); }
Value f_title(Renderer&, const Value& v, Args&) { return Value(jinja_title(v.str())); }
Value f_safe(Renderer&, const Value& v, Args&) { return Value::markup(v.str()); }
Value f_escape(Renderer&, const Value& v, Args&) {
  return v.is_markup() ? v : Value::markup(html_escape(v.str()));
}
Value f_length(Renderer&, const Value& v, Args&) { return Value(value_length(v)); }
Value f_list(Renderer&, const Value& v, Args&) { return Value::list(iterate(v)); }

Value f_trim(Renderer&, const Value& v, Args& a) {
  const Value chars = a.take(0, "chars", Value::none());
  return Value(py_strip(v.str(), chars.is_none() ? nullptr : &chars.as_string(), true, true));
}

Value f_default(Renderer&, const Value& v, Args& a) {
  const Value fallback = a.take(0, "default_value", Value(""));
  const bool boolean = a.take(1, "boolean", Value(false)).truthy();
  return v.is_undefined() || (boolean && !v.truthy()) ? fallback : v;
}

Value f_first(Renderer&, const Value& v, Args&) {
  ValueList items = iterate(v);
  return items.empty() ? Value::undefined("first") : items.front();
}

Value f_last(Renderer&, const Value& v, Args&) {
  ValueList items = iterate(v);
  return items.empty() ? Value::undefined("last") : items.back();
}

// make_attrgetter: "a.b" and "0" reach into nested values.
Value attribute_of(Renderer& r, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return r.get_item(item, attribute);
  Value cur = item;
  const std::string& path = attribute.as_string();
  size_t b = 0;
  while (true) {
    const size_t dot = path.find('.', b);
    const std::string part = path.substr(b, dot == std::string::npos ? std::string::npos : dot - b);
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    cur = r.get_item(cur, digits ? Value(int64_t(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) return cur;
    b = dot + 1;
  }
}

Value f_join(Renderer& r, const Value& v, Args& a) {
  const std::string sep = a.take(0, "d", Value("")).str();
  const Value attribute = a.take(1, "attribute", Value::none());
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += (attribute.is_none() ? item : attribute_of(r, item, attribute)).str();
    check_size(out.size());
  }
  return Value(std::move(out));
}

Value f_replace(Renderer&, const Value& v, Args& a) {
  const std::string old_text = a.take(0, "old").str(), new_text = a.take(1, "new").str();
  const Value count = a.take(2, "count", Value::none());
  return Value(py_replace(v.str(), old_text, new_text, count.is_none() ? -1 : count.as_int()));
}

Value f_tojson(Renderer&, const Value& v, Args& a) {
  JsonStyle st;
  st.ensure_ascii = a.take(0, "ensure_ascii", Value(false)).truthy();
  const Value indent = a.take(1, "indent", Value::none());
  const Value separators = a.take(2, "separators", Value::none());
  st.sort_keys = a.take(3, "sort_keys", Value(false)).truthy();
  if (indent.is_string()) st.indent_text = indent.as_string();
  else if (!indent.is_none()) st.indent = int(std::clamp<int64_t>(indent.as_int(), 0, int64_t(kMaxTextBytes)));
  if (st.indent >= 0 || indent.is_string()) st.item_sep = ",";
  if (separators.is_list() && separators.items().size() == 2) {
    st.item_sep = separators.items()[0].str();
    st.key_sep = separators.items()[1].str();
  }
  return Value(to_json_text(v, st));
}

Value f_int(Renderer&, const Value& v, Args& a) {
  const Value fallback = a.take(0, "default", Value(0));
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) return std::isfinite(v.as_double()) ? Value(double_to_int(v.as_double())) : fallback;
  if (v.is_string()) {
    if (auto i = parse_py_int(v.as_string())) return Value(*i);
    if (auto d = parse_py_float(v.as_string()); d && std::isfinite(*d)) return Value(double_to_int(*d));
  }
  return fallback;
}

Value f_float(Renderer&, const Value& v, Args& a) {
  const Value fallback = a.take(0, "default", Value(0.0));
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string())
    if (auto d = parse_py_float(v.as_string())) return Value(*d);
  return fallback;
}

Value f_items(Renderer&, const Value& v, Args&) {
  if (v.is_undefined()) return Value::list();
  if (!v.is_dict()) fail("can only get item pairs from a mapping");
  ValueList pairs;
  for (const auto& [k, val] : v.dict_data().entries) pairs.push_back(Value::list({k, val}, true));
  return Value::generator(std::move(pairs));
}

// select / reject / selectattr / rejectattr.
Value select_impl(Renderer& r, const Value& v, Args& a, bool by_attr, bool keep_when) {
  size_t next = 0;
  Value attribute;
  if (by_attr) attribute = a.pos.size() > next ? a.pos[next++] : Value();
  std::string test;
  if (a.pos.size() > next) test = a.pos[next++].str();
  Args test_args;
  test_args.pos.assign(a.pos.begin() + long(next), a.pos.end());
  test_args.kw = a.kw;
  ValueList out;
  if (!v.truthy()) return Value::generator({});  // jinja2 checks `if seq:` first
  for (const Value& item : iterate(v)) {
    const Value x = by_attr ? attribute_of(r, item, attribute) : item;
    Args ta = test_args;
    const bool ok = test.empty() ? x.truthy() : r.apply_test(test, x, ta);
    if (ok == keep_when) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value f_select(Renderer& r, const Value& v, Args& a) { return select_impl(r, v, a, false, true); }
Value f_reject(Renderer& r, const Value& v, Args& a) { return select_impl(r, v, a, false, false); }
Value f_selectattr(Renderer& r, const Value& v, Args& a) { return select_impl(r, v, a, true, true); }
Value f_rejectattr(Renderer& r, const Value& v, Args& a) { return select_impl(r, v, a, true, false); }

Value f_map(Renderer& r, const Value& v, Args& a) {
  ValueList out;
  if (!v.truthy()) return Value::generator({});  // jinja2 checks `if value:` first
  const Value attribute = a.take(size_t(-1), "attribute");
  if (!attribute.is_undefined()) {
    const Value fallback = a.take(size_t(-1), "default");
    for (const Value& item : iterate(v)) {
      Value x = attribute_of(r, item, attribute);
      out.push_back(x.is_undefined() && !fallback.is_undefined() ? fallback : x);
    }
    return Value::generator(std::move(out));
  }
  if (a.pos.empty()) fail("map requires a filter name or attribute=");
  const std::string filter = a.pos[0].str();
  Args fa;
  fa.pos.assign(a.pos.begin() + 1, a.pos.end());
  fa.kw = a.kw;
  for (const Value& item : iterate(v)) {
    Args copy = fa;
    out.push_back(r.apply_filter(filter, item, copy));
  }
  return Value::generator(std::move(out));
}

// The sort key of jinja2's sort / unique / dictsort / min / max: strings lower-cased unless
// case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  return v.is_string() && !case_sensitive ? Value(text_lower(v.as_string())) : v;
}

Value f_unique(Renderer& r, const Value& v, Args& a) {
  const bool cs = a.take(0, "case_sensitive", Value(false)).truthy();
  const Value attribute = a.take(1, "attribute", Value::none());
  ValueList out, seen;
  for (const Value& item : iterate(v)) {
    const Value key = sort_key(attribute.is_none() ? item : attribute_of(r, item, attribute), cs);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::list(std::move(out));
}

Value f_reverse(Renderer&, const Value& v, Args&) {
  if (v.is_string()) {
    auto chars = utf8_chars(v.as_string());
    std::string s;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) s += *it;
    return Value(std::move(s));
  }
  ValueList items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items));  // Python's reversed(): an iterator
}

Value f_sort(Renderer& r, const Value& v, Args& a) {
  const bool reverse = a.take(0, "reverse", Value(false)).truthy();
  const bool cs = a.take(1, "case_sensitive", Value(false)).truthy();
  const Value attribute = a.take(2, "attribute", Value::none());
  ValueList items = iterate(v);
  auto key = [&](const Value& x) { return sort_key(attribute.is_none() ? x : attribute_of(r, x, attribute), cs); };
  std::stable_sort(items.begin(), items.end(),
                   [&](const Value& x, const Value& y) { return reverse ? value_less(key(y), key(x)) : value_less(key(x), key(y)); });
  return Value::list(std::move(items));
}

Value f_dictsort(Renderer&, const Value& v, Args& a) {
  const bool cs = a.take(0, "case_sensitive", Value(false)).truthy();
  const std::string by = a.take(1, "by", Value("key")).str();
  const bool reverse = a.take(2, "reverse", Value(false)).truthy();
  if (!v.is_dict()) fail("dictsort: expected a mapping, got " + v.type_name());
  const size_t pos = by == "value" ? 1 : 0;
  ValueList pairs;
  for (const auto& [k, val] : v.dict_data().entries) pairs.push_back(Value::list({k, val}, true));
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    const Value kx = sort_key(x.items()[pos], cs), ky = sort_key(y.items()[pos], cs);
    return reverse ? value_less(ky, kx) : value_less(kx, ky);
  });
  return Value::list(std::move(pairs));
}

Value f_indent(Renderer&, const Value& v, Args& a) {
  const Value width = a.take(0, "width", Value(4));
  const bool first = a.take(1, "first", Value(false)).truthy();
  const bool blank = a.take(2, "blank", Value(false)).truthy();
  check_size(width.is_string() ? 0 : size_t(std::max<int64_t>(width.as_int(), 0)));
  const std::string pad = width.is_string() ? width.as_string() : std::string(size_t(std::max<int64_t>(width.as_int(), 0)), ' ');
  std::vector<std::string> lines = py_splitlines(v.str() + "\n");
  check_size(v.str().size() + lines.size() * pad.size());
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n" + std::string(blank || !lines[i].empty() ? pad : "");
    out += lines[i];
  }
  return Value(first ? pad + out : out);
}

Value f_round(Renderer&, const Value& v, Args& a) {
  const int64_t precision = a.take(0, "precision", Value(0)).as_int();
  const std::string method = a.take(1, "method", Value("common")).str();
  if (!v.is_number()) fail("round: expected a number, got " + v.type_name());
  const double scale = std::pow(10.0, double(precision));
  double x = v.as_double() * scale;
  x = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
  return Value(x / scale);
}

Value f_abs(Renderer&, const Value& v, Args&) {
  if (v.is_float()) return Value(std::fabs(v.as_double()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN) fail_int_overflow();
    return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  fail("bad operand type for abs(): '" + v.type_name() + "'");
}

Value min_max(Renderer& r, const Value& v, Args& a, bool want_max) {
  const bool cs = a.take(0, "case_sensitive", Value(false)).truthy();
  const Value attribute = a.take(1, "attribute", Value::none());
  ValueList items = iterate(v);
  if (items.empty()) return Value::undefined(want_max ? "max" : "min");
  auto key = [&](const Value& x) { return sort_key(attribute.is_none() ? x : attribute_of(r, x, attribute), cs); };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i)
    if (want_max ? value_less(key(items[best]), key(items[i])) : value_less(key(items[i]), key(items[best]))) best = i;
  return items[best];
}

Value f_min(Renderer& r, const Value& v, Args& a) { return min_max(r, v, a, false); }
Value f_max(Renderer& r, const Value& v, Args& a) { return min_max(r, v, a, true); }

Value f_sum(Renderer& r, const Value& v, Args& a) {
  const Value attribute = a.take(0, "attribute", Value::none());
  Value total = a.take(1, "start", Value(0));
  for (const Value& item : iterate(v)) {
    const Value x = attribute.is_none() ? item : attribute_of(r, item, attribute);
    if (!x.is_number() || !total.is_number()) fail("sum: unsupported operand types");
    total = total.is_float() || x.is_float() ? Value(total.as_double() + x.as_double()) : Value(total.as_int() + x.as_int());
  }
  return total;
}

Value f_batch(Renderer&, const Value& v, Args& a) {
  const int64_t n = a.take(0, "linecount").as_int();
  const Value fill = a.take(1, "fill_with", Value::none());
  if (n <= 0) fail("batch: the line count must be positive");
  ValueList out, cur;
  for (const Value& item : iterate(v)) {
    cur.push_back(item);
    if (int64_t(cur.size()) == n) out.push_back(Value::list(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (!fill.is_none())
      while (int64_t(cur.size()) < n) cur.push_back(fill);
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::list(std::move(out));
}

Value f_attr(Renderer& r, const Value& v, Args& a) { return r.get_attr(v, a.take(0, "name").str()); }

// `"%s: %d"|format(a, b)`: Python's % formatting.
Value f_format(Renderer&, const Value& v, Args& a) {
  if (!a.kw.empty()) fail("format with keyword arguments is not supported");
  return Value(percent_format(v.str(), a.pos));
}

Value f_wordcount(Renderer&, const Value& v, Args&) {
  size_t n = 0;
  bool in_word = false;
  for (char c : v.str()) {
    const bool w = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (static_cast<unsigned char>(c) >= 0x80);
    n += w && !in_word;
    in_word = w;
  }
  return Value(n);
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  static const std::map<std::string_view, FilterFn> kFilters = {
      {"abs", f_abs},         {"attr", f_attr},           {"batch", f_batch},         {"capitalize", f_capitalize},
      {"count", f_length},    {"d", f_default},           {"default", f_default},     {"dictsort", f_dictsort},
      {"e", f_escape},        {"escape", f_escape},       {"first", f_first},         {"float", f_float},       {"format", f_format},
      {"indent", f_indent},   {"int", f_int},             {"items", f_items},         {"join", f_join},
      {"last", f_last},       {"length", f_length},       {"list", f_list},           {"lower", f_lower},
      {"map", f_map},         {"max", f_max},             {"min", f_min},             {"reject", f_reject},
      {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse},    {"round", f_round},
      {"safe", f_safe},       {"select", f_select},       {"selectattr", f_selectattr}, {"sort", f_sort},
      {"string", f_string},   {"sum", f_sum},             {"title", f_title},         {"tojson", f_tojson},
      {"trim", f_trim},       {"unique", f_unique},       {"upper", f_upper},         {"wordcount", f_wordcount},
  };
  const auto it = kFilters.find(name);
  return it == kFilters.end() ? nullptr : it->second;
}

}  // namespace tandem::jinja
