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
const char* kZeroFraction = "(\".\" \"0\"{1,16})";
const char* kNonzeroFraction = "(\".\" \"0\"{0,15} [1-9] [0-9]{0,15})";

// Magnitudes m = I.F >= 0 with lo < m (or <=) and m < hi (or <=); lo, hi whole and >= 0.
std::string magnitude_range(int64_t lo, bool lo_inc, std::optional<int64_t> hi, bool hi_inc) {
  if (hi && lo > *hi) return "";
  std::vector<std::string> alts;
  const int64_t top = hi.value_or(kMaxMagnitude + 1);
  if (lo == top) {
    if (lo_inc && hi_inc) alts.push_back(gbnf_literal(std::to_string(lo)) + " " + kZeroFraction + "?");
  } else {
    alts.push_back(gbnf_literal(std::to_string(lo)) + " " + (lo_inc ? std::string(kFraction) + "?" : kNonzeroFraction));
    if (lo + 1 <= std::min(top - 1, kMaxMagnitude))
      alts.push_back(natural_range(lo + 1, std::min(top - 1, kMaxMagnitude)) + " " + kFraction + "?");
    if (hi && hi_inc) alts.push_back(gbnf_literal(std::to_string(*hi)) + " " + kZeroFraction + "?");
  }
  if (alts.empty()) return "";
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

}  // namespace

std::string number_range(std::optional<int64_t> lo, bool lo_inc, std::optional<int64_t> hi, bool hi_inc) {
  for (auto* v : {&lo, &hi})
    if (*v && (**v > kMaxMagnitude || **v < -kMaxMagnitude)) throw Error("number bound beyond 16 digits");
  std::vector<std::string> alts;
  // x >= 0 part: m in [max(lo, 0), hi].
  if (!hi || *hi > 0 || (*hi == 0 && hi_inc)) {
    const bool from_lo = lo && *lo >= 0;
    const std::string m = magnitude_range(from_lo ? *lo : 0, from_lo ? lo_inc : true, hi, hi_inc);
    if (!m.empty()) alts.push_back(m);
  }
  // x < 0 part: m = -x in (max(-hi, 0), -lo].
  if (!lo || *lo < 0) {
    const bool from_hi = hi && *hi < 0;
    std::optional<int64_t> top;
    if (lo) top = -*lo;
    const std::string m = magnitude_range(from_hi ? -*hi : 0, from_hi ? hi_inc : false, top, lo_inc);
    if (!m.empty()) alts.push_back("\"-\" " + m);
  }
  if (alts.empty()) throw Error("the number range is empty");
  return alts.size() == 1 ? alts[0] : "(" + alts[0] + " | " + alts[1] + ")";
}

}  // namespace tandem::grammar
