// How good a router is, measured as RouteLLM does (Ong et al., 2024): route the items a score
// ranks highest to the strong (cloud) model and the rest to the weak (device) model, and ask how
// much of the quality gap between all-weak and all-strong that recovers at each share of cloud
// calls. PGR (performance gap recovered) = (Q - Q_weak) / (Q_strong - Q_weak); APGR is the area
// under PGR over cloud share 0..1 (a random router's expected APGR is 0.5); CPT(x) is the
// smallest cloud share whose PGR reaches x. bench/route_eval applies it to the gateway's signals.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace tandem::edge {

struct RoutedItem {
  double score = 0;           // the router's reason to send this item to the cloud (higher: more)
  double weak_quality = 0;    // quality of the device model's answer
  double strong_quality = 0;  // quality of the cloud model's answer
};

struct QualityCurve {
  std::vector<double> cloud_share;  // 0, 1/n, ..., 1
  std::vector<double> pgr;          // at each share; empty when the gap is zero
};

// Items sent to the cloud in decreasing score order, one more at each point. Equal scores are
// taken as a group (their average), so the curve does not depend on the input order.
QualityCurve pgr_curve(const std::vector<RoutedItem>& items);
// The expected curve of a router that picks at random: PGR equal to the cloud share.
QualityCurve random_curve(size_t n_items);
// The best possible router: by the actual gain, strong minus weak.
QualityCurve oracle_curve(const std::vector<RoutedItem>& items);

double apgr(const QualityCurve& c);  // trapezoidal area over cloud share
// Smallest cloud share where PGR reaches target (between points, linearly); nullopt if never.
std::optional<double> cpt(const QualityCurve& c, double target);
// PGR at a cloud share (linear between points).
double pgr_at(const QualityCurve& c, double share);

}  // namespace tandem::edge
