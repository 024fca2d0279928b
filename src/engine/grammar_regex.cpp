// JSON Schema `pattern` (an ECMA-262 regular expression, the subset of literals, classes, `.`,
// groups, alternation and greedy or lazy quantifiers) and string `format` -> GBNF over the JSON
// text of the string. A character of the value becomes the JSON text that writes it: itself,
// or its escape for '"', '\' and control characters.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>
#include <vector>

#include "engine/grammar_schema.h"
#include "format/error.h"

namespace tandem::grammar {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges normalized(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& x : r) {
    if (!out.empty() && x.first <= out.back().second + 1) out.back().second = std::max(out.back().second, x.second);
    else out.push_back(x);
  }
  return out;
}

Ranges inverted(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& x : normalized(r)) {
    if (x.first > next) out.push_back({next, x.first - 1});
    next = x.second + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

bool has(const Ranges& r, uint32_t c) {
  for (const auto& x : r)
    if (x.first <= c && c <= x.second) return true;
  return false;
}

std::string class_char(uint32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, c <= 0xFFFF ? "\\u%04X" : "\\U%08X", c);
  return buf;
}

// The JSON text of one character of the class.
std::string json_char_class(const Ranges& ranges) {
  std::vector<std::string> alts;
  std::string direct;
  for (auto [lo, hi] : normalized(ranges)) {
    // The JSON text writes 0x00-0x1F, '"' (0x22) and '\' (0x5C) escaped.
    const std::pair<uint32_t, uint32_t> holes[] = {{0, 0x1F}, {0x22, 0x22}, {0x5C, 0x5C}};
    uint32_t from = lo;
    for (auto [a, b] : holes) {
      if (b < from || a > hi) continue;
      if (a > from) direct += class_char(from) + "-" + class_char(std::min(hi, a - 1));
      from = b + 1;
    }
    if (from <= hi) direct += class_char(from) + "-" + class_char(hi);
  }
  if (!direct.empty()) alts.push_back("[" + direct + "]");
  static const std::pair<uint32_t, const char*> named[] = {{'"', "\\\\\\\""}, {'\\', "\\\\\\\\"}, {'\n', "\\\\n"},
                                                          {'\r', "\\\\r"},  {'\t', "\\\\t"},    {'\b', "\\\\b"},
                                                          {'\f', "\\\\f"}};
  for (auto [c, text] : named)
    if (has(ranges, c)) alts.push_back(std::string("\"") + text + "\"");
  for (uint32_t c = 0; c < 0x20; ++c)
    if (has(ranges, c) && c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f') {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\"\\\\u%04x\"", c);
      alts.push_back(buf);
    }
  if (alts.empty()) return "[^\\x00-\\U0010FFFF]";  // matches nothing
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

class RegexConverter {
 public:
  explicit RegexConverter(std::string_view p) : p_(p) {}

  std::string convert() {
    bool anchored_start = false, anchored_end = false;
    if (!p_.empty() && p_[0] == '^') anchored_start = true, i_ = 1;
    size_t end = p_.size();
    if (end > i_ && p_[end - 1] == '$' && (end < 2 || p_[end - 2] != '\\')) anchored_end = true, --end;
    p_ = p_.substr(0, end);
    std::string body = alternation();
    if (i_ < p_.size()) fail("unmatched ')'");
    return std::string(anchored_start ? "" : "char* ") + "(" + body + ")" + (anchored_end ? "" : " char*");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("pattern '" + std::string(p_) + "' at offset " + std::to_string(i_) + ": " + what);
  }
  bool more() const { return i_ < p_.size(); }

  std::string alternation() {
    std::string out = sequence();
    while (more() && p_[i_] == '|') {
      ++i_;
      out += " | " + sequence();
    }
    return out;
  }

  std::string sequence() {
    std::string out;
    while (more() && p_[i_] != '|' && p_[i_] != ')') {
      std::string a = atom();
      a += quantifier();
      out += (out.empty() ? "" : " ") + a;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantifier() {
    if (!more()) return "";
    std::string q;
    const char c = p_[i_];
    if (c == '*' || c == '+' || c == '?') {
      q = std::string(1, c);
      ++i_;
    } else if (c == '{') {
      const size_t close = p_.find('}', i_);
      if (close == std::string_view::npos) fail("unterminated {m,n}");
      q = std::string(p_.substr(i_, close - i_ + 1));
      for (char d : q)
        if (!(d == '{' || d == '}' || d == ',' || (d >= '0' && d <= '9'))) fail("bad repetition " + q);
      i_ = close + 1;
    }
    if (!q.empty() && more() && p_[i_] == '?') ++i_;  // lazy: the same strings
    if (!q.empty() && more() && (p_[i_] == '*' || p_[i_] == '+' || p_[i_] == '?' || p_[i_] == '{'))
      fail("nested quantifier");
    return q;
  }

  uint32_t code_point() {
    const unsigned char c = uint8_t(p_[i_]);
    const int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (i_ + size_t(len) > p_.size()) fail("invalid UTF-8");
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) v = (v << 6) | (uint8_t(p_[i_ + size_t(k)]) & 0x3F);
    i_ += size_t(len);
    return v;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (!more() || !std::isxdigit(uint8_t(p_[i_]))) fail("expected hex digits");
      const char d = p_[i_++];
      v = v * 16 + uint32_t(d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
    }
    return v;
  }

  // After a backslash: a class escape (\d \w \s and negations) or one character.
  Ranges escape() {
    if (!more()) fail("trailing backslash");
    const char e = p_[i_++];
    const Ranges digit{{'0', '9'}}, word{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    const Ranges space{{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}};
    switch (e) {
      case 'd': return digit;
      case 'D': return inverted(digit);
      case 'w': return word;
      case 'W': return inverted(word);
      case 's': return space;
      case 'S': return inverted(space);
      case 'n': return {{'\n', '\n'}};
      case 'r': return {{'\r', '\r'}};
      case 't': return {{'\t', '\t'}};
      case 'f': return {{'\f', '\f'}};
      case 'v': return {{'\v', '\v'}};
      case 'x': { const uint32_t v = hex(2); return {{v, v}}; }
      case 'u': { const uint32_t v = hex(4); return {{v, v}}; }
      default: break;
    }
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
      fail(std::string("unsupported escape \\") + e + " (word boundaries, back-references and such)");
    return {{uint8_t(e), uint8_t(e)}};
  }

  Ranges char_class() {
    ++i_;  // '['
    bool negated = false;
    if (more() && p_[i_] == '^') negated = true, ++i_;
    Ranges r;
    bool first = true;
    while (true) {
      if (!more()) fail("unterminated character class");
      if (p_[i_] == ']' && !first) break;
      first = false;
      Ranges lo;
      if (p_[i_] == '\\') {
        ++i_;
        lo = escape();
      } else {
        const uint32_t c = code_point();
        lo = {{c, c}};
      }
      if (lo.size() == 1 && lo[0].first == lo[0].second && i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        uint32_t hi;
        if (p_[i_] == '\\') {
          ++i_;
          Ranges h = escape();
          if (h.size() != 1 || h[0].first != h[0].second) fail("a class escape cannot end a range");
          hi = h[0].first;
        } else {
          hi = code_point();
        }
        if (hi < lo[0].first) fail("character range out of order");
        r.push_back({lo[0].first, hi});
      } else {
        r.insert(r.end(), lo.begin(), lo.end());
      }
    }
    ++i_;  // ']'
    return negated ? inverted(r) : r;
  }

  std::string atom() {
    const char c = p_[i_];
    if (c == '(') {
      ++i_;
      if (more() && p_[i_] == '?') {
        if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') i_ += 2;
        else fail("lookaround and named groups are not supported");
      }
      std::string inner = alternation();
      if (!more() || p_[i_] != ')') fail("unmatched '('");
      ++i_;
      return "(" + inner + ")";
    }
    if (c == '[') return json_char_class(char_class());
    if (c == '.') {
      ++i_;
      return json_char_class(inverted({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
    }
    if (c == '\\') {
      ++i_;
      return json_char_class(escape());
    }
    if (c == '^' || c == '$') fail("anchors are only supported at the start and the end");
    if (c == '*' || c == '+' || c == '?' || c == '{') fail("quantifier without an operand");
    const uint32_t cp = code_point();
    return json_char_class({{cp, cp}});
  }

  std::string_view p_;
  size_t i_ = 0;
};

}  // namespace

std::string regex_to_gbnf(std::string_view pattern) { return RegexConverter(pattern).convert(); }

std::string format_to_gbnf(std::string_view format) {
  static const std::string date = "[0-9]{4} \"-\" (\"0\" [1-9] | \"1\" [0-2]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])";
  static const std::string time =
      "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? "
      "([Zz] | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
  if (format == "date") return date;
  if (format == "time") return time;
  if (format == "date-time") return date + " [Tt] " + time;
  if (format == "uuid")
    return "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12}";
  if (format == "email")
    return "[a-zA-Z0-9_+-] ([a-zA-Z0-9_+.-]{0,62} [a-zA-Z0-9_+-])? \"@\" "
           "([a-zA-Z0-9] ([a-zA-Z0-9-]{0,61} [a-zA-Z0-9])? \".\"){1,4} [a-zA-Z]{2,24}";
  return "";
}

}  // namespace tandem::grammar
