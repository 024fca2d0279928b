#include "edge/privacy_gate.h"

#include <memory>

#include "privacy/restorer.h"

namespace tandem::edge {

namespace {

// Owns the request's placeholder map for as long as the answer is being restored.
class PlaceholderRestorer : public AnswerRestorer {
 public:
  explicit PlaceholderRestorer(std::shared_ptr<privacy::PlaceholderMap> map) : map_(std::move(map)), stream_(*map_) {}
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
  const auto level = privacy::parse_privacy_level(in.level);
  if (!level) {  // an unknown level cannot be honoured: fail closed
    v.failed = true;
    v.keep_local = true;
    return v;
  }
  std::vector<std::string> texts;
  if (in.chat && in.messages) {
    for (const auto& m : *in.messages) texts.push_back(m.content);
  } else if (in.prompt) {
    texts.push_back(*in.prompt);
  }
  auto map = std::make_shared<privacy::PlaceholderMap>();
  const privacy::GuardResult r = guard_.check(texts, *level, *map);
  v.found = r.counts;
  v.failed = r.error && *level != privacy::PrivacyLevel::Open;
  switch (r.decision) {
    case privacy::Decision::KeepLocal:
      v.keep_local = true;
      break;
    case privacy::Decision::Redact:
      v.redacted = true;
      v.redacted_counts = r.counts;
      if (in.chat && in.messages) {
        v.messages = *in.messages;
        for (size_t i = 0; i < v.messages.size() && i < r.texts.size(); ++i) v.messages[i].content = r.texts[i];
      } else if (!r.texts.empty()) {
        v.prompt = r.texts[0];
      }
      v.restorer = std::make_shared<PlaceholderRestorer>(map);
      break;
    case privacy::Decision::Allow:
      break;
  }
  return v;
}

}  // namespace tandem::edge
