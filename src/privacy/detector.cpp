#include "privacy/detector.h"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "privacy/normalize.h"
#include "privacy/recognizers.h"
#include "privacy/tagger.h"

namespace tandem::privacy {

std::string sanitize_utf8(std::string_view text) {
  std::string out(text);
  auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len = 0;
    uint32_t min = 0, cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      i += len;
    } else {
      out[i] = '?';
      ++i;
    }
  }
  return out;
}

std::vector<Finding> resolve_overlaps(std::vector<Finding> findings) {
  auto contains = [](const Finding& outer, const Finding& inner) {
    return outer.start <= inner.start && inner.end <= outer.end && outer.length() > inner.length();
  };
  // Drop findings swallowed by a longer one of comparable confidence.
  std::vector<Finding> kept;
  for (size_t i = 0; i < findings.size(); ++i) {
    bool swallowed = false;
    for (size_t j = 0; j < findings.size() && !swallowed; ++j)
      swallowed = j != i && contains(findings[j], findings[i]) && findings[j].confidence >= findings[i].confidence - 0.25;
    if (!swallowed) kept.push_back(findings[i]);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Finding& a, const Finding& b) {
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return a.length() > b.length();
  });
  std::vector<Finding> out;
  for (const Finding& f : kept) {
    bool overlaps = false;
    for (const Finding& o : out) overlaps = overlaps || (f.start < o.end && o.start < f.end);
    if (!overlaps && f.end > f.start) out.push_back(f);
  }
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.start < b.start; });
  return out;
}

Detector::Detector(DetectorOptions options) : options_(std::move(options)) {
  // The name and place lists, the word model and the patterns are built on first use (tens of
  // milliseconds, far more under sanitizers): the first detector made pays for that here, not
  // inside the first request's deadline.
  static std::once_flag warmed;
  std::call_once(warmed, [this] {
    (void)detect("Hi, my name is Anna Kowalczyk, born 3 March 1990 (DOB 03.03.1990). I live at 12 Main Street, "
                 "Springfield and moved to Lyon; ich wohne in Köln. Call +1 415 555 0100 or anna@example.com, "
                 "IBAN DE89 3704 0044 0532 0130 00. Patient: Priya Raman. Thanks a lot, Jurgen!");
  });
}

bool Detector::wanted(PiiType t) const {
  return options_.types.empty() || std::find(options_.types.begin(), options_.types.end(), t) != options_.types.end();
}

std::vector<Finding> Detector::candidates(std::string_view raw, std::optional<Clock::time_point> deadline) const {
  // Patterns run on the folded text (full-width digits, other spaces and dashes, no invisible
  // characters); findings are mapped back to spans of the original bytes.
  const NormalizedText folded = normalize_for_detection(sanitize_utf8(raw));
  std::string_view text = folded.text;
  auto check = [&] {
    if (deadline && Clock::now() > *deadline) throw DeadlineExceeded();
  };
  detail::Findings out;
  check();
  detail::find_emails_urls(text, out);
  detail::find_network(text, out);
  check();
  detail::find_financial(text, out);
  detail::find_us_ids(text, out);
  check();
  detail::find_phones(text, options_.phone_regions, out);
  check();
  detail::find_dates(text, out);
  detail::find_addresses(text, out);
  check();
  detail::find_persons(text, out);
  check();
  if (options_.use_tagger) {
    // The tagger adds the persons and places it is sure of to the recognizers'. It does not
    // remove theirs: its O on a recognizer's name is not sure enough (on hand-written messages
    // it would drop "my father, Edmund Whitaker" and "We just relocated to Melbourne").
    for (const Finding& f : tag_entities(builtin_tagger_model(), text, out))
      if (f.confidence >= options_.tagger_min_confidence) out.push_back(f);
    check();
  }
  std::vector<Finding> wanted_only;
  for (Finding f : out) {
    if (!wanted(f.type)) continue;
    std::tie(f.start, f.end) = folded.original_span(f.start, f.end);
    wanted_only.push_back(f);
  }
  return wanted_only;
}

std::vector<Finding> Detector::detect(std::string_view text, std::optional<Clock::time_point> deadline) const {
  std::vector<Finding> confident;
  for (const Finding& f : candidates(text, deadline))
    if (f.confidence >= options_.min_confidence) confident.push_back(f);
  return resolve_overlaps(std::move(confident));
}

}  // namespace tandem::privacy
