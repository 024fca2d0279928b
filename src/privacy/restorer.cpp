#include "privacy/restorer.h"

#include <nlohmann/json.hpp>

namespace tandem::privacy {

namespace {

bool placeholder_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

std::string json_string_content(std::string_view v) {
  const std::string quoted = nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::string StreamRestorer::feed(std::string_view chunk) {
  pending_.append(chunk);
  std::string out;
  size_t i = 0, n = pending_.size();
  while (i < n) {
    size_t open = pending_.find('[', i);
    if (open == std::string::npos) {
      out.append(pending_, i, n - i);
      i = n;
      break;
    }
    out.append(pending_, i, open - i);
    // Scan what could be a placeholder: '[' then [A-Z0-9_]* then ']', within the length bound.
    size_t j = open + 1;
    while (j < n && j - open < kMaxPlaceholderLength && placeholder_char(pending_[j])) ++j;
    if (j == n && j - open < kMaxPlaceholderLength) {  // undecided until more text comes
      i = open;
      break;
    }
    if (j < n && pending_[j] == ']') {
      std::string_view token(pending_.data() + open, j + 1 - open);
      auto value = map_.value_of(token);
      if (!value) out.append(token);
      else out.append(as_ == RestoreAs::JsonStringContent ? json_string_content(*value) : *value);
      i = j + 1;
    } else {
      out += '[';  // not a placeholder; what follows is scanned again (it may hold a '[')
      i = open + 1;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamRestorer::flush() {
  std::string out = std::move(pending_);
  pending_.clear();
  return out;
}

std::string restore(std::string_view answer, const PlaceholderMap& map) {
  StreamRestorer r(map);
  std::string out = r.feed(answer);
  return out + r.flush();
}

}  // namespace tandem::privacy
