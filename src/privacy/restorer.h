// Puts the original values back into an answer that contains placeholders, also when the answer
// arrives in chunks (a stream) and a placeholder is split across them: feed() returns what can
// be shown now and holds back only a tail that could still become a placeholder ("[EMA"), up to
// kMaxPlaceholderLength bytes; flush() returns the rest at the end of the stream. Placeholders the
// map does not know, and anything placeholder-like that is not one, pass through unchanged.
#pragma once
#include <string>
#include <string_view>

#include "privacy/redactor.h"

namespace tandem::privacy {

// How a value goes back: as it was, or escaped as the content of a JSON string (an answer
// constrained to JSON carries its placeholders inside strings; a value with '"' or '\\' written
// raw would break it).
enum class RestoreAs { Text, JsonStringContent };

class StreamRestorer {
 public:
  // The map must outlive the restorer (it is the conversation's).
  explicit StreamRestorer(const PlaceholderMap& map, RestoreAs as = RestoreAs::Text) : map_(map), as_(as) {}

  std::string feed(std::string_view chunk);
  std::string flush();

  // Bytes held back right now (tests: never more than kMaxPlaceholderLength - 1).
  size_t pending() const { return pending_.size(); }

 private:
  const PlaceholderMap& map_;
  RestoreAs as_;
  std::string pending_;
};

// The whole answer at once.
std::string restore(std::string_view answer, const PlaceholderMap& map);

}  // namespace tandem::privacy
