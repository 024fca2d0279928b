#include "privacy/lexicon.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <unordered_set>

namespace tandem::privacy::detail {

// The generated pii_data.cpp: one entry a line, lower case.
extern const std::string_view kList_given_names;
extern const std::string_view kList_surnames;
extern const std::string_view kList_places;
extern const std::string_view kList_word_names;

namespace {

// One entry a line.
WordSet load(std::string_view all) { return split_words(all, '\n'); }

}  // namespace

WordSet split_words(std::string_view all, char sep) {
  WordSet set;
  set.reserve(all.size() / 8);
  size_t i = 0;
  while (i < all.size()) {
    size_t j = all.find(sep, i);
    if (j == std::string_view::npos) j = all.size();
    if (j > i) set.insert(all.substr(i, j - i));
    i = j + 1;
  }
  return set;
}

std::string lower_word(std::string_view word) {
  bool ascii = true;
  for (char c : word) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(word);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
  }
  std::string out;
  icu::UnicodeString::fromUTF8(icu::StringPiece(word.data(), int32_t(word.size()))).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

bool is_given_name(std::string_view lower) {
  static const WordSet s = load(kList_given_names);
  return s.count(lower) > 0;
}

bool is_surname(std::string_view lower) {
  static const WordSet s = load(kList_surnames);
  return s.count(lower) > 0;
}

bool is_place(std::string_view lower) {
  static const WordSet s = load(kList_places);
  return s.count(lower) > 0;
}

bool is_common_word(std::string_view lower) {
  static const WordSet s = load(kList_word_names);
  return s.count(lower) > 0;
}

}  // namespace tandem::privacy::detail
