// The gateway's plug-in points for parts built elsewhere, connected by whoever assembles the
// gateway (tandem edge's command, or tests):
//   PrivacyGate       PII detection and reversible redaction (src/privacy);
//   SpeculativeRunner the device-drafts/cloud-verifies client (src/verify);
//   RecordSink        the ledger (src/ledger's Ledger::insert) — one ledger::Record per request.
// Until they are connected the defaults below stand in, and say plainly what they do not do.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/config.h"
#include "edge/connectivity.h"
#include "edge/router.h"
#include "engine/vocab.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "model/llama_model.h"
#include "model/lora.h"
#include "protocol/generation.h"
#include "protocol/openai.h"

namespace tandem::edge {

// ---- Privacy ----------------------------------------------------------------------------------

// Puts the original values back into an answer computed from redacted text. Streaming: push()
// returns what can be sent now (a placeholder split across pieces is held back), flush() the rest.
class AnswerRestorer {
 public:
  virtual ~AnswerRestorer() = default;
  virtual std::string push(std::string_view piece) = 0;
  virtual std::string flush() = 0;
};

struct PrivacyInput {
  // Every text of the request that a tier would send off the device (edge/outbound.h), in the
  // outbound order: message contents and names first, then the other text fields.
  std::vector<std::string> texts;
  std::string level;     // strict, standard or open (config policy.privacy, or the request's)
  bool consent = false;  // the user allowed this request to leave the device (matters under strict)
  std::string app;
  bool answer_is_json = false;  // the answer is constrained to JSON: values go back JSON-escaped
};

struct PrivacyVerdict {
  bool keep_local = false;  // must never leave the device
  bool failed = false;      // the check could not run: the gateway keeps the request local
  // strict without consent: kept on the device whatever was found (the findings only inform).
  bool needs_consent = false;
  std::string level;        // the level that was applied
  bool consent = false;
  // What may leave the device instead of the original texts, one per input text (set when
  // `redacted`; under strict without consent, what consent would send, or empty).
  bool redacted = false;
  std::vector<std::string> texts;
  std::shared_ptr<AnswerRestorer> restorer;  // null: the answer needs no restoring
  std::map<std::string, int> found;          // PII type -> count
  std::map<std::string, int> redacted_counts;
  std::string detector;                      // which detector ran
};

class PrivacyGate {
 public:
  virtual ~PrivacyGate() = default;
  virtual PrivacyVerdict inspect(const PrivacyInput& in) = 0;
  // The detector's name, as /health and each request's record give it.
  virtual std::string name() const = 0;
};

// The stand-in until the privacy detector is connected: it detects NOTHING and allows every
// request to leave the device. It is not privacy protection; /health names it ("detector":
// "none") so nobody mistakes it for one.
class NoDetectionPrivacyGate : public PrivacyGate {
 public:
  PrivacyVerdict inspect(const PrivacyInput&) override {
    PrivacyVerdict v;
    v.detector = name();
    return v;
  }
  std::string name() const override { return "none"; }
};

// ---- Speculative decoding ---------------------------------------------------------------------

struct SpeculativeRequest {
  const EndpointConfig* endpoint = nullptr;
  std::string api_key;
  std::string prompt_text;  // rendered with the device model's template (chat) or as given
  std::vector<int32_t> prompt_tokens;  // prompt_text tokenized by the device model
  protocol::GenerationParams gen;
  // Text as it is accepted; return false when the app went away (stop early).
  std::function<bool(const std::string& text)> on_text;
  // With gen.top_logprobs >= 0: each token's log-probabilities (the cloud model's for verified
  // tokens, the device model's for any it decoded alone), before its text.
  std::function<void(std::vector<protocol::TokenLogprob>)> on_logprobs;
};

struct SpeculativeResult {
  Failure failure = Failure::None;  // before any text: the gateway falls back; after: continues on the device
  std::string text;                 // all text passed to on_text
  std::string held_text;            // after a failure: accepted text after `text`, held back as a
                                    // possible stop string's beginning (the device continues it)
  std::string finish_reason;        // "stop" or "length" when it finished
  int64_t prompt_tokens_device = 0, completion_tokens_device = 0;  // drafted tokens that were kept
  int64_t prompt_tokens_cloud = 0, completion_tokens_cloud = 0;    // tokens the cloud evaluated/sampled
  int64_t rounds = 0, drafted = 0, accepted = 0;
};

class SpeculativeRunner {
 public:
  virtual ~SpeculativeRunner() = default;
  // The gateway hands over its device model (the draft) once it has loaded it, with the LoRA
  // adapters it applies (device.lora), so drafts come from the same adapted model.
  virtual void bind_device(const LlamaModel& model, const Vocab& vocab, const std::vector<LoraUse>& loras = {}) {}
  // Expected time for this request speculatively and as a plain cloud call at `rtt_ms`;
  // nullopt when it cannot say (the router then does not choose SPECULATIVE).
  virtual std::optional<SpeculationEstimate> estimate(const EndpointConfig& endpoint, double rtt_ms,
                                                      int64_t prompt_tokens, int64_t max_tokens) = 0;
  virtual SpeculativeResult run(const SpeculativeRequest& req) = 0;
};

// ---- Ledger -------------------------------------------------------------------------------------

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void record(const ledger::Record& r) = 0;  // called once per finished request
  // An endpoint's model compared with the device's, when its sync state is first known or changes.
  virtual void record_check(const ledger::EndpointCheck&) {}
  // What the sink kept, filtered, for the gateway's /v1/report; nullopt when it keeps nothing
  // that can be read back.
  struct Contents {
    std::vector<ledger::Record> records;
    std::vector<ledger::EndpointCheck> checks;  // the app filter does not apply to checks
  };
  virtual std::optional<Contents> read(const ledger::Filter&) const { return std::nullopt; }
};

// Keeps records in memory (tests, and the gateway until the ledger is connected).
class MemoryRecordSink : public RecordSink {
 public:
  void record(const ledger::Record& r) override {
    std::lock_guard<std::mutex> lk(mu_);
    records_.push_back(r);
    records_.back().id = int64_t(records_.size());
  }
  std::vector<ledger::Record> records() const {
    std::lock_guard<std::mutex> lk(mu_);
    return records_;
  }
  void record_check(const ledger::EndpointCheck& c) override {
    std::lock_guard<std::mutex> lk(mu_);
    checks_.push_back(c);
  }
  std::vector<ledger::EndpointCheck> checks() const {
    std::lock_guard<std::mutex> lk(mu_);
    return checks_;
  }
  std::optional<Contents> read(const ledger::Filter& f) const override {
    std::lock_guard<std::mutex> lk(mu_);
    Contents c;
    const auto in_window = [&](int64_t t) { return (!f.since_ms || t >= *f.since_ms) && (!f.until_ms || t < *f.until_ms); };
    for (const auto& r : records_)
      if (in_window(r.time_ms) && (!f.app || r.app == *f.app)) c.records.push_back(r);
    for (const auto& k : checks_)
      if (!f.until_ms || k.time_ms < *f.until_ms) c.checks.push_back(k);
    return c;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ledger::Record> records_;
  std::vector<ledger::EndpointCheck> checks_;
};

}  // namespace tandem::edge
