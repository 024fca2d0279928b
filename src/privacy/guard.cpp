#include "privacy/guard.h"

#include <algorithm>
#include <exception>

namespace tandem::privacy {

std::string_view privacy_level_name(PrivacyLevel level) {
  switch (level) {
    case PrivacyLevel::Strict: return "strict";
    case PrivacyLevel::Standard: return "standard";
    case PrivacyLevel::Open: return "open";
  }
  return "strict";
}

std::optional<PrivacyLevel> parse_privacy_level(std::string_view name) {
  if (name == "strict") return PrivacyLevel::Strict;
  if (name == "standard") return PrivacyLevel::Standard;
  if (name == "open") return PrivacyLevel::Open;
  return std::nullopt;
}

std::string_view decision_name(Decision d) {
  switch (d) {
    case Decision::Allow: return "allow";
    case Decision::Redact: return "redact";
    case Decision::KeepLocal: return "keep_local";
  }
  return "keep_local";
}

std::string GuardResult::counts_summary() const {
  std::string s;
  for (const auto& [type, n] : counts) {
    if (!s.empty()) s += ',';
    s += type + ":" + std::to_string(n);
  }
  return s;
}

Guard::Guard(GuardOptions options) : options_(std::move(options)), detector_(options_.detector) {}

GuardResult Guard::check(const std::vector<std::string>& texts, PrivacyLevel level, PlaceholderMap& conversation) const {
  GuardResult r;
  auto t0 = Clock::now();
  auto fail_closed = [&](const std::string& why) {
    r.error = true;
    r.error_message = why;
    r.findings.clear();
    r.counts.clear();
    // Treated as containing personal data: kept local, except under open, which lets personal
    // data out by choice.
    r.decision = level == PrivacyLevel::Open ? Decision::Allow : Decision::KeepLocal;
    if (level == PrivacyLevel::Open) r.texts = texts; else r.texts.assign(texts.size(), std::string());
    r.detect_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  try {
    const auto deadline = t0 + options_.timeout;
    if (options_.inject_failure == InjectedFailure::Error) throw Error("privacy: injected detector failure");
    if (options_.inject_failure == InjectedFailure::Timeout) throw DeadlineExceeded();
    size_t total = 0;
    for (const std::string& text : texts) {
      std::vector<Finding> found = detector_.detect(text, deadline);
      std::erase_if(found, [&](const Finding& f) {
        return std::find(options_.ignored.begin(), options_.ignored.end(), f.type) != options_.ignored.end();
      });
      for (const Finding& f : found) ++r.counts[std::string(pii_type_name(f.type))];
      total += found.size();
      r.findings.push_back(std::move(found));
    }
    // A deadline passed inside the last pass is caught here: late is a failure too.
    if (Clock::now() > deadline) throw DeadlineExceeded();
    r.detect_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

    if (level == PrivacyLevel::Open || total == 0) {
      r.decision = Decision::Allow;
      r.texts = texts;
    } else if (level == PrivacyLevel::Strict) {
      r.decision = Decision::KeepLocal;
      r.texts.assign(texts.size(), std::string());
    } else {
      // Redact into a copy of the map, then commit it: a failure half-way leaves the
      // conversation's map as it was.
      PlaceholderMap next = conversation;
      for (size_t i = 0; i < texts.size(); ++i) r.texts.push_back(redact(texts[i], r.findings[i], next).text);
      conversation = std::move(next);
      r.decision = Decision::Redact;
    }
    return r;
  } catch (const std::exception& e) {
    fail_closed(e.what());
  } catch (...) {
    fail_closed("privacy: unknown failure in PII detection");
  }
  return r;
}

}  // namespace tandem::privacy
