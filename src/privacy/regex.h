// A compiled PCRE2 pattern (UTF + UCP, JIT) for the detector: all matches of a text, with their
// capture groups as byte spans. Matching is bounded (match and depth limits), so a pathological
// text raises tandem::Error instead of running away; the guard turns that into "keep local".
#pragma once
#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>

namespace tandem::privacy {

class Regex {
 public:
  // Throws tandem::Error naming the pattern when it does not compile.
  explicit Regex(std::string_view pattern, bool caseless = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // A match: group 0 is the whole match; an unset group is {npos, npos}.
  struct Match {
    static constexpr size_t kMaxGroups = 10;
    std::pair<size_t, size_t> group[kMaxGroups];
    int count = 0;
    size_t start(int g = 0) const { return group[g].first; }
    size_t end(int g = 0) const { return group[g].second; }
    bool has(int g) const { return g < count && group[g].first != std::string_view::npos; }
  };

  // Calls on_match for each non-overlapping match, left to right. text must be valid UTF-8
  // (the detector makes it so).
  void for_each(std::string_view text, const std::function<void(const Match&)>& on_match) const;

 private:
  void* code_ = nullptr;   // pcre2_code_8*
  void* mctx_ = nullptr;   // pcre2_match_context_8*
};

}  // namespace tandem::privacy
