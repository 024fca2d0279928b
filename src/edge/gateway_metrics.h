// The gateway's metrics in Prometheus' text exposition format (GET /metrics): requests by route,
// tier and status, failures, tokens on each side and their cost, counted from the HTTP threads;
// the endpoints' round trips, breakers and sync state and the budget read when rendering.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "edge/budget.h"
#include "edge/connectivity.h"
#include "edge/orchestrator.h"

namespace tandem::edge {

class GatewayMetrics {
 public:
  // One finished request, under the route the plan chose.
  void count(const std::string& route, const Outcome& o);
  std::string render(const Connectivity& conn, const Budget& budget) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> requests_;  // route|served_by|status
  std::map<std::string, int64_t> failures_;  // failure
  int64_t tokens_device_ = 0, tokens_cloud_ = 0;
  double cost_usd_ = 0;
};

// A double as the metrics and the x-tandem-* headers write it (10 significant digits).
std::string fmt_double(double v);

}  // namespace tandem::edge
