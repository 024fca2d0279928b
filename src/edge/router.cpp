#include "edge/router.h"

#include <algorithm>

namespace tandem::edge {

const char* route_name(Route r) {
  switch (r) {
    case Route::Local: return "LOCAL";
    case Route::Cloud: return "CLOUD";
    case Route::Speculative: return "SPECULATIVE";
    case Route::Cascade: return "CASCADE";
    case Route::Peer: return "PEER";
  }
  return "LOCAL";
}

double worst_case_cost(const EndpointView& e, int64_t prompt_tokens, int64_t max_tokens) {
  return token_cost_usd(e.price_input_per_1m, e.price_output_per_1m, prompt_tokens, max_tokens);
}

namespace {

std::vector<EndpointView> usable_sorted(const RouteInputs& in, bool peers) {
  std::vector<EndpointView> out;
  if (in.device.online == false) return out;  // the host says there is no network at all
  for (const auto& e : in.endpoints)
    if (e.peer == peers && e.usable) out.push_back(e);
  std::stable_sort(out.begin(), out.end(), [](const EndpointView& a, const EndpointView& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.rtt_ms.value_or(1e12) < b.rtt_ms.value_or(1e12);
  });
  return out;
}

std::vector<std::string> names(const std::vector<EndpointView>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.name);
  return out;
}

Thermal thermal_threshold(const std::string& s) { return parse_thermal(s).value_or(Thermal::Serious); }

}  // namespace

RouteDecision decide_route(const RouteInputs& in, const EdgeConfig& cfg) {
  RouteDecision d;
  auto& why = d.reasons;
  auto local = [&](const std::string& reason) {
    d.route = Route::Local;
    d.endpoints.clear();
    if (!reason.empty()) why.push_back(reason);
    return d;
  };

  // 1. Privacy beats everything.
  if (in.privacy_failed) return local("privacy:check_failed");
  if (in.keep_local) return local("privacy:keep_local");
  if (in.privacy_no_consent) return local("privacy:strict_no_consent");
  if (in.from_peer) return local("mesh:from_peer");
  if (in.policy == "local") return local("policy:local");

  // 2. Connectivity, with the budget filtering what may be spent.
  const std::vector<EndpointView> clouds = usable_sorted(in, false), peers = usable_sorted(in, true);
  std::vector<EndpointView> affordable;
  for (const auto& e : clouds)
    if (!in.budget_remaining_usd || worst_case_cost(e, in.prompt_tokens, in.max_tokens) <= *in.budget_remaining_usd)
      affordable.push_back(e);
  const bool budget_blocked = !clouds.empty() && affordable.empty();
  d.offline = clouds.empty() && peers.empty();
  if (d.offline) {
    why.push_back(in.device.online == false ? "connectivity:offline" : "connectivity:no_endpoint");
    d.notice = "offline: answering on the device only; complex requests may be answered less well";
    if (cfg.offline_max_tokens > 0 && in.max_tokens > cfg.offline_max_tokens) d.max_tokens_cap = cfg.offline_max_tokens;
    return local("");
  }
  // Where the work goes when it must leave the device: the cloud, else a peer, else stay.
  auto offload = [&](Route cloud_route) {
    if (!affordable.empty()) {
      d.route = cloud_route;
      d.endpoints = names(affordable);
      // Should every cloud fail before the first token, a LAN peer comes before the device.
      for (const auto& p : names(peers)) d.endpoints.push_back(p);
      return d;
    }
    if (!peers.empty()) {
      why.push_back(budget_blocked ? "budget:exhausted" : "cloud:unavailable");
      d.route = Route::Peer;
      d.endpoints = names(peers);
      return d;
    }
    return local(budget_blocked ? "budget:exhausted" : "cloud:unavailable");
  };

  // Policies that name a route (still below privacy, connectivity and the budget).
  if (in.policy == "cloud") {
    why.push_back("policy:cloud");
    return offload(Route::Cloud);
  }
  if (in.policy == "peer") {
    why.push_back("policy:peer");
    if (peers.empty()) return local("peer:unavailable");
    d.route = Route::Peer;
    d.endpoints = names(peers);
    return d;
  }
  if (in.policy == "cascade") {
    why.push_back("policy:cascade");
    if (affordable.empty()) return local(budget_blocked ? "budget:exhausted" : "cloud:unavailable");
    d.route = Route::Cascade;
    d.endpoints = names(affordable);
    return d;
  }
  // The speculation estimate, asked for once, and only by the rules below that consider it.
  std::optional<SpeculationEstimate> estimate;
  bool estimated = false;
  auto speculation = [&]() -> const std::optional<SpeculationEstimate>& {
    if (!estimated && in.speculation) estimate = in.speculation();
    estimated = true;
    return estimate;
  };
  // explain: the policy asked for speculation, so it is used wherever it is possible (reachable,
  // same vocabulary), even when the estimate says the plain cloud call would be faster.
  auto speculation_ok = [&](bool explain) {
    // Speculation sends the device's rendering of the prompt, not the redacted body.
    if (in.privacy_redacted) {
      if (explain) why.push_back("speculation:redacted");
      return false;
    }
    if (affordable.empty() || !speculation()) {
      // No estimate: the runner is missing, or no reachable endpoint shares the device's
      // vocabulary (the orchestrator asks only about those); say which.
      const bool all_desynced = !affordable.empty() && std::all_of(affordable.begin(), affordable.end(),
                                                                   [](const EndpointView& e) { return e.desynced; });
      if (explain) why.push_back(all_desynced ? "speculation:desynced" : "speculation:unavailable");
      return false;
    }
    const auto it = std::find_if(affordable.begin(), affordable.end(),
                                 [&](const EndpointView& e) { return e.name == estimate->endpoint; });
    if (it == affordable.end() || it->desynced) {
      if (explain) why.push_back(it == affordable.end() ? "speculation:unavailable" : "speculation:desynced");
      return false;
    }
    if (estimate->speculative_ms >= estimate->cloud_ms) {
      why.push_back("speculation:slower");
      return explain;
    }
    why.push_back("speculation:faster");
    return true;
  };
  auto speculative = [&]() {
    d.route = Route::Speculative;
    d.endpoints = {estimate->endpoint};
    for (const auto& e : affordable)
      if (e.name != estimate->endpoint) d.endpoints.push_back(e.name);
    return d;
  };
  if (in.policy == "speculative") {
    why.push_back("policy:speculative");
    if (speculation_ok(true)) return speculative();
    return offload(Route::Cloud);
  }

  // 3. Device state: offload where privacy (already checked) allows.
  const DeviceState& dev = in.device;
  bool constrained = false;
  if (dev.battery_pct && *dev.battery_pct < cfg.battery_low_pct && dev.charging != true) {
    why.push_back("device:battery_low");
    constrained = true;
  }
  if (dev.thermal && *dev.thermal >= thermal_threshold(cfg.thermal_offload)) {
    why.push_back(std::string("device:thermal_") + thermal_name(*dev.thermal));
    constrained = true;
  }
  if (cfg.min_free_mem_mb > 0 && dev.free_mem_mb && *dev.free_mem_mb < cfg.min_free_mem_mb) {
    why.push_back("device:low_memory");
    constrained = true;
  }
  if (constrained) return offload(Route::Cloud);

  // 4. Complexity.
  bool complex = false;
  if (in.task_hint == "complex") {
    why.push_back("complexity:hint");
    complex = true;
  } else if (!in.task_hint.empty() && in.task_hint != "simple" &&
             std::count(cfg.complex_categories.begin(), cfg.complex_categories.end(), in.task_hint)) {
    why.push_back("complexity:" + in.task_hint);
    complex = true;
  }
  if (in.task_hint != "simple") {
    if (!complex)
      for (const auto& c : in.categories)
        if (std::count(cfg.complex_categories.begin(), cfg.complex_categories.end(), c)) {
          why.push_back("complexity:" + c);
          complex = true;
          break;
        }
    if (!complex && in.prompt_tokens >= cfg.long_prompt_tokens) {
      why.push_back("complexity:long_prompt");
      complex = true;
    }
    if (!complex && cfg.entropy_check && in.entropy) {
      d.entropy = in.entropy();
      if (d.entropy && *d.entropy >= cfg.entropy_complex) {
        why.push_back("complexity:entropy");
        complex = true;
      }
    }
  }
  if (complex) {
    if (speculation_ok(false)) return speculative();
    return offload(Route::Cloud);
  }
  why.push_back(in.task_hint == "simple" ? "complexity:hint_simple" : "complexity:simple");

  // 5. Latency target: the device cannot make it and a cloud can.
  if (in.latency_target_ms > 0 && in.device_ms_per_token && !affordable.empty()) {
    const double local_ms = double(in.max_tokens) * *in.device_ms_per_token;
    const double cloud_ms =
        affordable.front().rtt_ms.value_or(0) + double(in.max_tokens) * in.cloud_ms_per_token.value_or(0);
    if (local_ms > in.latency_target_ms && cloud_ms <= in.latency_target_ms) {
      why.push_back("latency:target");
      d.route = Route::Cloud;
      d.endpoints = names(affordable);
      return d;
    }
  }
  if (cfg.cascade && !affordable.empty()) {
    why.push_back("policy:cascade");
    d.route = Route::Cascade;
    d.endpoints = names(affordable);
    return d;
  }
  return local("");
}

}  // namespace tandem::edge
