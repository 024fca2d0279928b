// One request's way through the gateway, in two steps: plan() gathers the inputs (privacy
// verdict, endpoints' health, device state, complexity, budget, speculation estimate) and asks the
// router; execute() runs the plan, streaming text to the app through `emit`, falling back on
// failures (before the first token: the next endpoint, then the device; after it: the device
// continues the same answer), charging each token to what produced it, and filling the ledger
// record. The HTTP side (gateway.cpp) only parses, renders and writes.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edge/budget.h"
#include "edge/cloud_client.h"
#include "edge/config.h"
#include "edge/connectivity.h"
#include "edge/device_state.h"
#include "edge/hooks.h"
#include "edge/local_tier.h"
#include "edge/router.h"
#include "ledger/record.h"
#include "protocol/openai.h"

namespace tandem::edge {

// A request as the app sent it, validated, with the gateway's extensions taken out.
struct EdgeRequest {
  bool chat = false;
  protocol::CompletionRequest parsed;  // messages include the configured system prompt
  nlohmann::json body;              // what an endpoint receives (system prompt applied, max_tokens explicit)
  // The body's text as the app sent it, kept when the output is constrained: a schema's key
  // order, which `body` (sorted) lost, goes to endpoints from here.
  std::string body_text;
  std::string app;                  // the app's name from the config, or ""
  std::string model;                // the model id the app asked for
  Policy policy = Policy::Auto;     // config default, or the request's "tandem": {"route"}
  std::string task_hint;            // "tandem": {"task"}
  std::string privacy_level;
  bool consent = false;             // "tandem": {"consent": true}, x-tandem-consent, or the app's config
  bool keep_local = false;          // "tandem": {"keep_local": true}
  bool from_peer = false;           // x-tandem-hop: another gateway's call (answered on this device)
  int64_t arrival_unix_ms = 0;
  int64_t arrival_steady_ms = 0;
};

struct Plan {
  RouteDecision decision;
  PrivacyVerdict privacy;
  // Kept on the device for want of consent (strict): where consent would have sent it.
  std::optional<RouteDecision> with_consent;
  std::vector<std::string> outbound_texts;  // the texts an endpoint would receive, unredacted
  // The check would change a string of the output's schema or grammar: the request stays here.
  bool privacy_in_structure = false;
  std::string token_prompt_text;            // a token prompt's text (what the privacy check saw)
  std::string device_prompt_text;       // the prompt as the device model sees it
  std::vector<int32_t> device_prompt;   // its tokens
  int64_t max_tokens = 0;               // after caps
};

// What execute() did. Its ledger::Record part is the ledger row's figures, filled as the request
// runs (served_by, status, tokens per side and the usage the app was told in prompt_tokens /
// completion_tokens, cost, latency, data_left_device, speculation); record() adds what the
// request and the plan say (time, app, route, reasons, privacy findings, text) and hands it over.
struct Outcome : ledger::Record {
  Outcome() { status = "ok"; }
  // The first failure met. (It hides the row's text form, Record::failure, which record() sets
  // from it.)
  Failure failure = Failure::None;
  std::vector<std::string> attempts;      // "name:failure" for each failed try, in order
  std::vector<std::string> more_reasons;  // found while running (e.g. cascade:low_confidence)
  std::string text, finish_reason;
  std::optional<double> mean_logprob;  // CASCADE's device answer
  int64_t failover_at_chunk = -1;      // mid-stream failover: cloud chunks before the device took over
  int error_status = 0;
  std::string error_message;
  bool cancelled = false;
};

// The `tandem` object of a response (docs/edge.md).
nlohmann::json tandem_object(const Plan& plan, const Outcome& out);

class Orchestrator {
 public:
  Orchestrator(const EdgeConfig& cfg, LocalTier& local, Connectivity& conn, DeviceMonitor& device, Budget& budget,
               std::shared_ptr<PrivacyGate> privacy, std::shared_ptr<SpeculativeRunner> speculative,
               std::shared_ptr<RecordSink> sink, ClockFn clock);

  // Throws protocol::ApiError for requests the device cannot even tokenize.
  Plan plan(const EdgeRequest& req);
  // emit(text) sends text to the app; false: the app went away. With the request's logprobs,
  // on_logprobs gets each token's log-probabilities from the model that produced it, no later
  // than the token's text (text held back for a stop string comes after its tokens).
  Outcome execute(const EdgeRequest& req, const Plan& plan, const std::function<bool(const std::string&)>& emit,
                  const std::function<void(std::vector<protocol::TokenLogprob>)>& on_logprobs = {});
  // Fills and hands over the ledger record.
  void record(const EdgeRequest& req, const Plan& plan, const Outcome& out);

  const EdgeConfig& config() const { return cfg_; }
  bool has_speculative_runner() const { return speculative_ != nullptr; }
  const std::string& privacy_detector() const { return detector_; }

 private:
  struct Run;  // one execute() call's state (orchestrator.cpp)
  // The privacy gate's verdict on the texts that would leave, with strict's consent rule applied.
  PrivacyVerdict inspect_privacy(const EdgeRequest& req, const std::vector<std::string>& texts);
  // Strict without consent: where consent would have sent the request, for the answer.
  void explain_consent(const RouteInputs& in, Plan& p) const;
  RouteInputs route_inputs(const EdgeRequest& req, const Plan& p, const std::string& user_text);
  // The router's speculation estimate (asked for only if a rule weighs speculation); empty when
  // no usable endpoint shares the device's vocabulary.
  std::function<std::optional<SpeculationEstimate>()> speculation_estimate(const std::vector<EndpointView>& endpoints,
                                                                            const Plan& p);
  // One per route: LOCAL, CLOUD and PEER (run_endpoints, then the device), CASCADE, SPECULATIVE.
  void run_device(Run& run);
  void run_endpoints(Run& run, const std::vector<std::string>& names, const std::function<void()>& device_fallback);
  void run_cascade(Run& run);
  void run_speculative(Run& run);
  SpeculativeResult speculate(Run& run, const EndpointConfig& ep);  // one speculative run, charged
  // The figures every route ends with: status, latency, the all-cloud comparison, the cloud's speed.
  void finish(Run& run);
  // The device answers: from the prompt, or continuing after `prefix` (the answer's text so far,
  // which stood for prefix_tokens of max_tokens). The app has all of it but its last `held`
  // bytes, held back as the beginning of a possible stop string: the device's stop check starts
  // there, and sends them first unless a stop string cuts them.
  // lp_sink: where its tokens' log-probabilities go (the app's, or CASCADE's held answer's).
  void run_local(Run& run, const std::string& prefix, int64_t prefix_tokens, bool want_logprobs,
                 const std::function<bool(const std::string&)>& sink, const std::string& held = "",
                 const std::function<void(std::vector<protocol::TokenLogprob>)>* lp_sink = nullptr);
  double charge(const EdgeRequest& req, const EndpointConfig& ep, int64_t prompt_tokens, int64_t completion_tokens);
  protocol::GenerationParams gen_params(const EdgeRequest& req, const Plan& plan) const;
  nlohmann::json endpoint_body(const EdgeRequest& req, const Plan& plan) const;
  const EndpointConfig* primary_cloud() const;

  const EdgeConfig& cfg_;
  LocalTier& local_;
  Connectivity& conn_;
  DeviceMonitor& device_;
  Budget& budget_;
  std::shared_ptr<PrivacyGate> privacy_;
  std::shared_ptr<SpeculativeRunner> speculative_;
  std::shared_ptr<RecordSink> sink_;
  ClockFn clock_;
  std::string detector_;
  std::mutex mu_;
  std::optional<double> cloud_ms_per_token_;
};

}  // namespace tandem::edge
