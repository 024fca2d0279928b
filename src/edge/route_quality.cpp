#include "edge/route_quality.h"

#include <algorithm>
#include <numeric>

namespace tandem::edge {

namespace {

// Mean qualities when the first k items of `order` go to the cloud, for k = 0..n; groups of
// equal keys are averaged so ties do not depend on input order.
QualityCurve curve_by(const std::vector<RoutedItem>& items, const std::vector<double>& key) {
  const size_t n = items.size();
  QualityCurve c;
  if (n == 0) return c;
  double q_weak = 0, q_strong = 0;
  for (const auto& it : items) {
    q_weak += it.weak_quality;
    q_strong += it.strong_quality;
  }
  q_weak /= double(n);
  q_strong /= double(n);
  const double gap = q_strong - q_weak;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] > key[b]; });
  c.cloud_share.resize(n + 1);
  std::vector<double> total(n + 1);  // sum of qualities with the first k in the cloud
  total[0] = q_weak * double(n);
  for (size_t k = 0; k < n; ++k) {
    const auto& it = items[order[k]];
    total[k + 1] = total[k] + it.strong_quality - it.weak_quality;
  }
  // Within a run of equal keys every subset is equally likely: the expected sum is linear
  // between the run's ends.
  for (size_t b = 0; b < n;) {
    size_t e = b + 1;
    while (e < n && key[order[e]] == key[order[b]]) ++e;
    for (size_t k = b + 1; k < e; ++k)
      total[k] = total[b] + (total[e] - total[b]) * double(k - b) / double(e - b);
    b = e;
  }
  for (size_t k = 0; k <= n; ++k) c.cloud_share[k] = double(k) / double(n);
  if (gap == 0) return c;
  c.pgr.resize(n + 1);
  for (size_t k = 0; k <= n; ++k) c.pgr[k] = (total[k] / double(n) - q_weak) / gap;
  return c;
}

}  // namespace

QualityCurve pgr_curve(const std::vector<RoutedItem>& items) {
  std::vector<double> key;
  for (const auto& it : items) key.push_back(it.score);
  return curve_by(items, key);
}

QualityCurve oracle_curve(const std::vector<RoutedItem>& items) {
  std::vector<double> key;
  for (const auto& it : items) key.push_back(it.strong_quality - it.weak_quality);
  return curve_by(items, key);
}

QualityCurve random_curve(size_t n_items) {
  QualityCurve c;
  for (size_t k = 0; k <= n_items && n_items > 0; ++k) {
    c.cloud_share.push_back(double(k) / double(n_items));
    c.pgr.push_back(double(k) / double(n_items));
  }
  return c;
}

double apgr(const QualityCurve& c) {
  double a = 0;
  for (size_t i = 1; i < c.pgr.size(); ++i)
    a += (c.cloud_share[i] - c.cloud_share[i - 1]) * (c.pgr[i] + c.pgr[i - 1]) / 2;
  return a;
}

std::optional<double> cpt(const QualityCurve& c, double target) {
  for (size_t i = 0; i < c.pgr.size(); ++i) {
    if (c.pgr[i] < target) continue;
    if (i == 0) return c.cloud_share[0];
    const double t = (target - c.pgr[i - 1]) / (c.pgr[i] - c.pgr[i - 1]);
    return c.cloud_share[i - 1] + t * (c.cloud_share[i] - c.cloud_share[i - 1]);
  }
  return std::nullopt;
}

double pgr_at(const QualityCurve& c, double share) {
  if (c.pgr.empty()) return 0;
  for (size_t i = 1; i < c.pgr.size(); ++i)
    if (share <= c.cloud_share[i]) {
      const double t = (share - c.cloud_share[i - 1]) / (c.cloud_share[i] - c.cloud_share[i - 1]);
      return c.pgr[i - 1] + t * (c.pgr[i] - c.pgr[i - 1]);
    }
  return c.pgr.back();
}

}  // namespace tandem::edge
