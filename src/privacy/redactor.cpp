#include "privacy/redactor.h"

#include "format/error.h"

namespace tandem::privacy {

namespace {

std::string normalise(PiiType t, std::string_view value) {
  std::string out;
  switch (t) {
    case PiiType::Email: case PiiType::Url: case PiiType::MacAddress: case PiiType::IpAddress:
      for (char c : value) out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
      return out;
    case PiiType::Phone: case PiiType::CreditCard: case PiiType::Iban: case PiiType::UsSsn: case PiiType::UsItin:
    case PiiType::Passport:
      for (char c : value) {
        if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '+') out += c;
      }
      if (t == PiiType::Phone && out.rfind("00", 0) == 0) out = "+" + out.substr(2);
      return out;
    default:
      return std::string(value);
  }
}

}  // namespace

std::string PlaceholderMap::placeholder_for(PiiType t, std::string_view value) {
  auto key = std::make_pair(t, normalise(t, value));
  auto it = by_value_.find(key);
  if (it != by_value_.end()) return it->second;
  int n = ++next_[static_cast<size_t>(t)];
  std::string ph = "[" + std::string(pii_type_name(t)) + "_" + std::to_string(n) + "]";
  by_value_.emplace(std::move(key), ph);
  by_placeholder_.emplace(ph, std::string(value));
  return ph;
}

std::optional<std::string_view> PlaceholderMap::value_of(std::string_view placeholder) const {
  auto it = by_placeholder_.find(std::string(placeholder));
  if (it == by_placeholder_.end()) return std::nullopt;
  return std::string_view(it->second);
}

void PlaceholderMap::clear() {
  by_value_.clear();
  by_placeholder_.clear();
  next_ = {};
}

Redaction redact(std::string_view text, const std::vector<Finding>& findings, PlaceholderMap& map) {
  Redaction r;
  size_t pos = 0;
  for (const Finding& f : findings) {
    if (f.start < pos || f.end > text.size() || f.end <= f.start)
      throw Error("privacy: redact() needs sorted, non-overlapping findings inside the text");
    r.text.append(text.substr(pos, f.start - pos));
    r.text += map.placeholder_for(f.type, text.substr(f.start, f.end - f.start));
    ++r.counts[f.type];
    pos = f.end;
  }
  r.text.append(text.substr(pos));
  return r;
}

bool is_placeholder(std::string_view s) {
  if (s.size() < 5 || s.size() > kMaxPlaceholderLength || s.front() != '[' || s.back() != ']') return false;
  size_t us = s.rfind('_');
  if (us == std::string_view::npos || us < 2 || us + 2 > s.size() - 1) return false;
  for (size_t i = 1; i < us; ++i)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_')) return false;
  for (size_t i = us + 1; i + 1 < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return pii_type_from_name(s.substr(1, us - 1)).has_value();
}

}  // namespace tandem::privacy
