// The policy entry point of the privacy layer: given a request's texts and its privacy level, it
// decides whether the request may leave the device as is, must be redacted first, or must stay
// on the device, and fails closed: when detection throws or runs past its deadline the request
// is treated as containing personal data: kept local under strict and standard (open lets
// personal data out by choice, so it stays unchanged there, with the error flag set).
//
//   strict    anything found keeps the request on the device
//   standard  the request may go out with each finding replaced by a typed placeholder; the
//             device restores the values in the answer (StreamRestorer)
//   open      no change (findings are still counted, for transparency)
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/detector.h"
#include "privacy/redactor.h"

namespace tandem::privacy {

enum class PrivacyLevel { Strict, Standard, Open };
std::string_view privacy_level_name(PrivacyLevel level);               // "strict", "standard", "open"
std::optional<PrivacyLevel> parse_privacy_level(std::string_view name);

enum class Decision { Allow, Redact, KeepLocal };
std::string_view decision_name(Decision d);                            // "allow", "redact", "keep_local"

// For tests and drills: make the guard's detection fail the way real failures would.
enum class InjectedFailure { None, Error, Timeout };

struct GuardOptions {
  DetectorOptions detector;
  // Detection of all of a request's texts must finish within this; past it, fail closed.
  std::chrono::microseconds timeout = std::chrono::milliseconds(200);
  // Types that do not count for the decision (e.g. {PiiType::Date} to let ordinary dates out
  // under strict); they are neither redacted nor counted.
  std::vector<PiiType> ignored;
  InjectedFailure inject_failure = InjectedFailure::None;
};

struct GuardResult {
  Decision decision = Decision::KeepLocal;
  // The texts that may leave the device, one per input text: the inputs unchanged (Allow), with
  // placeholders (Redact), or empty (KeepLocal: nothing may leave).
  std::vector<std::string> texts;
  // Findings per input text (spans into the inputs; no values).
  std::vector<std::vector<Finding>> findings;
  // Types found and how often, over all texts: what the ledger and logs may record.
  std::map<std::string, int> counts;
  bool error = false;          // detection failed or timed out (KeepLocal unless level is open)
  std::string error_message;   // why, without any text of the request
  double detect_ms = 0;

  // "EMAIL:1,PHONE:2" (sorted by type name), or "" when nothing was found. Safe to log.
  std::string counts_summary() const;
};

class Guard {
 public:
  explicit Guard(GuardOptions options = {});

  // Checks one request. `conversation` is the conversation's placeholder map (device-only); it
  // gains the request's new values when the decision is Redact, and is untouched otherwise.
  // Never throws: every failure becomes error = true and KeepLocal (Allow under open).
  GuardResult check(const std::vector<std::string>& texts, PrivacyLevel level, PlaceholderMap& conversation) const;

  const GuardOptions& options() const { return options_; }

 private:
  GuardOptions options_;
  Detector detector_;
};

}  // namespace tandem::privacy
