// Sampler tests: greedy ties, determinism, softmax frequencies (chi-square), the exact sets kept
// by top-k / top-p / min-p, the repetition penalty, parameter validation, and that sample() and
// accept() allocate nothing (counted with the shared tests/alloc_counter helper).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <set>

#include "engine/sampler.h"
#include "format/error.h"
#include "alloc_counter.h"
#include "test_util.h"

using namespace tandem;

namespace {

// Deterministic logits for tests (not the sampler's RNG).
std::vector<float> random_logits(int n, uint64_t seed, float scale = 3.f) {
  Rng r(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = float((r.uniform() * 2 - 1) * scale);
  return v;
}

std::vector<double> softmax(const std::vector<float>& l, double t = 1.0) {
  double mx = *std::max_element(l.begin(), l.end());
  std::vector<double> p(l.size());
  double s = 0;
  for (size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp((l[i] - mx) / t);
  for (auto& x : p) x /= s;
  return p;
}

std::set<int32_t> kept_set(const Sampler& s) {
  std::set<int32_t> out;
  for (auto [t, p] : s.last_distribution()) out.insert(t);
  return out;
}

double dist_sum(const Sampler& s) {
  double sum = 0;
  for (auto [t, p] : s.last_distribution()) sum += p;
  return sum;
}

// Chi-square statistic of `draws` samples against probabilities p.
double chi_square(Sampler& s, const std::vector<float>& logits, const std::vector<double>& p, int draws) {
  std::vector<int> counts(p.size(), 0);
  for (int i = 0; i < draws; ++i) ++counts[size_t(s.sample(logits.data()))];
  double chi = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double e = p[i] * draws;
    chi += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST(SamplerRng, IsPinned) {
  // splitmix64-seeded xoshiro256**: these numbers must not change across platforms or versions.
  Rng r(0);
  EXPECT_EQ(r.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(r.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(r.next(), 0x1a5f849d4933e6e0ull);
  Rng r42(42);
  EXPECT_EQ(r42.next(), 0x15780b2e0c2ec716ull);
  for (int i = 0; i < 1000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(SamplerGreedy, ArgmaxTiesToLowerId) {
  std::vector<float> l = {1.f, 3.f, 3.f, 2.f, 3.f};
  EXPECT_EQ(argmax(l.data(), 5), 1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> with_nan = {nan, -1.f, 0.5f, nan, 0.5f};
  EXPECT_EQ(argmax(with_nan.data(), 5), 2);
  EXPECT_THROW(argmax(l.data(), 0), Error);

  Sampler s(SamplerParams{}, 5);  // temperature 0: greedy
  EXPECT_EQ(s.sample(l.data()), 1);
  ASSERT_EQ(s.last_distribution().size(), 1u);
  EXPECT_EQ(s.last_distribution()[0].first, 1);
  EXPECT_EQ(s.last_distribution()[0].second, 1.f);
  SamplerParams neg;
  neg.temperature = -1.f;
  Sampler s2(neg, 5);
  EXPECT_EQ(s2.sample(l.data()), 1);
}

TEST(SamplerTopK, TopKOneEqualsGreedy) {
  SamplerParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.seed = 7;
  Sampler s(p, 1000);
  for (int i = 0; i < 50; ++i) {
    auto l = random_logits(1000, 100 + uint64_t(i));
    if (i % 5 == 0) l[size_t(900)] = l[size_t(argmax(l.data(), 1000))];  // a tie: the lower id wins
    EXPECT_EQ(s.sample(l.data()), argmax(l.data(), 1000));
    EXPECT_EQ(s.last_distribution().size(), 1u);
  }
}

TEST(SamplerTopK, KeepsTheKBest) {
  SamplerParams p;
  p.temperature = 1.f;
  p.top_k = 3;
  std::vector<float> l = {0.f, 5.f, 1.f, 4.f, 4.f, -2.f, 3.f};
  Sampler s(p, 7);
  s.sample(l.data());
  EXPECT_EQ(kept_set(s), (std::set<int32_t>{1, 3, 4}));  // 4.f twice: both are within the top 3
  EXPECT_NEAR(dist_sum(s), 1.0, 1e-6);
  // sorted by probability, ties by id
  auto d = s.last_distribution();
  EXPECT_EQ(d[0].first, 1);
  EXPECT_EQ(d[1].first, 3);
  EXPECT_EQ(d[2].first, 4);
  p.top_k = 2;
  Sampler s2(p, 7);
  s2.sample(l.data());
  EXPECT_EQ(kept_set(s2), (std::set<int32_t>{1, 3}));  // the tie at the cut goes to the lower id
}

TEST(SamplerSeed, SameSeedSameSequenceDifferentSeedDifferent) {
  auto l = random_logits(2000, 5, 2.f);
  SamplerParams p;
  p.temperature = 1.f;
  auto run = [&](uint64_t seed, int top_k, float top_p) {
    SamplerParams q = p;
    q.seed = seed;
    q.top_k = top_k;
    q.top_p = top_p;
    Sampler s(q, 2000);
    std::vector<int32_t> out;
    for (int i = 0; i < 300; ++i) out.push_back(s.sample(l.data()));
    // reset() replays the sequence
    s.reset();
    for (int i = 0; i < 300; ++i) EXPECT_EQ(s.sample(l.data()), out[size_t(i)]);
    return out;
  };
  for (auto [k, tp] : {std::pair{0, 1.f}, std::pair{40, 1.f}, std::pair{0, 0.9f}, std::pair{50, 0.95f}}) {
    auto a = run(1, k, tp), b = run(1, k, tp), c = run(2, k, tp);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_GT(std::set<int32_t>(a.begin(), a.end()).size(), 10u);  // it does sample
  }
}

TEST(SamplerStats, FrequenciesMatchSoftmax) {
  // Chi-square with 5 degrees of freedom: P(chi2 > 25.7) = 1e-4. A correct sampler with this fixed
  // seed stays far below; a sampler that ignores the temperature, is off by one, draws uniformly
  // or picks the argmax scores in the hundreds or thousands.
  const std::vector<float> l = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f};
  const int draws = 100000;
  for (double t : {1.0, 0.5, 2.0}) {
    SamplerParams p;
    p.temperature = float(t);
    p.seed = 1234;
    Sampler s(p, int32_t(l.size()));
    auto expected = softmax(l, t);
    double chi = chi_square(s, l, expected, draws);
    EXPECT_LT(chi, 25.7) << "temperature " << t;
    // The reported distribution is the softmax itself, in id order (no truncation).
    auto d = s.last_distribution();
    ASSERT_EQ(d.size(), l.size());
    for (size_t i = 0; i < l.size(); ++i) {
      EXPECT_EQ(d[i].first, int32_t(i));
      EXPECT_NEAR(d[i].second, expected[i], 1e-6);
    }
    // And the statistic does catch a wrong distribution.
    Sampler s2(p, int32_t(l.size()));
    EXPECT_GT(chi_square(s2, l, softmax(l, t * 1.25), draws), 100.0) << "temperature " << t;
  }
}

TEST(SamplerTopP, KeepsTheSmallestSetReachingP) {
  // Probabilities 1/2, 1/4, 1/8, 1/16, 1/16 at shuffled ids.
  const std::vector<int32_t> ids = {3, 0, 4, 1, 2};
  const double probs[] = {0.5, 0.25, 0.125, 0.0625, 0.0625};
  std::vector<float> l(5);
  for (int i = 0; i < 5; ++i) l[size_t(ids[size_t(i)])] = float(std::log(probs[i]));
  auto kept = [&](float top_p, float min_p = 0.f, int top_k = 0) {
    SamplerParams p;
    p.temperature = 1.f;
    p.top_p = top_p;
    p.min_p = min_p;
    p.top_k = top_k;
    Sampler s(p, 5);
    s.sample(l.data());
    EXPECT_NEAR(dist_sum(s), 1.0, 1e-6);
    return kept_set(s);
  };
  EXPECT_EQ(kept(0.1f), (std::set<int32_t>{3}));
  EXPECT_EQ(kept(0.0f), (std::set<int32_t>{3}));  // at least one token
  EXPECT_EQ(kept(0.6f), (std::set<int32_t>{3, 0}));
  EXPECT_EQ(kept(0.8f), (std::set<int32_t>{3, 0, 4}));
  EXPECT_EQ(kept(0.9f), (std::set<int32_t>{3, 0, 4, 1}));
  EXPECT_EQ(kept(0.99f), (std::set<int32_t>{3, 0, 4, 1, 2}));
  EXPECT_EQ(kept(1.0f), (std::set<int32_t>{3, 0, 4, 1, 2}));
  // top-p after top-k renormalizes over the k kept: {1/2, 1/4} -> {2/3, 1/3}; 0.6 keeps the first.
  EXPECT_EQ(kept(0.6f, 0.f, 2), (std::set<int32_t>{3}));
  EXPECT_EQ(kept(0.7f, 0.f, 2), (std::set<int32_t>{3, 0}));

  // Renormalized probabilities and the order of the kept set.
  SamplerParams p;
  p.temperature = 1.f;
  p.top_p = 0.8f;
  Sampler s(p, 5);
  s.sample(l.data());
  auto d = s.last_distribution();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].first, 3);
  EXPECT_NEAR(d[0].second, 0.5 / 0.875, 1e-6);
  EXPECT_EQ(d[1].first, 0);
  EXPECT_NEAR(d[1].second, 0.25 / 0.875, 1e-6);
  EXPECT_EQ(d[2].first, 4);
  EXPECT_NEAR(d[2].second, 0.125 / 0.875, 1e-6);
}

TEST(SamplerTopP, LargeVocabularyNeedsManyTokens) {
  // 5000 equal logits: top_p = 0.5 keeps exactly 2500, the lowest ids (ties by id).
  const int V = 5000;
  std::vector<float> l(V, 0.25f);
  SamplerParams p;
  p.temperature = 1.f;
  p.top_p = 0.5f;
  Sampler s(p, V);
  s.sample(l.data());
  auto k = kept_set(s);
  ASSERT_EQ(k.size(), 2500u);
  EXPECT_EQ(*k.begin(), 0);
  EXPECT_EQ(*k.rbegin(), 2499);
  // Random logits: compare with a straightforward full sort.
  auto r = random_logits(V, 77, 4.f);
  for (float tp : {0.3f, 0.9f, 0.999f}) {
    p.top_p = tp;
    Sampler s2(p, V);
    s2.sample(r.data());
    std::vector<int32_t> order(V);
    for (int i = 0; i < V; ++i) order[size_t(i)] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return r[size_t(a)] > r[size_t(b)] || (r[size_t(a)] == r[size_t(b)] && a < b); });
    auto pr = softmax(r);
    double cum = 0;
    std::set<int32_t> want;
    for (int32_t id : order) {
      want.insert(id);
      cum += pr[size_t(id)];
      if (cum >= tp) break;
    }
    EXPECT_EQ(kept_set(s2), want) << "top_p " << tp;
  }
}

TEST(SamplerMinP, KeepsTokensAboveFractionOfMax) {
  const std::vector<int32_t> ids = {2, 4, 0, 3, 1};
  const double probs[] = {0.5, 0.25, 0.125, 0.0625, 0.0625};
  std::vector<float> l(5);
  for (int i = 0; i < 5; ++i) l[size_t(ids[size_t(i)])] = float(std::log(probs[i]) + 7.0);  // shift: no effect
  auto kept = [&](float min_p, float top_p = 1.f) {
    SamplerParams p;
    p.temperature = 0.7f;
    p.min_p = min_p;
    p.top_p = top_p;
    Sampler s(p, 5);
    s.sample(l.data());
    EXPECT_NEAR(dist_sum(s), 1.0, 1e-6);
    return kept_set(s);
  };
  EXPECT_EQ(kept(0.f), (std::set<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(kept(0.1f), (std::set<int32_t>{0, 1, 2, 3, 4}));  // 1/16 >= 0.05
  EXPECT_EQ(kept(0.2f), (std::set<int32_t>{2, 4, 0}));        // >= 0.1
  EXPECT_EQ(kept(0.4f), (std::set<int32_t>{2, 4}));           // >= 0.2
  EXPECT_EQ(kept(0.9f), (std::set<int32_t>{2}));
  EXPECT_EQ(kept(1.0f), (std::set<int32_t>{2}));
  EXPECT_EQ(kept(0.2f, 0.6f), (std::set<int32_t>{2, 4}));  // top-p first, then min-p
  EXPECT_EQ(kept(0.4f, 0.9f), (std::set<int32_t>{2, 4}));
}

TEST(SamplerPenalty, ChangesTheArgmaxAsLlamaCppDoes) {
  SamplerParams p;  // greedy
  p.repeat_penalty = 1.5f;
  p.repeat_last_n = 2;
  {
    std::vector<float> l = {2.0f, 1.9f, -1.0f, -1.1f};
    Sampler s(p, 4);
    EXPECT_EQ(s.sample(l.data()), 0);
    s.accept(0);  // 2.0 / 1.5 = 1.33 < 1.9
    EXPECT_EQ(s.sample(l.data()), 1);
    s.accept(3);
    EXPECT_EQ(s.sample(l.data()), 1);
    s.accept(3);  // the window of 2 forgets token 0
    EXPECT_EQ(s.sample(l.data()), 0);
    s.reset();
    EXPECT_EQ(s.sample(l.data()), 0);
  }
  {
    // Negative logits are multiplied: -1.0 * 1.5 = -1.5 < -1.2.
    std::vector<float> l = {-1.0f, -1.2f};
    Sampler s(p, 2);
    s.accept(0);
    EXPECT_EQ(s.sample(l.data()), 1);
  }
  {
    // Once per distinct token: 2.0 / 1.5 = 1.33 > 1.0 (twice would give 0.89 < 1.0).
    std::vector<float> l = {2.0f, 1.0f};
    Sampler s(p, 2);
    s.accept(0);
    s.accept(0);
    EXPECT_EQ(s.sample(l.data()), 0);
  }
  {
    // Penalty before top-k: with top_k = 1 the penalized token loses its place.
    SamplerParams q = p;
    q.temperature = 1.f;
    q.top_k = 1;
    std::vector<float> l = {2.0f, 1.9f, -1.0f};
    Sampler s(q, 3);
    s.accept(0);
    EXPECT_EQ(s.sample(l.data()), 1);
    EXPECT_EQ(s.last_distribution()[0].first, 1);
  }
  {
    // repeat_last_n = 0 or penalty 1: nothing changes.
    std::vector<float> l = {2.0f, 1.9f};
    SamplerParams q = p;
    q.repeat_last_n = 0;
    Sampler s(q, 2);
    s.accept(0);
    EXPECT_EQ(s.sample(l.data()), 0);
    q = p;
    q.repeat_penalty = 1.f;
    Sampler s2(q, 2);
    s2.accept(0);
    EXPECT_EQ(s2.sample(l.data()), 0);
  }
  // The input logits are not modified.
  std::vector<float> l = {2.0f, 1.9f};
  Sampler s(p, 2);
  s.accept(0);
  s.sample(l.data());
  EXPECT_EQ(l[0], 2.0f);
}

TEST(SamplerParamsCheck, RejectsBadValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto bad = [](auto mutate, const char* needle) {
    SamplerParams p;
    mutate(p);
    try {
      Sampler s(p, 10);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  bad([&](SamplerParams& p) { p.temperature = nan; }, "temperature");
  bad([&](SamplerParams& p) { p.temperature = std::numeric_limits<float>::infinity(); }, "temperature");
  bad([&](SamplerParams& p) { p.top_p = nan; }, "top_p");
  bad([&](SamplerParams& p) { p.top_p = 1.5f; }, "top_p");
  bad([&](SamplerParams& p) { p.top_p = -0.1f; }, "top_p");
  bad([&](SamplerParams& p) { p.min_p = nan; }, "min_p");
  bad([&](SamplerParams& p) { p.min_p = 2.f; }, "min_p");
  bad([&](SamplerParams& p) { p.min_p = -1.f; }, "min_p");
  bad([&](SamplerParams& p) { p.repeat_penalty = 0.f; }, "repeat_penalty");
  bad([&](SamplerParams& p) { p.repeat_penalty = nan; }, "repeat_penalty");
  bad([&](SamplerParams& p) { p.repeat_penalty = -1.f; }, "repeat_penalty");
  bad([&](SamplerParams& p) { p.repeat_last_n = -1; }, "repeat_last_n");
  EXPECT_THROW(Sampler(SamplerParams{}, 0), Error);
  Sampler s(SamplerParams{}, 10);
  EXPECT_THROW(s.accept(10), Error);
  EXPECT_THROW(s.accept(-1), Error);
  EXPECT_THROW(s.sample(nullptr), Error);
  SamplerParams ok;
  ok.top_k = -5;  // <= 0 is off
  ok.temperature = 1.f;
  EXPECT_NO_THROW(Sampler(ok, 10));
}

TEST(SamplerEdge, NanAndInfiniteLogits) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  SamplerParams p;
  p.temperature = 1.f;
  p.top_p = 0.9f;
  std::vector<float> l = {nan, -inf, 1.f, nan, 1.f};
  Sampler s(p, 5);
  for (int i = 0; i < 50; ++i) {
    int32_t t = s.sample(l.data());
    EXPECT_TRUE(t == 2 || t == 4) << t;
  }
  std::vector<float> all_neg_inf(5, -inf);
  EXPECT_EQ(s.sample(all_neg_inf.data()), 0);
}

TEST(SamplerAlloc, SampleAndAcceptDoNotAllocate) {
  const int V = 32000;
  auto l = random_logits(V, 3, 5.f);
  std::vector<SamplerParams> configs(7);
  configs[1].repeat_penalty = 1.3f;                                            // greedy + penalty
  configs[2].temperature = 0.8f;                                               // full softmax
  configs[3].temperature = 0.8f, configs[3].top_k = 40;                        // top-k
  configs[4].temperature = 0.8f, configs[4].top_p = 0.999f;                    // chunked top-p
  configs[5].temperature = 0.8f, configs[5].min_p = 0.05f;                     // min-p
  configs[6].temperature = 0.8f, configs[6].top_k = 100, configs[6].top_p = 0.9f, configs[6].min_p = 0.01f,
  configs[6].repeat_penalty = 1.1f;                                            // all of it
  {
    test::AllocCounter probe;  // the counter itself works
    auto* v = new std::vector<int>(10);
    delete v;
    EXPECT_GE(probe.count(), 2u);
  }
  for (size_t c = 0; c < configs.size(); ++c) {
    Sampler s(configs[c], V);
    size_t n;
    {
      test::AllocCounter counter;
      for (int i = 0; i < 200; ++i) {
        int32_t t = s.sample(l.data());
        s.accept(t);
      }
      s.reset();
      n = counter.count();
    }
    EXPECT_EQ(n, 0u) << "config " << c;
  }
}
