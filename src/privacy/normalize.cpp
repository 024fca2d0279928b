#include "privacy/normalize.h"

#include <algorithm>
#include <iterator>

namespace tandem::privacy {

namespace {

enum class Fold : uint8_t {
  Remove,  // invisible: no folded bytes
  To,      // one ASCII character (`ch`)
  Shift,   // full-width ASCII: cp - 0xFEE0
  Digit,   // a run of ten decimal digits starting at `lo` (repeating, for the mathematical sets)
};

struct FoldRange {
  uint32_t lo, hi;
  Fold fold;
  char ch;
};

// Sorted by code point, not overlapping.
constexpr FoldRange kFolds[] = {
    {0x00A0, 0x00A0, Fold::To, ' '},        // no-break space
    {0x00AD, 0x00AD, Fold::Remove, 0},      // soft hyphen
    {0x034F, 0x034F, Fold::Remove, 0},      // combining grapheme joiner
    {0x061C, 0x061C, Fold::Remove, 0},      // Arabic letter mark
    {0x0660, 0x0669, Fold::Digit, 0},       // Arabic-Indic digits
    {0x06F0, 0x06F9, Fold::Digit, 0},       // extended Arabic-Indic digits
    {0x0966, 0x096F, Fold::Digit, 0},       // Devanagari digits
    {0x1680, 0x1680, Fold::To, ' '},        // Ogham space mark
    {0x180E, 0x180E, Fold::Remove, 0},      // Mongolian vowel separator
    {0x2000, 0x200A, Fold::To, ' '},        // en quad .. hair space (figure, thin, ...)
    {0x200B, 0x200F, Fold::Remove, 0},      // zero-width space, non-joiner, joiner, LRM, RLM
    {0x2010, 0x2015, Fold::To, '-'},        // hyphen, non-breaking hyphen, figure/en/em dash, bar
    {0x2024, 0x2024, Fold::To, '.'},        // one dot leader
    {0x202A, 0x202E, Fold::Remove, 0},      // bidirectional embeddings and overrides
    {0x202F, 0x202F, Fold::To, ' '},        // narrow no-break space
    {0x2043, 0x2043, Fold::To, '-'},        // hyphen bullet
    {0x205F, 0x205F, Fold::To, ' '},        // medium mathematical space
    {0x2060, 0x2064, Fold::Remove, 0},      // word joiner, invisible operators
    {0x2066, 0x206F, Fold::Remove, 0},      // bidirectional isolates, deprecated format controls
    {0x2212, 0x2212, Fold::To, '-'},        // minus sign
    {0x3000, 0x3000, Fold::To, ' '},        // ideographic space
    {0xFE52, 0xFE52, Fold::To, '.'},        // small full stop
    {0xFE58, 0xFE58, Fold::To, '-'},        // small em dash
    {0xFE63, 0xFE63, Fold::To, '-'},        // small hyphen-minus
    {0xFE6B, 0xFE6B, Fold::To, '@'},        // small commercial at
    {0xFEFF, 0xFEFF, Fold::Remove, 0},      // zero-width no-break space (BOM)
    {0xFF01, 0xFF5E, Fold::Shift, 0},       // full-width ASCII
    {0x1D7CE, 0x1D7FF, Fold::Digit, 0},     // mathematical digits (bold, double-struck, ...)
    {0xE0000, 0xE007F, Fold::Remove, 0},    // tag characters
};

const FoldRange* find_fold(uint32_t cp) {
  if (cp < 0xA0) return nullptr;
  const auto it = std::upper_bound(std::begin(kFolds), std::end(kFolds), cp,
                                   [](uint32_t c, const FoldRange& r) { return c < r.lo; });
  if (it == std::begin(kFolds)) return nullptr;
  const FoldRange* r = std::prev(it);
  return cp <= r->hi ? r : nullptr;
}

// The code point at s[i] and its length; text is valid UTF-8.
uint32_t decode(std::string_view s, size_t i, size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { len = 1; return c; }
  len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

}  // namespace

std::pair<size_t, size_t> NormalizedText::original_span(size_t start, size_t end) const {
  if (!changed) return {start, end};
  if (start >= end || start >= text.size()) {
    const size_t at = start < origin_start.size() ? origin_start[start] : (origin_end.empty() ? 0 : origin_end.back());
    return {at, at};
  }
  end = std::min(end, text.size());
  return {origin_start[start], origin_end[end - 1]};
}

NormalizedText normalize_for_detection(std::string_view in) {
  NormalizedText out;
  // Most texts have nothing to fold: one scan for a byte that could start a folded character.
  bool any = false;
  for (size_t i = 0; i < in.size() && !any;) {
    size_t len = 1;
    const uint32_t cp = decode(in, i, len);
    any = find_fold(cp) != nullptr;
    i += len;
  }
  if (!any) {
    out.text = std::string(in);
    return out;
  }
  out.changed = true;
  out.text.reserve(in.size());
  out.origin_start.reserve(in.size());
  out.origin_end.reserve(in.size());
  auto put = [&](char ch, size_t from, size_t to) {
    out.text += ch;
    out.origin_start.push_back(uint32_t(from));
    out.origin_end.push_back(uint32_t(to));
  };
  for (size_t i = 0; i < in.size();) {
    size_t len = 1;
    const uint32_t cp = decode(in, i, len);
    const FoldRange* r = find_fold(cp);
    if (!r) {
      for (size_t k = 0; k < len; ++k) put(in[i + k], i, i + len);
    } else if (r->fold == Fold::To) {
      put(r->ch, i, i + len);
    } else if (r->fold == Fold::Shift) {
      put(char(cp - 0xFEE0), i, i + len);
    } else if (r->fold == Fold::Digit) {
      put(char('0' + (cp - r->lo) % 10), i, i + len);
    }
    i += len;
  }
  return out;
}

}  // namespace tandem::privacy
