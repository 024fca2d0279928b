// The PII detector: candidate patterns per type, validated (Luhn, mod-97, base58check, bech32,
// libphonenumber, calendar and range checks), scored with context cues, overlaps resolved.
// Thread-safe: detect() is const and may run on many threads at once.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/error.h"
#include "privacy/pii_types.h"

namespace tandem::privacy {

using Clock = std::chrono::steady_clock;

// Raised by detect() when its deadline passes; the guard treats it like any other failure.
class DeadlineExceeded : public Error {
 public:
  DeadlineExceeded() : Error("privacy: PII detection ran past its deadline") {}
};

struct DetectorOptions {
  // Regions tried for phone numbers written without a country code (+49 ...), in this order.
  std::vector<std::string> phone_regions = {"US", "GB", "DE", "FR", "ES", "IT", "NL", "AT", "CH"};
  // Findings below this confidence are dropped (candidates without a checksum or cue score lower).
  double min_confidence = 0.5;
  // Types to look for; empty means all.
  std::vector<PiiType> types;
  // PERSON and ADDRESS also where the token tagger (tagger.h, the recognizers' candidates among
  // its features) finds them with at least tagger_min_confidence; false: the recognizers alone
  // (what the tagger is trained beside).
  bool use_tagger = true;
  double tagger_min_confidence = 0.6;
};

class Detector {
 public:
  explicit Detector(DetectorOptions options = {});

  // Findings sorted by start, non-overlapping, each at or above min_confidence. The text may be
  // any bytes (invalid UTF-8 is scanned as if each bad byte were '?'); look-alike characters are
  // folded first (normalize.h) and spans are of the original bytes. Throws DeadlineExceeded
  // when `deadline` passes between passes, tandem::Error when a pattern fails to match.
  std::vector<Finding> detect(std::string_view text, std::optional<Clock::time_point> deadline = {}) const;

  // Every candidate before overlap resolution and the confidence threshold (for tests and tuning).
  std::vector<Finding> candidates(std::string_view text, std::optional<Clock::time_point> deadline = {}) const;

  const DetectorOptions& options() const { return options_; }

 private:
  bool wanted(PiiType t) const;
  DetectorOptions options_;
};

// Keeps the best of overlapping findings: a finding inside a longer one of nearly the same
// confidence (within 0.25) loses to it (an IP inside a URL); otherwise the higher confidence
// wins, then the longer span. Returns them sorted by start.
std::vector<Finding> resolve_overlaps(std::vector<Finding> findings);

// Valid UTF-8 of the same byte length: each byte that is not part of a well-formed sequence
// becomes '?', so spans found in the result are spans of the original.
std::string sanitize_utf8(std::string_view text);

}  // namespace tandem::privacy
