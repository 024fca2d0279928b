// The name and place lists (data/pii, compiled in): given names, surnames and places of many
// languages, and those of them that are also common words. Looked up by the lower-case form of a
// word; internal to src/privacy. Built once on first use (thread-safe static initialisation).
#pragma once
#include <string>
#include <string_view>
#include <unordered_set>

namespace tandem::privacy::detail {

// The words of a compiled-in list, split at `sep`, as views into it (no copy of the strings).
using WordSet = std::unordered_set<std::string_view>;
WordSet split_words(std::string_view all, char sep);

// Lower case of a UTF-8 word (full Unicode case folding of letters: "MÜLLER" -> "müller").
std::string lower_word(std::string_view word);

// Each takes a lower-case word (or, for places, a lower-case sequence of words joined by one space).
bool is_given_name(std::string_view lower);
bool is_surname(std::string_view lower);
bool is_place(std::string_view lower);
bool is_common_word(std::string_view lower);  // a listed name or place that is also a common word

}  // namespace tandem::privacy::detail
