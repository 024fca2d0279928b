// Sampled speculative decoding keeps the target's distribution: over a fixed set of seeds, the
// first two tokens of SpeculativeSession::generate (temperature 1, top-k 8, drafts of 2 from
// the q4_0 model with its own sparse q) follow the f32 target's exact joint distribution, computed
// with the engine (chi-square at the 0.999 level), and never leave its top-k support. The same
// test would reject the draft model's own distribution (its expected chi-square is far above the
// limit), so it can tell the two apart. Seeds are fixed: the test is deterministic.
#include <cmath>
#include <map>

#include "format/error.h"
#include "spec_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

using Joint = std::map<std::pair<int32_t, int32_t>, double>;

// The model's joint distribution of the next two tokens after the prompt, under the sampler.
Joint joint_distribution(const LoadedModel& m, const std::vector<int32_t>& prompt, const SamplerParams& sp) {
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_threads = 1;
  Context ctx(*m.model, cp);
  Sampler s(sp, ctx.n_vocab());
  s.sample(ctx.eval(0, prompt));
  const std::vector<std::pair<int32_t, float>> first(s.last_distribution().begin(), s.last_distribution().end());
  Joint j;
  for (const auto& [t1, p1] : first) {
    ctx.truncate(0, int32_t(prompt.size()));
    s.sample(ctx.eval(0, std::vector<int32_t>{t1}));
    for (const auto& [t2, p2] : s.last_distribution()) j[{t1, t2}] += double(p1) * double(p2);
  }
  return j;
}

// The 0.999 quantile of chi-square with df degrees of freedom (Wilson-Hilferty; within 1 % for
// df >= 3, slightly conservative below).
double chi2_limit(int df) {
  const double z = 3.0902, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

// Pearson's statistic of counts against expected probabilities (bins expecting < 5 pooled);
// sets *df.
double chi2(const Joint& p, const std::map<std::pair<int32_t, int32_t>, double>& observed, double n, int* df) {
  double stat = 0, pe = 0, po = 0;
  int bins = 0;
  for (const auto& [key, pr] : p) {
    const double e = pr * n;
    const auto it = observed.find(key);
    const double o = it == observed.end() ? 0 : it->second;
    if (e < 5) {
      pe += e;
      po += o;
      continue;
    }
    stat += (o - e) * (o - e) / e;
    ++bins;
  }
  if (pe > 0) {
    stat += (po - pe) * (po - pe) / pe;
    ++bins;
  }
  *df = bins - 1;
  return stat;
}

}  // namespace

TEST(SpecSampling, FirstTokensFollowTheTargetsDistribution) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  // "The sun was shining and the birds were singing.": a flat next-token distribution (top
  // probability 0.19 at temperature 1) on which the q4_0 draft differs from the target.
  const std::vector<int32_t> prompt = reference_prompts().at(3);
  SamplerParams sp;
  sp.temperature = 1;
  sp.top_k = 8;
  const Joint p = joint_distribution(target_model(), prompt, sp);
  const Joint q = joint_distribution(draft_model(), prompt, sp);

  auto cfg = spec_config(s.port);
  cfg.draft_max = 2;
  cfg.adaptive = false;
  cfg.pipeline = false;  // the draws then depend on the seed alone
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  const int N = 1500;
  std::map<std::pair<int32_t, int32_t>, double> counts;
  int64_t drafted = 0, accepted = 0;
  int outside = 0;
  for (int seed = 0; seed < N; ++seed) {
    sp.seed = uint64_t(seed) * 7919 + 11;
    const auto r = session.generate(prompt, sp, 3);
    ASSERT_GE(r.tokens.size(), 2u) << r.finish_reason;
    ASSERT_EQ(r.degraded_from, -1) << r.degraded_reason;
    const std::pair<int32_t, int32_t> key{r.tokens[0], r.tokens[1]};
    counts[key] += 1;
    if (!p.count(key)) ++outside;
    drafted += r.stats.drafted;
    accepted += r.stats.accepted;
  }
  EXPECT_EQ(outside, 0) << "a token outside the target's top-k came out";
  int df = 0;
  const double stat = chi2(p, counts, N, &df);
  ASSERT_GE(df, 3);
  std::printf("[spec] sampling: chi-square %.1f, %d degrees of freedom, limit %.1f; acceptance %.3f\n", stat, df,
              chi2_limit(df), double(accepted) / double(drafted));
  EXPECT_LT(stat, chi2_limit(df));
  // Both paths of the rejection rule ran.
  EXPECT_GT(accepted, drafted / 10);
  EXPECT_LT(accepted, drafted);
  // Power: had the output followed the draft's q, the expected statistic would be N · χ²(q‖p).
  std::map<std::pair<int32_t, int32_t>, double> expected_q;
  for (const auto& [key, pr] : q) expected_q[key] = pr * N;
  int df_q = 0;
  const double stat_q = chi2(p, expected_q, N, &df_q);
  std::printf("[spec] sampling: the draft's own distribution would give %.1f (limit %.1f)\n", stat_q, chi2_limit(df_q));
  EXPECT_GT(stat_q, 2 * chi2_limit(df_q)) << "the test could not tell q from p";

  // The same seed gives the same tokens.
  sp.seed = 11;
  const auto a = session.generate(prompt, sp, 12), b = session.generate(prompt, sp, 12);
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(SpecSampling, ARepetitionPenaltyIsRefused) {
  REQUIRE_SPEC_MODELS();
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, spec_config(1));
  SamplerParams sp;
  sp.temperature = 1;
  sp.repeat_penalty = 1.1f;
  EXPECT_THROW(session.generate(std::vector<int32_t>{1, 403}, sp, 4), Error);
}
