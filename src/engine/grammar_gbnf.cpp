// GBNF (llama.cpp's grammar format) -> Rules. Groups and repetitions become helper rules named
// after the rule they appear in: x* is `r ::= x r | ""`, x{m,n} is m copies of x and a chain of
// n - m nested optional ones. The checks after parsing (undefined rules, left recursion, rules
// that can never finish) are in grammar_check.cpp.
#include <map>

#include "engine/grammar.h"
#include "engine/grammar_check.h"
#include "engine/grammar_rules.h"
#include "engine/grammar_state.h"
#include "format/error.h"

namespace tandem::grammar {

namespace {

constexpr size_t kMaxElements = 2000000;  // all rules together, after repetitions are expanded
constexpr int kMaxRepeat = 100000;        // the largest m or n in x{m,n}

using Seq = std::vector<Element>;

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view text) : s_(text) {}

  ParsedGrammar parse(std::string_view root_name);

 private:
  [[noreturn]] void fail(size_t at, const std::string& msg) const { throw Error(location(s_, at) + ": " + msg); }
  bool at_end() const { return p_ >= s_.size(); }
  char peek(size_t k = 0) const { return p_ + k < s_.size() ? s_[p_ + k] : '\0'; }
  static bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }
  void skip_space(bool newline_ok);
  std::string parse_name();
  uint32_t parse_code_point();  // one character or escape, in a literal or a class
  int32_t rule_id(const std::string& name, size_t at);
  int32_t new_helper(std::string base);
  int32_t add_class(CharClass c);
  void parse_alternates(int32_t rule, bool nested);
  Seq parse_sequence(int32_t rule, bool nested);
  Seq parse_item(int32_t rule);
  CharClass parse_class();
  void parse_repetition(int32_t rule, Seq& item, Seq& out);
  Element as_one_element(int32_t rule, Seq item);
  Seq repeat(int32_t rule, const Element& x, int min, int max);
  void count(size_t n);

  std::string_view s_;
  size_t p_ = 0;
  ParsedGrammar g_;
  std::map<std::string, int32_t> ids_;
  std::map<int32_t, int> helper_counter_;
  size_t n_elements_ = 0;
};

void GbnfParser::skip_space(bool newline_ok) {
  while (!at_end()) {
    const char c = peek();
    if (c == ' ' || c == '\t') {
      ++p_;
    } else if (c == '#') {
      while (!at_end() && peek() != '\n' && peek() != '\r') ++p_;
    } else if (newline_ok && (c == '\n' || c == '\r')) {
      ++p_;
    } else {
      break;
    }
  }
}

std::string GbnfParser::parse_name() {
  const size_t start = p_;
  while (!at_end() && is_word_char(peek())) ++p_;
  if (p_ == start) fail(start, "expected a rule name");
  return std::string(s_.substr(start, p_ - start));
}

int32_t GbnfParser::rule_id(const std::string& name, size_t at) {
  auto [it, inserted] = ids_.try_emplace(name, int32_t(g_.rules.names.size()));
  if (inserted) {
    g_.rules.names.push_back(name);
    g_.defs.emplace_back();
    g_.first_use.push_back(at);
    g_.def_at.push_back(at);
    g_.defined.push_back(false);
  }
  return it->second;
}

int32_t GbnfParser::new_helper(std::string base) {
  const int32_t parent = ids_.at(base);
  std::string name;
  do name = base + "-" + std::to_string(++helper_counter_[parent]);
  while (ids_.count(name));
  const int32_t id = rule_id(name, g_.def_at[size_t(parent)]);
  g_.defined[size_t(id)] = true;
  return id;
}

int32_t GbnfParser::add_class(CharClass c) {
  c.finish();
  g_.rules.classes.push_back(std::move(c));
  return int32_t(g_.rules.classes.size() - 1);
}

void GbnfParser::count(size_t n) {
  n_elements_ += n;
  if (n_elements_ > kMaxElements)
    fail(p_, "the grammar is too large (more than " + std::to_string(kMaxElements) + " symbols once repetitions are expanded)");
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint32_t GbnfParser::parse_code_point() {
  const size_t start = p_;
  if (at_end()) fail(start, "unexpected end of the grammar");
  const unsigned char c = uint8_t(peek());
  if (c == '\\') {
    const char e = peek(1);
    p_ += 2;
    int digits = 0;
    switch (e) {
      case 'x': digits = 2; break;
      case 'u': digits = 4; break;
      case 'U': digits = 8; break;
      case 't': return '\t';
      case 'r': return '\r';
      case 'n': return '\n';
      case '\\': case '"': case '[': case ']': case '-': case '^': case '.': case '/': case '*': case '+':
      case '?': case '(': case ')': case '{': case '}': case '|': return uint8_t(e);
      default: fail(start, std::string("unknown escape '\\") + e + "'");
    }
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const int h = hex_value(peek());
      if (h < 0) fail(p_, "expected " + std::to_string(digits) + " hex digits after '\\" + e + "'");
      v = v * 16 + uint32_t(h);
      ++p_;
    }
    if (v > kMaxCodePoint) fail(start, "code point beyond U+10FFFF");
    return v;
  }
  // A UTF-8 character of the grammar text.
  const int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || p_ + size_t(len) > s_.size()) fail(start, "invalid UTF-8 in the grammar");
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int i = 1; i < len; ++i) {
    const unsigned char d = uint8_t(peek(size_t(i)));
    if ((d & 0xC0) != 0x80) fail(start, "invalid UTF-8 in the grammar");
    v = (v << 6) | (d & 0x3F);
  }
  p_ += size_t(len);
  return v;
}

CharClass GbnfParser::parse_class() {
  const size_t start = p_;
  ++p_;  // '['
  bool negated = false;
  if (peek() == '^') {
    negated = true;
    ++p_;
  }
  CharClass c;
  while (true) {
    if (at_end()) fail(start, "unterminated character class");
    if (peek() == ']') break;
    const uint32_t lo = parse_code_point();
    uint32_t hi = lo;
    if (peek() == '-' && peek(1) != ']' && p_ + 1 < s_.size()) {
      ++p_;
      hi = parse_code_point();
      if (hi < lo) fail(start, "character range with its end before its start");
    }
    c.ranges.push_back({lo, hi});
  }
  ++p_;  // ']'
  c.finish();
  if (!negated) return c;
  CharClass inv;
  uint32_t next = 0;
  for (const auto& r : c.ranges) {
    if (r.first > next) inv.ranges.push_back({next, r.first - 1});
    next = r.second + 1;
  }
  if (next <= kMaxCodePoint) inv.ranges.push_back({next, kMaxCodePoint});
  return inv;
}

}  // namespace

namespace {

// A multi-element item (a literal) becomes one rule reference so that a repetition applies to all of it.
Element GbnfParser::as_one_element(int32_t rule, Seq item) {
  if (item.size() == 1) return item[0];
  const int32_t h = new_helper(g_.rules.names[size_t(rule)]);
  g_.defs[size_t(h)].push_back(std::move(item));
  return Element{Element::Rule, h};
}

Seq GbnfParser::repeat(int32_t rule, const Element& x, int min, int max) {
  Seq out(size_t(min), x);
  count(size_t(min) + 4);
  const std::string base = g_.rules.names[size_t(rule)];
  if (max < 0) {  // s ::= x s | ""
    const int32_t s = new_helper(base);
    g_.defs[size_t(s)] = {Seq{x, Element{Element::Rule, s}}, Seq{}};
    out.push_back(Element{Element::Rule, s});
  } else if (max > min) {  // o_k ::= x o_(k-1) | "", o_1 ::= x | ""
    int32_t inner = -1;
    const int32_t chain = int32_t(g_.rules.chains.size());
    g_.rules.chains.emplace_back();
    for (int k = 1; k <= max - min; ++k) {
      const int32_t o = new_helper(base);
      Seq first{x};
      if (inner >= 0) first.push_back(Element{Element::Rule, inner});
      g_.defs[size_t(o)] = {std::move(first), Seq{}};
      if (g_.rules.links.size() <= size_t(o)) g_.rules.links.resize(size_t(o) + 1);
      g_.rules.links[size_t(o)] = ChainLink{chain, k};
      g_.rules.chains[size_t(chain)].push_back(o);
      inner = o;
      count(3);
    }
    out.push_back(Element{Element::Rule, inner});
  }
  return out;
}

void GbnfParser::parse_repetition(int32_t rule, Seq& item, Seq& out) {
  int min = 1, max = 1;
  const size_t at = p_;
  const char c = peek();
  if (c == '*') {
    min = 0, max = -1, ++p_;
  } else if (c == '+') {
    min = 1, max = -1, ++p_;
  } else if (c == '?') {
    min = 0, max = 1, ++p_;
  } else if (c == '{') {
    ++p_;
    skip_space(false);
    auto number = [&] {
      const size_t s = p_;
      long v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + (peek() - '0');
        if (v > kMaxRepeat) fail(s, "repetition count above " + std::to_string(kMaxRepeat));
        ++p_;
      }
      if (p_ == s) fail(s, "expected a number in the repetition");
      skip_space(false);
      return int(v);
    };
    min = max = number();
    if (peek() == ',') {
      ++p_;
      skip_space(false);
      max = peek() == '}' ? -1 : number();
    }
    if (peek() != '}') fail(p_, "expected '}' to end the repetition");
    ++p_;
    if (max >= 0 && max < min) fail(at, "repetition {m,n} with n < m");
  }
  if (min == 1 && max == 1) {
    out.insert(out.end(), item.begin(), item.end());
    return;
  }
  Seq r = repeat(rule, as_one_element(rule, std::move(item)), min, max);
  out.insert(out.end(), r.begin(), r.end());
}

Seq GbnfParser::parse_item(int32_t rule) {
  const size_t start = p_;
  const char c = peek();
  Seq item;
  if (c == '"') {
    ++p_;
    while (true) {
      if (at_end() || peek() == '\n') fail(start, "unterminated string literal");
      if (peek() == '"') break;
      CharClass one;
      const uint32_t cp = parse_code_point();
      one.ranges.push_back({cp, cp});
      item.push_back(Element{Element::Class, add_class(std::move(one))});
    }
    ++p_;
    count(item.size());
  } else if (c == '[') {
    item.push_back(Element{Element::Class, add_class(parse_class())});
    count(1);
  } else if (c == '.') {
    ++p_;
    CharClass any;
    any.ranges.push_back({0, kMaxCodePoint});
    item.push_back(Element{Element::Class, add_class(std::move(any))});
    count(1);
  } else if (c == '(') {
    ++p_;
    const int32_t h = new_helper(g_.rules.names[size_t(rule)]);
    skip_space(true);
    parse_alternates(h, true);
    if (peek() != ')') fail(start, "unmatched '('");
    ++p_;
    item.push_back(Element{Element::Rule, h});
  } else if (c == '<' || (c == '!' && peek(1) == '<')) {
    fail(start, "token references (<...>, !<...>) are not supported; write the text instead");
  } else if (is_word_char(c)) {
    const std::string name = parse_name();
    item.push_back(Element{Element::Rule, rule_id(name, start)});
    count(1);
  } else {
    fail(start, std::string("unexpected '") + c + "'");
  }
  return item;
}

// Symbols up to '|', ')' or the end of the rule (a newline outside parentheses).
Seq GbnfParser::parse_sequence(int32_t rule, bool nested) {
  Seq out;
  while (true) {
    skip_space(nested);
    if (at_end()) break;
    const char c = peek();
    if (c == '|' || c == ')' || c == '\n' || c == '\r') break;
    if (!nested && is_word_char(c)) {  // the start of the next rule on the same logical line?
      size_t q = p_;
      while (q < s_.size() && is_word_char(s_[q])) ++q;
      while (q < s_.size() && (s_[q] == ' ' || s_[q] == '\t')) ++q;
      if (s_.substr(q, 3) == "::=") fail(p_, "expected a newline before the next rule");
    }
    Seq item = parse_item(rule);
    skip_space(nested);
    parse_repetition(rule, item, out);
  }
  return out;
}

void GbnfParser::parse_alternates(int32_t rule, bool nested) {
  Seq first = parse_sequence(rule, nested);  // may add helper rules: index g_.defs afterwards
  g_.defs[size_t(rule)].push_back(std::move(first));
  while (peek() == '|') {
    ++p_;
    skip_space(true);
    Seq next = parse_sequence(rule, nested);
    g_.defs[size_t(rule)].push_back(std::move(next));
  }
}

ParsedGrammar GbnfParser::parse(std::string_view root_name) {
  while (true) {
    skip_space(true);
    if (at_end()) break;
    const size_t at = p_;
    const std::string name = parse_name();
    const int32_t id = rule_id(name, at);
    if (g_.defined[size_t(id)]) fail(at, "rule '" + name + "' is defined twice");
    g_.defined[size_t(id)] = true;
    g_.def_at[size_t(id)] = at;
    skip_space(false);
    if (s_.substr(p_, 3) != "::=") fail(p_, "expected '::=' after rule name '" + name + "'");
    p_ += 3;
    skip_space(true);
    parse_alternates(id, false);
    if (peek() == ')') fail(p_, "unmatched ')'");
    skip_space(false);
    if (!at_end() && peek() != '\n' && peek() != '\r') fail(p_, "expected a newline after the rule");
  }
  auto it = ids_.find(std::string(root_name));
  if (it == ids_.end() || !g_.defined[size_t(it->second)])
    throw Error("the grammar has no rule '" + std::string(root_name) + "' to start from");
  g_.rules.root = it->second;
  return std::move(g_);
}

}  // namespace

Rules parse_gbnf(std::string_view text, std::string_view root) {
  GbnfParser p(text);
  return check_and_flatten(p.parse(root), text);
}

}  // namespace tandem::grammar

namespace tandem {

Grammar Grammar::from_gbnf(std::string_view text, std::string_view root) {
  Grammar g;
  g.cache_ = std::make_shared<grammar::StateCache>(grammar::parse_gbnf(text, root));
  g.gbnf_ = std::make_shared<const std::string>(text);
  return g;
}

}  // namespace tandem
