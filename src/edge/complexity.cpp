#include "edge/complexity.h"

#include <cctype>

namespace tandem::edge {

namespace {
std::string lower(const std::string& s) {
  std::string o = s;
  for (char& c : o) c = char(std::tolower(static_cast<unsigned char>(c)));
  return o;
}
}  // namespace

std::vector<std::string> match_categories(const std::string& text,
                                          const std::map<std::string, std::vector<std::string>>& keywords) {
  const std::string t = lower(text);
  std::vector<std::string> out;
  for (const auto& [cat, words] : keywords)
    for (const auto& w : words)
      if (!w.empty() && t.find(lower(w)) != std::string::npos) {
        out.push_back(cat);
        break;
      }
  return out;
}

}  // namespace tandem::edge
