#include "engine/jinja_text.h"

#include <algorithm>

#include "engine/jinja_value.h"
#include "engine/utf8.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace tandem::jinja {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

namespace {

uint32_t decode(std::string_view s, size_t& i) {
  const auto b = [&](size_t k) { return uint32_t(static_cast<unsigned char>(s[k])); };
  const uint32_t c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return 0xFFFFFFFF;  // an invalid byte: copied as it is
  }
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFFFFFF;
    }
  uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
  i += n;
  return cp;
}

std::string encode_one(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

uint32_t upper_cp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 0x20;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c & 1 ? c - 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c & 1 ? c : c - 1;
  if (c == 0x17F) return 'S';
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 0x20;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x3AC && c <= 0x3AF) return c == 0x3AC ? 0x386 : c - 0x25;
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  return c;
}

uint32_t lower_cp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x178) return 0xFF;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c & 1 ? c : c + 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c & 1 ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

std::string map_case(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const uint32_t cp = decode(s, i);
    if (cp == 0xFFFFFFFF) out += s[start];
    else if (upper && cp == 0xDF) out += "SS";
    else append_utf8(out, upper ? upper_cp(cp) : lower_cp(cp));
  }
  return out;
}

}  // namespace

std::string text_upper(std::string s) { return map_case(s, true); }

std::string text_lower(std::string s) { return map_case(s, false); }

namespace {

// Rewrites each character: fn(code point, index) returns the mapped text.
template <typename Fn>
std::string map_chars(std::string_view s, Fn fn) {
  std::string out;
  out.reserve(s.size());
  size_t index = 0;
  for (size_t i = 0; i < s.size(); ++index) {
    const size_t start = i;
    const uint32_t cp = decode(s, i);
    if (cp == 0xFFFFFFFF) out += s[start];
    else out += fn(cp, index);
  }
  return out;
}

std::string as_upper(uint32_t cp) { return map_case(std::string_view(encode_one(cp)), true); }
std::string as_lower(uint32_t cp) { return encode_one(lower_cp(cp)); }
bool is_cased(uint32_t cp) { return upper_cp(cp) != cp || lower_cp(cp) != cp || cp == 0xDF; }

}  // namespace

std::string py_capitalize(const std::string& s) {
  return map_chars(s, [](uint32_t cp, size_t i) { return i == 0 ? as_upper(cp) : as_lower(cp); });
}

std::string py_title(const std::string& s) {
  bool prev_cased = false;
  return map_chars(s, [&](uint32_t cp, size_t) {
    std::string r = prev_cased ? as_lower(cp) : as_upper(cp);
    prev_cased = is_cased(cp);
    return r;
  });
}

std::string jinja_title(const std::string& s) {
  bool word_start = true;
  return map_chars(s, [&](uint32_t cp, size_t) {
    if (cp < 0x80 && (is_ws(char(cp)) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<')) {
      word_start = true;
      return encode_one(cp);
    }
    std::string r = word_start ? as_upper(cp) : as_lower(cp);
    word_start = false;
    return r;
  });
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right) {
  auto strip_it = [&](char c) { return chars ? chars->find(c) != std::string::npos : is_ws(c); };
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && strip_it(s[b])) ++b;
  if (right)
    while (e > b && strip_it(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string py_replace(const std::string& s, const std::string& old_text, const std::string& new_text, int64_t count) {
  size_t hits = old_text.empty() ? s.size() + 1 : 0;
  for (size_t p = old_text.empty() ? std::string::npos : s.find(old_text); p != std::string::npos;
       p = s.find(old_text, p + old_text.size()))
    ++hits;
  if (count >= 0) hits = std::min(hits, size_t(count));
  check_size(s.size() + hits * new_text.size());
  std::string out;
  if (old_text.empty()) {
    int64_t done = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      if (i < s.size()) out += s[i];
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old_text, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += new_text;
    pos = hit + old_text.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> parts;
  if (sep) {
    if (from_right) {
      size_t end = s.size();
      while (maxsplit < 0 || int64_t(parts.size()) < maxsplit) {
        const size_t hit = end >= sep->size() ? s.rfind(*sep, end - sep->size()) : std::string::npos;
        if (hit == std::string::npos) break;
        parts.insert(parts.begin(), s.substr(hit + sep->size(), end - hit - sep->size()));
        end = hit;
      }
      parts.insert(parts.begin(), s.substr(0, end));
      return parts;
    }
    size_t pos = 0;
    while (maxsplit < 0 || int64_t(parts.size()) < maxsplit) {
      const size_t hit = s.find(*sep, pos);
      if (hit == std::string::npos) break;
      parts.push_back(s.substr(pos, hit - pos));
      pos = hit + sep->size();
    }
    parts.push_back(s.substr(pos));
    return parts;
  }
  // Whitespace: runs of it separate words, and there are no empty words.
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size()) break;
    if (maxsplit >= 0 && int64_t(parts.size()) == maxsplit && !from_right) {
      parts.push_back(std::string(trim_ws(std::string_view(s).substr(i))));
      break;
    }
    size_t j = i;
    while (j < s.size() && !is_ws(s[j])) ++j;
    parts.push_back(s.substr(i, j - i));
    i = j;
  }
  return parts;
}

std::vector<std::string> py_splitlines(const std::string& s) {
  std::vector<std::string> lines;
  size_t b = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) {
      lines.push_back(s.substr(b, i - b));
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      b = i + 1;
    }
  }
  if (b < s.size()) lines.push_back(s.substr(b));
  return lines;
}

std::optional<int64_t> parse_py_int(std::string_view s) {
  s = trim_ws(s);
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1])))
      continue;
    digits += s[i];
  }
  if (!digits.empty() && digits[0] == '+') digits.erase(0, 1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_py_float(std::string_view s) {
  const std::string t(trim_ws(s));
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  const std::string low = text_lower(t);
  if (low.find("0x") != std::string::npos) return std::nullopt;
  return d;
}

}  // namespace tandem::jinja
