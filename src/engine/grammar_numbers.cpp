// Decimal ranges as grammars: a range of same-length digit strings splits on its first digit
// into (low digit, rest >= low rest) | (middle digits, anything) | (high digit, rest <= high rest).
#include <algorithm>

#include "engine/grammar_schema.h"
#include "format/error.h"

namespace tandem::grammar {

std::string gbnf_literal(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

namespace {

constexpr int64_t kMaxMagnitude = 9999999999999999;  // kMaxDigits nines

std::string digit_class(char lo, char hi) {
  if (lo == hi) return std::string("\"") + lo + "\"";
  return std::string("[") + lo + "-" + hi + "]";
}

std::string any_digits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Digit strings of equal length from lo to hi (lo <= hi).
std::string same_length(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return "";
  if (lo == hi) return gbnf_literal(lo);
  const size_t rest = lo.size() - 1;
  const std::string lo_rest = lo.substr(1), hi_rest = hi.substr(1);
  if (lo[0] == hi[0]) return std::string("\"") + lo[0] + "\" " + same_length(lo_rest, hi_rest);
  const bool lo_full = lo_rest == std::string(rest, '0'), hi_full = hi_rest == std::string(rest, '9');
  std::vector<std::string> alts;
  char mid_lo = char(lo[0] + 1), mid_hi = char(hi[0] - 1);
  if (lo_full) mid_lo = lo[0];
  else alts.push_back(std::string("\"") + lo[0] + "\" (" + same_length(lo_rest, std::string(rest, '9')) + ")");
  if (hi_full) mid_hi = hi[0];
  if (mid_lo <= mid_hi) alts.push_back(digit_class(mid_lo, mid_hi) + " " + any_digits(rest));
  if (!hi_full) alts.push_back(std::string("\"") + hi[0] + "\" (" + same_length(std::string(rest, '0'), hi_rest) + ")");
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// Non-negative integers in [lo, hi], lo <= hi <= kMaxMagnitude.
std::string natural_range(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  std::string l = std::to_string(lo), h = std::to_string(hi);
  for (size_t len = l.size(); len <= h.size(); ++len) {
    const std::string a = len == l.size() ? l : (len == 1 ? "0" : "1" + std::string(len - 1, '0'));
    const std::string b = len == h.size() ? h : std::string(len, '9');
    alts.push_back(same_length(a, b));
  }
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

}  // namespace

std::string integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  const int64_t a = std::max<int64_t>(lo.value_or(-kMaxMagnitude), -kMaxMagnitude);
  const int64_t b = std::min<int64_t>(hi.value_or(kMaxMagnitude), kMaxMagnitude);
  if (a > b) throw Error("the integer range [" + std::to_string(a) + ", " + std::to_string(b) + "] is empty");
  std::vector<std::string> alts;
  if (a < 0) alts.push_back("\"-\" " + natural_range(std::max<int64_t>(1, -b), -a));
  if (b >= 0) alts.push_back(natural_range(std::max<int64_t>(0, a), b));
  return alts.size() == 1 ? alts[0] : "(" + alts[0] + " | " + alts[1] + ")";
}

namespace {

const char* kFraction = "(\".\" [0-9]{1,16})";
const char* kNonzeroFraction = "(\".\" \"0\"{0,15} [1-9] [0-9]{0,15})";

std::string join_alts(const std::vector<std::string>& alts) {
  if (alts.empty()) return "";
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// Fraction digit strings D (at most n digits) with 0.D >= 0.f (> when !inclusive); "" if none.
std::string digits_at_least(const std::string& f, bool inclusive, int n) {
  if (f.empty()) {
    if (inclusive) return n > 0 ? "[0-9]{0," + std::to_string(n) + "}" : "\"\"";
    return n > 0 ? "(\"0\"{0," + std::to_string(n - 1) + "} [1-9] [0-9]{0," + std::to_string(n - 1) + "})" : "";
  }
  if (n == 0) return "";
  std::vector<std::string> alts;
  const char d = f[0];
  if (d < '9') alts.push_back(std::string("[") + char(d + 1) + "-9] [0-9]{0," + std::to_string(n - 1) + "}");
  const std::string rest = digits_at_least(f.substr(1), inclusive, n - 1);
  if (!rest.empty()) alts.push_back(std::string("\"") + d + "\" " + rest);
  return join_alts(alts);
}

// Fraction digit strings D (at most n digits) with 0.D <= 0.f (< when !inclusive); "" if none.
std::string digits_at_most(const std::string& f, bool inclusive, int n) {
  if (f.empty()) return inclusive ? "\"0\"{0," + std::to_string(n) + "}" : "";
  if (n == 0) return "";
  std::vector<std::string> alts;
  const char d = f[0];
  if (d > '0') alts.push_back(std::string("[0-") + char(d - 1) + "] [0-9]{0," + std::to_string(n - 1) + "}");
  const std::string rest = digits_at_most(f.substr(1), inclusive, n - 1);
  // D may stop after d: below f when f goes on (it has no trailing zeros).
  if (!rest.empty()) alts.push_back(std::string("\"") + d + "\" " + (f.size() > 1 ? "(" + rest + ")?" : rest));
  else if (f.size() > 1) alts.push_back(std::string("\"") + d + "\"");
  return join_alts(alts);
}

bool less(const Decimal& a, const Decimal& b) {
  if (a.whole != b.whole) return a.whole < b.whole;
  return a.frac < b.frac;  // no trailing zeros: string order is numeric order
}

// Magnitudes m = I.F >= 0 with lo < m (or <=) and m < hi (or <=), lo and hi >= 0.
std::string magnitude_range(const Decimal& lo, bool lo_inc, const std::optional<Decimal>& hi, bool hi_inc) {
  if (hi && (less(*hi, lo) || (!less(lo, *hi) && !(lo_inc && hi_inc)))) return "";
  std::vector<std::string> alts;
  const std::string lo_i = gbnf_literal(std::to_string(lo.whole));
  if (hi && hi->whole == lo.whole) {
    if (!lo.frac.empty() || !lo_inc)
      throw Error("number bounds with the same whole part and a fraction are not supported");
    const std::string frac = digits_at_most(hi->frac, hi_inc, 16);
    const bool bare = hi_inc || !hi->frac.empty();
    alts.push_back(lo_i + (frac.empty() ? "" : " (\".\" " + frac + ")" + (bare ? "?" : "")));
    return join_alts(alts);
  }
  const std::string ge = lo.frac.empty() ? (lo_inc ? std::string(kFraction) + "?" : kNonzeroFraction)
                                         : "\".\" " + digits_at_least(lo.frac, lo_inc, 16);
  alts.push_back(lo_i + " " + ge);
  const int64_t top = hi ? hi->whole : kMaxMagnitude + 1;
  if (lo.whole + 1 <= std::min(top - 1, kMaxMagnitude))
    alts.push_back(natural_range(lo.whole + 1, std::min(top - 1, kMaxMagnitude)) + " " + kFraction + "?");
  if (hi) {
    const std::string frac = digits_at_most(hi->frac, hi_inc, 16);
    const bool bare = hi_inc || !hi->frac.empty();  // the whole number itself, hi.whole <= hi
    if (bare || !frac.empty())
      alts.push_back(gbnf_literal(std::to_string(hi->whole)) +
                     (frac.empty() ? "" : " (\".\" " + frac + ")" + (bare ? "?" : "")));
  }
  return join_alts(alts);
}

}  // namespace

Decimal Decimal::parse(const std::string& text) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') d.negative = true, ++i;
  const size_t dot = text.find('.');
  const std::string whole = text.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
  if (whole.empty() || whole.size() > 16 || whole.find_first_not_of("0123456789") != std::string::npos)
    throw Error("number bound " + text + ": only plain decimals of at most 16 digits are supported");
  d.whole = std::stoll(whole);
  if (dot != std::string::npos) d.frac = text.substr(dot + 1);
  if (d.frac.size() > 16 || d.frac.find_first_not_of("0123456789") != std::string::npos)
    throw Error("number bound " + text + ": only plain decimals of at most 16 digits are supported");
  while (!d.frac.empty() && d.frac.back() == '0') d.frac.pop_back();
  if (d.whole == 0 && d.frac.empty()) d.negative = false;
  return d;
}

std::string number_range(const std::optional<Decimal>& lo, bool lo_inc, const std::optional<Decimal>& hi,
                         bool hi_inc) {
  auto flip = [](Decimal d) {
    d.negative = !d.negative;
    return d;
  };
  const Decimal zero;
  std::vector<std::string> alts;
  // x >= 0: magnitudes from max(lo, 0) up to hi.
  if (!hi || !hi->negative) {
    const bool from_lo = lo && !lo->negative;
    const std::string m = magnitude_range(from_lo ? *lo : zero, from_lo ? lo_inc : true, hi, hi_inc);
    if (!m.empty()) alts.push_back(m);
  }
  // x < 0: m = -x from max(-hi, 0) (exclusive at 0) up to -lo.
  if (!lo || lo->negative) {
    const bool from_hi = hi && hi->negative;
    std::optional<Decimal> top;
    if (lo) top = flip(*lo);
    const std::string m = magnitude_range(from_hi ? flip(*hi) : zero, from_hi ? hi_inc : false, top, lo_inc);
    if (!m.empty()) alts.push_back("\"-\" " + m);
  }
  if (alts.empty()) throw Error("the number range is empty");
  return alts.size() == 1 ? alts[0] : "(" + alts[0] + " | " + alts[1] + ")";
}

}  // namespace tandem::grammar
