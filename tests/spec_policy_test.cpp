// The adaptive draft length and the estimate behind it (verify/draft_policy.h): the cost model's
// arithmetic, the k it chooses in clear-cut situations, and what the running measurements
// (acceptance, verify time, RTT, draft speed) converge to when fed known data.
#include <gtest/gtest.h>

#include <cmath>

#include "verify/draft_policy.h"

using namespace tandem::verify;

TEST(SpecPolicy, ExpectedTokensPerRound) {
  EXPECT_DOUBLE_EQ(expected_tokens_per_round(0.0, 5), 1.0);
  EXPECT_DOUBLE_EQ(expected_tokens_per_round(1.0, 5), 6.0);  // where the closed form divides by 0
  EXPECT_DOUBLE_EQ(expected_tokens_per_round(0.5, 3), 1.875);
  for (double a : {0.1, 0.5, 0.9})
    for (int k : {1, 4, 8}) EXPECT_NEAR(expected_tokens_per_round(a, k), (1 - std::pow(a, k + 1)) / (1 - a), 1e-12);
}

TEST(SpecPolicy, RoundTimeAndThroughput) {
  CostModel m{0.5, 2, 30, 5, 1};
  EXPECT_DOUBLE_EQ(round_ms(m, 0), 35);
  EXPECT_DOUBLE_EQ(round_ms(m, 4), 4 * 2 + 30 + 5 + 4 * 1);
  EXPECT_NEAR(speculative_tokens_per_s(m, 4), expected_tokens_per_round(0.5, 4) * 1000 / 47, 1e-9);
}

TEST(SpecPolicy, SmallKAtLowAcceptanceLargeKAtHighRttAndAcceptance) {
  // Drafting is not free: with 10 % acceptance, one draft token is all that pays.
  EXPECT_EQ(best_draft_length(CostModel{0.1, 2, 5, 2, 0.5}, 16), 1);
  // High acceptance and a long round trip: draft long rounds.
  EXPECT_GE(best_draft_length(CostModel{0.9, 1, 100, 5, 0.2}, 16), 10);
  // k grows with the RTT (at fixed acceptance) and with the acceptance (at fixed RTT).
  int prev = 0;
  for (double rtt : {1.0, 10.0, 50.0, 200.0}) {
    const int k = best_draft_length(CostModel{0.8, 1, rtt, 2, 0.2}, 32);
    EXPECT_GE(k, prev) << rtt;
    prev = k;
  }
  EXPECT_GT(prev, best_draft_length(CostModel{0.8, 1, 1, 2, 0.2}, 32));
  prev = 0;
  for (double a : {0.2, 0.5, 0.8, 0.95}) {
    const int k = best_draft_length(CostModel{a, 1, 50, 2, 0.2}, 32);
    EXPECT_GE(k, prev) << a;
    prev = k;
  }
  // Capped by k_max, at least 1.
  EXPECT_EQ(best_draft_length(CostModel{0.99, 0.1, 500, 1, 0}, 4), 4);
  EXPECT_EQ(best_draft_length(CostModel{0.99, 0.1, 500, 1, 0}, 0), 1);
  // The chosen k is the best of all k (brute force).
  const CostModel m{0.7, 1.5, 40, 8, 0.7};
  const int k = best_draft_length(m, 16);
  for (int j = 1; j <= 16; ++j) EXPECT_LE(speculative_tokens_per_s(m, j), speculative_tokens_per_s(m, k) + 1e-9);
}

TEST(SpecPolicy, EstimateSaysWhereSpeculationCannotWin) {
  // A fast target and poor acceptance: the cloud alone (its RTT paid once per stream) is faster.
  Estimate e = estimate(CostModel{0.1, 2, 50, 5, 0.2}, 8, 128);
  EXPECT_NEAR(e.cloud_tps, 128 * 1000.0 / (50 + 128 * 5), 1e-9);
  EXPECT_NEAR(e.device_tps, 500, 1e-9);
  EXPECT_LT(e.spec_tps, e.cloud_tps);
  EXPECT_EQ(e.best_k, 1);
  // A slow target (a big model) and good acceptance: speculation beats the cloud alone.
  e = estimate(CostModel{0.9, 1, 50, 40, 0.5}, 16, 128);
  EXPECT_GT(e.spec_tps, e.cloud_tps);
  EXPECT_GT(e.best_k, 4);
  EXPECT_DOUBLE_EQ(e.acceptance, 0.9);
  EXPECT_DOUBLE_EQ(e.rtt_ms, 50);
  EXPECT_DOUBLE_EQ(e.t_target_ms, 40);
}

TEST(SpecPolicy, AcceptanceEstimateFollowsTheRounds) {
  DraftPolicy p;
  EXPECT_NEAR(p.acceptance(), 0.6, 1e-12);  // the prior
  for (int i = 0; i < 200; ++i) p.observe_round(4, 4, -1);
  EXPECT_GT(p.acceptance(), 0.97);
  for (int i = 0; i < 200; ++i) p.observe_round(4, 0, -1);
  EXPECT_LT(p.acceptance(), 0.03);
  // Alternating 1-of-4 and 3-of-4 (each with one rejection): 4 accepted per 2 tested-and-
  // rejected positions, α = 4 / 6.
  DraftPolicy q(PolicyConfig{0.6, 0, 1.0, 0.2});  // no prior, no forgetting
  for (int i = 0; i < 50; ++i) {
    q.observe_round(4, 1, -1);
    q.observe_round(4, 3, -1);
  }
  EXPECT_NEAR(q.acceptance(), 4.0 / 6.0, 1e-12);
  // A round without drafts says nothing about acceptance.
  q.observe_round(0, 0, -1);
  EXPECT_NEAR(q.acceptance(), 4.0 / 6.0, 1e-12);
}

TEST(SpecPolicy, MeasurementsFitTheCostModel) {
  DraftPolicy p;
  p.observe_rtt(10);
  for (int i = 0; i < 30; ++i) p.observe_draft_step(3);
  // Calls of k = 1..8 taking RTT + 2 ms + 0.5 ms per draft token.
  for (int i = 0; i < 40; ++i)
    for (int k = 1; k <= 8; ++k) p.observe_round(k, k / 2, 10 + 2 + 0.5 * k);
  const CostModel m = p.model();
  EXPECT_NEAR(m.rtt_ms, 10, 1e-9);
  EXPECT_NEAR(m.t_draft_ms, 3, 1e-9);
  EXPECT_NEAR(m.verify_fixed_ms, 2, 1e-6);
  EXPECT_NEAR(m.verify_per_token_ms, 0.5, 1e-6);
  // A call faster than the RTT estimate lowers it (a call holds at least one round trip).
  p.observe_round(1, 1, 6);
  EXPECT_NEAR(p.model().rtt_ms, 6, 1e-9);
  // All calls with (nearly) the same k: the slope is not measurable, the server time is all
  // fixed cost.
  DraftPolicy f;
  f.observe_rtt(1);
  for (int i = 0; i < 10; ++i) f.observe_round(4, 2, 1 + 7);
  f.observe_round(3, 2, 1 + 7.2);
  EXPECT_NEAR(f.model().verify_fixed_ms, 7, 0.05);
  EXPECT_EQ(f.model().verify_per_token_ms, 0);
  // The estimate uses them.
  const Estimate e = p.estimate(8, 100);
  EXPECT_GT(e.spec_tps, 0);
  EXPECT_NEAR(e.device_tps, 1000.0 / 3, 1e-6);
  EXPECT_GE(e.best_k, 1);
  EXPECT_LE(e.best_k, 8);
}

TEST(SpecPolicy, PerRoundOverheadCountsInTheRoundAndFavorsLongerDrafts) {
  // The shared pair on loopback (measured with spec_bench --explain): α ≈ 0.87, a draft step
  // 0.14 ms, RTT 0.06 ms, a verify call 0.5 ms + 0.05 ms per draft token.
  CostModel m{0.87, 0.14, 0.06, 0.5, 0.05};
  EXPECT_DOUBLE_EQ(m.round_overhead_ms, 0);
  const int k_without = best_draft_length(m, 8);
  EXPECT_LE(k_without, 5);
  // The client's own cost per round (thread hand-offs: milliseconds on a loaded machine) is paid
  // once per round whatever k is: rounds should be longer, and fewer.
  m.round_overhead_ms = 3;
  EXPECT_DOUBLE_EQ(round_ms(m, 4), 4 * 0.14 + 0.06 + 0.5 + 4 * 0.05 + 3);
  EXPECT_EQ(best_draft_length(m, 8), 8);
  EXPECT_GT(best_draft_length(m, 16), k_without);
  // The estimate pays it too.
  EXPECT_NEAR(estimate(m, 8, 128).spec_tps, expected_tokens_per_round(0.87, 8) * 1000 / round_ms(m, 8), 1e-9);
}

TEST(SpecPolicy, OverheadAndUntimedRoundsAreMeasuredApart) {
  DraftPolicy p;
  p.observe_rtt(0.1);
  EXPECT_EQ(p.model().round_overhead_ms, 0);  // nothing measured: none assumed
  p.observe_overhead(2);
  EXPECT_NEAR(p.model().round_overhead_ms, 2, 1e-12);
  for (int i = 0; i < 100; ++i) p.observe_overhead(1);
  EXPECT_NEAR(p.model().round_overhead_ms, 1, 1e-6);
  p.observe_overhead(-5);  // not a time: ignored
  EXPECT_NEAR(p.model().round_overhead_ms, 1, 1e-6);
  // Steady rounds: RTT + 0.4 ms + 0.1 ms per draft token.
  for (int i = 0; i < 20; ++i)
    for (int k : {2, 5, 8}) p.observe_round(k, k - 1, 0.1 + 0.4 + 0.1 * k);
  CostModel m = p.model();
  EXPECT_NEAR(m.verify_fixed_ms, 0.4, 1e-6);
  EXPECT_NEAR(m.verify_per_token_ms, 0.1, 1e-6);
  const double alpha = p.acceptance();
  // A call that carried the prompt (a long prefill: 30 ms) is passed untimed: the acceptance
  // learns from it, the verify cost and the RTT do not.
  p.observe_round(8, 8, -1);
  EXPECT_GT(p.acceptance(), alpha);
  m = p.model();
  EXPECT_NEAR(m.verify_fixed_ms, 0.4, 1e-6);
  EXPECT_NEAR(m.verify_per_token_ms, 0.1, 1e-6);
  EXPECT_NEAR(m.rtt_ms, 0.1, 1e-9);
}
