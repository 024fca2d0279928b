// Folds the Unicode look-alikes that hide personal data from ASCII patterns, before detection:
// full-width ASCII (U+FF01–FF5E, U+3000), the other spaces (no-break, narrow no-break, thin, ...)
// to ' ', the hyphens, dashes and minus signs to '-', other scripts' and mathematical decimal
// digits to 0–9, and removes invisible characters (zero-width space/joiners, word joiner, BOM,
// soft hyphen, bidirectional controls). A table of compatibility forms, not full NFKC: only what
// can stand for the characters the recognizers look for.
//
// Each byte of the folded text knows the original bytes it came from, so a finding in the folded
// text maps back to an original span that covers everything between its first and last
// character, the removed invisible characters included.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::privacy {

struct NormalizedText {
  std::string text;
  // For each byte of `text`: the original offset where its character starts, and where it ends.
  std::vector<uint32_t> origin_start, origin_end;
  bool changed = false;  // false: text equals the input and spans need no mapping

  // The original [start, end) of the folded span [start, end) (an empty span maps to an empty one).
  std::pair<size_t, size_t> original_span(size_t start, size_t end) const;
};

// `text` must be valid UTF-8 (sanitize_utf8 first).
NormalizedText normalize_for_detection(std::string_view text);

}  // namespace tandem::privacy
