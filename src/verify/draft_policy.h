// How many tokens to draft per round, and what speculation is worth: a cost model of one round
// of cooperative speculative decoding, fed with running measurements.
//
// With per-token acceptance probability α (each draft token accepted independently), a round
// of k draft tokens yields on average
//     E(α, k) = 1 + α + α² + … + α^k = (1 − α^(k+1)) / (1 − α)
// tokens (the accepted drafts plus the target's own token), and costs about
//     T(k) = k · t_draft + RTT + t_verify(k) + overhead,
//     t_verify(k) = verify_fixed + k · verify_per_token
// (drafting, the network round trip, the target's forward pass over the k + 1 new positions, and
// the client's own cost of a round: handing the call to another thread and back, which on a
// loaded machine is milliseconds, as much as a whole verify call on loopback). The best k
// maximizes E(α, k) / T(k). Drafting ahead while a call is on the wire hides part of
// k · t_draft; the model ignores that, so its estimate is a little pessimistic.
#pragma once
#include <cstdint>

namespace tandem::verify {

// The measured quantities (milliseconds).
struct CostModel {
  double alpha = 0.6;               // per-draft-token acceptance probability
  double t_draft_ms = 1;            // one draft decode step on the device
  double rtt_ms = 1;                // network round trip (no compute)
  double verify_fixed_ms = 1;       // server time of a verify call with no draft (≈ one target step)
  double verify_per_token_ms = 0;   // extra server time per draft token
  double round_overhead_ms = 0;     // the client's time per round outside drafting and the call
};

// E(α, k): expected tokens out of one round with k draft tokens.
double expected_tokens_per_round(double alpha, int k);
// T(k) in milliseconds.
double round_ms(const CostModel& m, int k);
// E(α, k) / T(k), in tokens per second.
double speculative_tokens_per_s(const CostModel& m, int k);
// The k in [1, k_max] with the most tokens per second (the smaller k on ties); 1 if k_max < 1.
int best_draft_length(const CostModel& m, int k_max);

// What each way of generating would deliver at the current measurements:
// the orchestrator uses it to decide not to speculate where speculation cannot win.
struct Estimate {
  double spec_tps = 0;    // speculative decoding at the best k
  double cloud_tps = 0;   // the target alone, streamed: n tokens in RTT + n · t_target
  double device_tps = 0;  // the draft model alone: 1 / t_draft
  double rtt_ms = 0;
  double acceptance = 0;  // α
  int best_k = 1;
  double t_draft_ms = 0, t_target_ms = 0;
};
// stream_tokens: the length of the generation the cloud-only figure amortizes its RTT over.
Estimate estimate(const CostModel& m, int k_max, int stream_tokens);

struct PolicyConfig {
  double prior_alpha = 0.6;   // acceptance assumed before any round (weight: prior_weight rounds)
  double prior_weight = 2;
  double decay = 0.95;        // per-round forgetting of old observations (acceptance, verify time)
  double ema = 0.2;           // weight of a new draft-step or RTT sample
};

// The running measurements behind the choice of k. Not thread-safe (the generating thread owns it).
class DraftPolicy {
 public:
  explicit DraftPolicy(const PolicyConfig& cfg = {});

  // A round trip without compute (e.g. GET /health).
  void observe_rtt(double ms);
  // One single-token decode step of the draft model.
  void observe_draft_step(double ms);
  // One verify call: k draft tokens sent, `accepted` of them accepted, `wall_ms` from sending
  // the request to having the answer (< 0: not timed, e.g. a call that also carried the prompt,
  // whose prefill says nothing about a draft round's cost).
  void observe_round(int k, int accepted, double wall_ms);
  // A round's time outside drafting its tokens and the call's wall time (thread hand-offs,
  // building and parsing the call, waiting for a draft step that ran past the answer).
  void observe_overhead(double ms);

  CostModel model() const;
  int choose_k(int k_max) const { return best_draft_length(model(), k_max); }
  Estimate estimate(int k_max, int stream_tokens) const { return verify::estimate(model(), k_max, stream_tokens); }
  double acceptance() const;

 private:
  PolicyConfig cfg_;
  double acc_ = 0, rej_ = 0;   // discounted counts of accepted and rejected draft positions
  double rtt_ms_ = -1;         // < 0: not measured
  double draft_ms_ = -1;
  double overhead_ms_ = -1;
  // Discounted least squares of server time (wall − RTT) against k: sums of 1, k, k², v, k·v.
  double s0_ = 0, sk_ = 0, skk_ = 0, sv_ = 0, skv_ = 0;
};

}  // namespace tandem::verify
