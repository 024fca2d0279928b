// RouteLLM's router measures (edge/route_quality.h) on cases worked out by hand: a perfect and a
// backwards router, ties, a random router's APGR of one half, CPT's interpolation, no gap.
#include <gtest/gtest.h>

#include "edge/route_quality.h"

using namespace tandem::edge;

namespace {
// Four items; only items 0 and 1 gain from the cloud (by 3 and 1).
std::vector<RoutedItem> items(std::vector<double> scores) {
  return {{scores[0], 0, 3}, {scores[1], 1, 2}, {scores[2], 2, 2}, {scores[3], 5, 5}};
}
}  // namespace

TEST(RouteQuality, CurvesOfAPerfectAndABackwardsRouter) {
  // Total gap 4 (mean 1). Best order: item 0 (+3), item 1 (+1), then nothing.
  const QualityCurve good = pgr_curve(items({9, 5, 1, 0}));
  ASSERT_EQ(good.pgr.size(), 5u);
  EXPECT_DOUBLE_EQ(good.pgr[0], 0);
  EXPECT_DOUBLE_EQ(good.pgr[1], 0.75);
  EXPECT_DOUBLE_EQ(good.pgr[2], 1);
  EXPECT_DOUBLE_EQ(good.pgr[4], 1);
  // Area: 0.25 * ((0 + .75) + (.75 + 1) + (1 + 1) + (1 + 1)) / 2.
  EXPECT_DOUBLE_EQ(apgr(good), 0.25 * (0.75 + 1.75 + 2 + 2) / 2);
  const QualityCurve oracle = oracle_curve(items({0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(apgr(oracle), apgr(good));
  const QualityCurve bad = pgr_curve(items({0, 1, 5, 9}));
  EXPECT_DOUBLE_EQ(bad.pgr[2], 0);
  EXPECT_DOUBLE_EQ(bad.pgr[3], 0.25);
  EXPECT_LT(apgr(bad), 0.5);
  EXPECT_GT(apgr(good), 0.5);
}

TEST(RouteQuality, TiesAreAveragedAndRandomIsOneHalf) {
  // All scores equal: the expected curve of picking at random, a straight line.
  const QualityCurve flat = pgr_curve(items({1, 1, 1, 1}));
  for (size_t k = 0; k <= 4; ++k) EXPECT_NEAR(flat.pgr[k], k / 4.0, 1e-12);
  EXPECT_NEAR(apgr(flat), 0.5, 1e-12);
  EXPECT_NEAR(apgr(random_curve(7)), 0.5, 1e-12);
  // The input order does not matter with ties.
  std::vector<RoutedItem> r = items({1, 1, 1, 1});
  std::swap(r[0], r[3]);
  EXPECT_NEAR(apgr(pgr_curve(r)), 0.5, 1e-12);
}

TEST(RouteQuality, CptInterpolatesAndNoGapGivesNoCurve) {
  const QualityCurve good = pgr_curve(items({9, 5, 1, 0}));
  EXPECT_DOUBLE_EQ(*cpt(good, 0.75), 0.25);
  EXPECT_DOUBLE_EQ(*cpt(good, 0.375), 0.125);  // halfway to the first point
  EXPECT_DOUBLE_EQ(*cpt(good, 0.875), 0.375);
  EXPECT_FALSE(cpt(good, 1.5));
  EXPECT_DOUBLE_EQ(pgr_at(good, 0.125), 0.375);
  const QualityCurve none = pgr_curve({{1, 2, 2}, {0, 3, 3}});
  EXPECT_TRUE(none.pgr.empty());
  EXPECT_EQ(apgr(none), 0);
  EXPECT_TRUE(pgr_curve({}).pgr.empty());
}
