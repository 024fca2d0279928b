#include "verify/draft_policy.h"

#include <algorithm>
#include <cmath>

namespace tandem::verify {

double expected_tokens_per_round(double alpha, int k) {
  // Summed term by term: exact at α = 1, where the closed form divides by zero.
  alpha = std::clamp(alpha, 0.0, 1.0);
  double sum = 0, term = 1;
  for (int i = 0; i <= std::max(k, 0); ++i) {
    sum += term;
    term *= alpha;
  }
  return sum;
}

double round_ms(const CostModel& m, int k) {
  k = std::max(k, 0);
  return k * m.t_draft_ms + m.rtt_ms + m.verify_fixed_ms + k * m.verify_per_token_ms + m.round_overhead_ms;
}

double speculative_tokens_per_s(const CostModel& m, int k) {
  const double t = round_ms(m, k);
  return t > 0 ? expected_tokens_per_round(m.alpha, k) * 1000.0 / t : 0;
}

int best_draft_length(const CostModel& m, int k_max) {
  int best = 1;
  double best_tps = -1;
  for (int k = 1; k <= k_max; ++k) {
    const double tps = speculative_tokens_per_s(m, k);
    if (tps > best_tps * (1 + 1e-9)) {
      best_tps = tps;
      best = k;
    }
  }
  return best;
}

Estimate estimate(const CostModel& m, int k_max, int stream_tokens) {
  Estimate e;
  e.best_k = best_draft_length(m, k_max);
  e.spec_tps = speculative_tokens_per_s(m, e.best_k);
  const double n = std::max(stream_tokens, 1);
  e.t_target_ms = m.verify_fixed_ms;
  const double cloud_ms = m.rtt_ms + n * m.verify_fixed_ms;
  e.cloud_tps = cloud_ms > 0 ? n * 1000.0 / cloud_ms : 0;
  e.device_tps = m.t_draft_ms > 0 ? 1000.0 / m.t_draft_ms : 0;
  e.rtt_ms = m.rtt_ms;
  e.acceptance = m.alpha;
  e.t_draft_ms = m.t_draft_ms;
  return e;
}

DraftPolicy::DraftPolicy(const PolicyConfig& cfg) : cfg_(cfg) {
  acc_ = cfg.prior_alpha * cfg.prior_weight;
  rej_ = (1 - cfg.prior_alpha) * cfg.prior_weight;
}

void DraftPolicy::observe_rtt(double ms) {
  if (!(ms >= 0)) return;
  rtt_ms_ = rtt_ms_ < 0 ? ms : (1 - cfg_.ema) * rtt_ms_ + cfg_.ema * ms;
}

void DraftPolicy::observe_draft_step(double ms) {
  if (!(ms >= 0)) return;
  draft_ms_ = draft_ms_ < 0 ? ms : (1 - cfg_.ema) * draft_ms_ + cfg_.ema * ms;
}

void DraftPolicy::observe_overhead(double ms) {
  if (!(ms >= 0)) return;
  overhead_ms_ = overhead_ms_ < 0 ? ms : (1 - cfg_.ema) * overhead_ms_ + cfg_.ema * ms;
}

void DraftPolicy::observe_round(int k, int accepted, double wall_ms) {
  if (k > 0) {
    // Positions 0..accepted-1 passed the test; position `accepted` failed it unless all passed;
    // later positions were never tested (the maximum-likelihood α of a truncated geometric).
    acc_ = cfg_.decay * acc_ + accepted;
    rej_ = cfg_.decay * rej_ + (accepted < k ? 1 : 0);
  }
  if (!(wall_ms >= 0)) return;
  // A call takes at least one round trip: a faster call means the RTT estimate was high.
  if (rtt_ms_ < 0 || wall_ms < rtt_ms_) rtt_ms_ = wall_ms;
  const double v = wall_ms - rtt_ms_;
  const double d = cfg_.decay;
  s0_ = d * s0_ + 1;
  sk_ = d * sk_ + k;
  skk_ = d * skk_ + double(k) * k;
  sv_ = d * sv_ + v;
  skv_ = d * skv_ + k * v;
}

double DraftPolicy::acceptance() const { return acc_ + rej_ > 0 ? acc_ / (acc_ + rej_) : cfg_.prior_alpha; }

CostModel DraftPolicy::model() const {
  CostModel m;
  m.alpha = acceptance();
  if (draft_ms_ >= 0) m.t_draft_ms = draft_ms_;
  if (rtt_ms_ >= 0) m.rtt_ms = rtt_ms_;
  if (overhead_ms_ >= 0) m.round_overhead_ms = overhead_ms_;
  if (s0_ > 0) {
    // Fit v = a + b·k. With too little spread in k (standard deviation under one token, as with
    // a fixed k and a few shorter rounds at the end) the slope is noise: all server time goes to
    // a (b = 0). Larger k then looks cheap, k moves, and the spread comes back.
    const double var = s0_ * skk_ - sk_ * sk_;  // s0² × the variance of k
    double b = var >= s0_ * s0_ ? (s0_ * skv_ - sk_ * sv_) / var : 0;
    b = std::max(b, 0.0);
    const double a = std::max((sv_ - b * sk_) / s0_, 0.0);
    m.verify_fixed_ms = a;
    m.verify_per_token_ms = b;
  } else {
    // Before any call: guess that the target's step costs what the draft's does.
    m.verify_fixed_ms = m.t_draft_ms;
  }
  return m;
}

}  // namespace tandem::verify
