#include "edge/gateway_metrics.h"

#include <sstream>

namespace tandem::edge {

std::string fmt_double(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

void GatewayMetrics::count(const std::string& route, const Outcome& o) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_["route=\"" + route + "\",served_by=\"" + o.served_by + "\",status=\"" + o.status + "\""];
  if (o.failure != Failure::None) ++failures_[failure_name(o.failure)];
  tokens_device_ += o.prompt_tokens_device + o.completion_tokens_device;
  tokens_cloud_ += o.prompt_tokens_cloud + o.completion_tokens_cloud;
  cost_usd_ += o.cost_usd;
}

std::string GatewayMetrics::render(const Connectivity& conn, const Budget& budget) const {
  std::ostringstream o;
  {
    std::lock_guard<std::mutex> lk(mu_);
    o << "# TYPE tandem_edge_requests_total counter\n";
    for (const auto& [k, v] : requests_) o << "tandem_edge_requests_total{" << k << "} " << v << "\n";
    o << "# TYPE tandem_edge_failures_total counter\n";
    for (const auto& [k, v] : failures_) o << "tandem_edge_failures_total{failure=\"" << k << "\"} " << v << "\n";
    o << "# TYPE tandem_edge_tokens_total counter\n"
      << "tandem_edge_tokens_total{where=\"device\"} " << tokens_device_ << "\n"
      << "tandem_edge_tokens_total{where=\"cloud\"} " << tokens_cloud_ << "\n"
      << "# TYPE tandem_edge_cost_usd_total counter\ntandem_edge_cost_usd_total " << fmt_double(cost_usd_) << "\n";
  }
  o << "# TYPE tandem_edge_endpoint_rtt_ms gauge\n";
  std::ostringstream br, ds;
  for (const auto& e : conn.endpoints()) {
    const auto sn = e->snapshot();
    if (sn.rtt_ms) o << "tandem_edge_endpoint_rtt_ms{endpoint=\"" << sn.name << "\"} " << *sn.rtt_ms << "\n";
    br << "tandem_edge_endpoint_breaker_open{endpoint=\"" << sn.name << "\"} "
       << (sn.breaker == BreakerState::Open ? 1 : 0) << "\n";
    ds << "tandem_edge_endpoint_desynced{endpoint=\"" << sn.name << "\"} " << (sn.desynced ? 1 : 0) << "\n";
  }
  o << "# TYPE tandem_edge_endpoint_breaker_open gauge\n" << br.str();
  o << "# TYPE tandem_edge_endpoint_desynced gauge\n" << ds.str();
  o << "# TYPE tandem_edge_budget_spent_usd gauge\ntandem_edge_budget_spent_usd " << fmt_double(budget.spent_today())
    << "\n";
  return o.str();
}

}  // namespace tandem::edge
