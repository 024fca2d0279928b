// The SPECULATIVE route's runner: the device model drafts, a cloud endpoint running tandem serve
// verifies through /v1/verify (src/verify, docs/speculative.md). It plugs into the gateway as its
// SpeculativeRunner (edge/hooks.h).
//
// Accounting, per request: the cloud evaluated the prompt and every draft token it was sent
// (charged as input tokens) and sampled one token of its own per round (charged as output
// tokens); the device drafted the accepted tokens and, if the cloud became unreachable, every
// token after `degraded_from`. The completion tokens on both sides add up to the answer's.
#pragma once
#include <map>
#include <mutex>
#include <optional>

#include "edge/hooks.h"
#include "verify/draft_policy.h"

namespace tandem::edge {

struct SpeculativeRunnerConfig {
  int draft_max = 8;        // most draft tokens per round
  bool adaptive = true;     // choose k per round from RTT, acceptance and speeds
  int n_threads = 2;        // the draft model's threads
  double read_timeout_s = 10;
  int max_retries = 2;      // failed attempts in a row before the device continues alone
  double calibration_ttl_s = 30;  // how long a measured cost model is used for estimates
  // A calibration is one attempt, each of its calls bounded by this: the request that asked for
  // the estimate waits for it (an endpoint that accepts but never answers cost ~50 s before).
  double calibration_timeout_s = 2;
  // After a calibration that failed (no answer, another vocabulary), none is tried again for
  // this long: a dark endpoint whose breaker is still closed costs one request the wait, not each.
  double calibration_retry_s = 5;
};

class VerifySpeculativeRunner : public SpeculativeRunner {
 public:
  explicit VerifySpeculativeRunner(SpeculativeRunnerConfig cfg = {}) : cfg_(cfg) {}

  void bind_device(const LlamaModel& model, const Vocab& vocab, const std::vector<LoraUse>& loras = {}) override;
  std::optional<SpeculationEstimate> estimate(const EndpointConfig& endpoint, double rtt_ms, int64_t prompt_tokens,
                                              int64_t max_tokens) override;
  SpeculativeResult run(const SpeculativeRequest& req) override;

 private:
  struct Calibration {
    verify::CostModel model;
    std::optional<verify::DraftPolicy> policy;  // what the last generation learned, to start from
    double at_s = -1;                           // steady-clock seconds when measured
  };
  std::optional<verify::CostModel> cost_model(const EndpointConfig& endpoint);

  SpeculativeRunnerConfig cfg_;
  const LlamaModel* model_ = nullptr;
  const Vocab* vocab_ = nullptr;
  std::vector<LoraUse> loras_;
  std::mutex mu_;
  std::map<std::string, Calibration> calibrations_;  // by endpoint name
  std::map<std::string, double> failed_at_s_;        // by endpoint name: the last failed calibration
};

}  // namespace tandem::edge
