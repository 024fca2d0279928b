#include "edge/privacy_gate.h"

#include <memory>

#include "privacy/restorer.h"

namespace tandem::edge {

namespace {

// Owns the request's placeholder map for as long as the answer is being restored.
class PlaceholderRestorer : public AnswerRestorer {
 public:
  PlaceholderRestorer(std::shared_ptr<privacy::PlaceholderMap> map, privacy::RestoreAs as)
      : map_(std::move(map)), stream_(*map_, as) {}
  std::string push(std::string_view piece) override { return stream_.feed(piece); }
  std::string flush() override { return stream_.flush(); }

 private:
  std::shared_ptr<privacy::PlaceholderMap> map_;
  privacy::StreamRestorer stream_;
};

}  // namespace

PrivacyVerdict DetectorPrivacyGate::inspect(const PrivacyInput& in) {
  PrivacyVerdict v;
  v.detector = name();
  v.level = in.level;
  v.consent = in.consent;
  const auto level = privacy::parse_privacy_level(in.level);
  if (!level) {  // an unknown level cannot be honoured: fail closed
    v.failed = true;
    v.keep_local = true;
    return v;
  }
  // Under strict the detector informs, it does not decide: without consent nothing leaves, and
  // what consent would send is the request redacted as under standard.
  const bool strict = *level == privacy::PrivacyLevel::Strict;
  v.needs_consent = strict && !in.consent;
  const privacy::PrivacyLevel applied = strict ? privacy::PrivacyLevel::Standard : *level;
  auto map = std::make_shared<privacy::PlaceholderMap>();
  const privacy::GuardResult r = guard_.check(in.texts, applied, *map);
  v.found = r.counts;
  v.failed = r.error && applied != privacy::PrivacyLevel::Open;
  if (v.needs_consent || r.decision == privacy::Decision::KeepLocal) {
    v.keep_local = true;
    // What consent would send (not sent now: redacted stays false).
    if (v.needs_consent && r.decision == privacy::Decision::Redact) v.texts = r.texts;
    return v;
  }
  if (r.decision == privacy::Decision::Redact) {
    v.redacted = true;
    v.redacted_counts = r.counts;
    v.texts = r.texts;
    v.restorer = std::make_shared<PlaceholderRestorer>(
        map, in.answer_is_json ? privacy::RestoreAs::JsonStringContent : privacy::RestoreAs::Text);
  }
  return v;
}

}  // namespace tandem::edge
