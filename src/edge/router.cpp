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

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::count(v.begin(), v.end(), s) > 0; }

Thermal thermal_threshold(const std::string& s) { return parse_thermal(s).value_or(Thermal::Serious); }

// What the rules share: the inputs, the endpoints the request may use, and the decision so far.
// Each rule either decides (returns true, the decision in `d`) or only adds its reasons and
// passes the request on.
struct Rules {
  const RouteInputs& in;
  const EdgeConfig& cfg;
  std::vector<EndpointView> clouds, peers;  // usable, best first
  std::vector<EndpointView> affordable;     // the clouds whose worst case the budget allows
  bool budget_blocked = false;              // clouds are usable, but none is affordable
  RouteDecision d;
  std::optional<SpeculationEstimate> estimate;
  bool estimated = false;

  Rules(const RouteInputs& inputs, const EdgeConfig& config)
      : in(inputs), cfg(config), clouds(usable_sorted(inputs, false)), peers(usable_sorted(inputs, true)) {
    for (const auto& e : clouds)
      if (!in.budget_remaining_usd || worst_case_cost(e, in.prompt_tokens, in.max_tokens) <= *in.budget_remaining_usd)
        affordable.push_back(e);
    budget_blocked = !clouds.empty() && affordable.empty();
  }

  void because(const std::string& reason) { d.reasons.push_back(reason); }
  bool go(Route route, std::vector<std::string> endpoints) {
    d.route = route;
    d.endpoints = std::move(endpoints);
    return true;
  }
  bool stay_local(const std::string& reason) {
    if (!reason.empty()) d.reasons.push_back(reason);
    return go(Route::Local, {});
  }
  std::string no_cloud_reason() const { return budget_blocked ? "budget:exhausted" : "cloud:unavailable"; }

  // Where the work goes when it must leave the device: the cloud, else a peer, else stay.
  bool offload(Route cloud_route) {
    if (!affordable.empty()) {
      // Should every cloud fail before the first token, a LAN peer comes before the device.
      std::vector<std::string> order = names(affordable);
      for (const auto& p : names(peers)) order.push_back(p);
      return go(cloud_route, std::move(order));
    }
    if (!peers.empty()) {
      because(no_cloud_reason());
      return go(Route::Peer, names(peers));
    }
    return stay_local(no_cloud_reason());
  }

  // The speculation estimate, asked for once, and only by the rules that consider it.
  const std::optional<SpeculationEstimate>& speculation() {
    if (!estimated && in.speculation) estimate = in.speculation();
    estimated = true;
    return estimate;
  }
  // Whether SPECULATIVE may run. explain: the policy asked for speculation, so it is used
  // wherever it is possible (reachable, same vocabulary), even when the estimate says the plain
  // cloud call would be faster, and a refusal says why.
  bool speculation_ok(bool explain) {
    const auto refuse = [&](const char* reason) {
      if (explain) d.reasons.push_back(reason);
      return false;
    };
    // Speculation sends the device's rendering of the prompt, not the redacted body.
    if (in.privacy_redacted) return refuse("speculation:redacted");
    if (affordable.empty() || !speculation()) {
      // No estimate: the runner is missing, or no reachable endpoint shares the device's
      // vocabulary (the orchestrator asks only about those); say which.
      const bool all_desynced = !affordable.empty() && std::all_of(affordable.begin(), affordable.end(),
                                                                   [](const EndpointView& e) { return e.desynced; });
      return refuse(all_desynced ? "speculation:desynced" : "speculation:unavailable");
    }
    const auto it = std::find_if(affordable.begin(), affordable.end(),
                                 [&](const EndpointView& e) { return e.name == estimate->endpoint; });
    if (it == affordable.end()) return refuse("speculation:unavailable");
    if (it->desynced) return refuse("speculation:desynced");
    if (estimate->speculative_ms >= estimate->cloud_ms) {
      because("speculation:slower");
      return explain;
    }
    because("speculation:faster");
    return true;
  }
  // SPECULATIVE at the estimated endpoint, the other affordable clouds after it.
  bool speculative() {
    std::vector<std::string> order = {estimate->endpoint};
    for (const auto& e : affordable)
      if (e.name != estimate->endpoint) order.push_back(e.name);
    return go(Route::Speculative, std::move(order));
  }
};

// 1. Privacy: a failed check, keep-local, strict without consent, or personal data in the output's
// structure keeps the request here.
bool privacy_rule(Rules& r) {
  if (r.in.privacy_failed) return r.stay_local("privacy:check_failed");
  if (r.in.keep_local) return r.stay_local("privacy:keep_local");
  if (r.in.privacy_no_consent) return r.stay_local("privacy:strict_no_consent");
  if (r.in.privacy_in_structure) return r.stay_local("privacy:pii_in_structure");
  return false;
}

// 2. Mesh: another gateway's call is answered here, never passed on (no loops between peers).
bool from_peer_rule(Rules& r) { return r.in.from_peer && r.stay_local("mesh:from_peer"); }

// 3. The local policy.
bool local_policy_rule(Rules& r) { return r.in.policy == Policy::Local && r.stay_local("policy:local"); }

// 4. Connectivity: no usable endpoint means LOCAL, with a notice and capped max_tokens.
bool connectivity_rule(Rules& r) {
  r.d.offline = r.clouds.empty() && r.peers.empty();
  if (!r.d.offline) return false;
  r.because(r.in.device.online == false ? "connectivity:offline" : "connectivity:no_endpoint");
  r.d.notice = "offline: answering on the device only; complex requests may be answered less well";
  if (r.cfg.offline_max_tokens > 0 && r.in.max_tokens > r.cfg.offline_max_tokens)
    r.d.max_tokens_cap = r.cfg.offline_max_tokens;
  return r.stay_local("");
}

// 5. Policies that name a route (below privacy, connectivity and the budget).
bool named_policy_rule(Rules& r) {
  switch (r.in.policy) {
    case Policy::Auto:
    case Policy::Local:
      return false;
    case Policy::Cloud:
      r.because("policy:cloud");
      return r.offload(Route::Cloud);
    case Policy::Peer:
      r.because("policy:peer");
      if (r.peers.empty()) return r.stay_local("peer:unavailable");
      return r.go(Route::Peer, names(r.peers));
    case Policy::Cascade:
      r.because("policy:cascade");
      if (r.affordable.empty()) return r.stay_local(r.no_cloud_reason());
      return r.go(Route::Cascade, names(r.affordable));
    case Policy::Speculative:
      r.because("policy:speculative");
      if (r.speculation_ok(true)) return r.speculative();
      return r.offload(Route::Cloud);
  }
  return false;
}

// 6. Device state: low battery and discharging, too hot, too little memory: offload.
bool device_state_rule(Rules& r) {
  const DeviceState& dev = r.in.device;
  const size_t before = r.d.reasons.size();
  if (dev.battery_pct && *dev.battery_pct < r.cfg.battery_low_pct && dev.charging != true)
    r.because("device:battery_low");
  if (dev.thermal && *dev.thermal >= thermal_threshold(r.cfg.thermal_offload))
    r.because(std::string("device:thermal_") + thermal_name(*dev.thermal));
  if (r.cfg.min_free_mem_mb > 0 && dev.free_mem_mb && *dev.free_mem_mb < r.cfg.min_free_mem_mb)
    r.because("device:low_memory");
  return r.d.reasons.size() > before && r.offload(Route::Cloud);
}

// The sign that makes the request complex, strongest first: the app's hint, a keyword category,
// the prompt's length, then (measured only when those did not decide) the device's entropy.
std::optional<std::string> complexity_sign(Rules& r) {
  const RouteInputs& in = r.in;
  const auto& complex_categories = r.cfg.complex_categories;
  if (in.task_hint == "complex") return "complexity:hint";
  if (in.task_hint == "simple") return std::nullopt;
  if (!in.task_hint.empty() && contains(complex_categories, in.task_hint)) return "complexity:" + in.task_hint;
  for (const auto& c : in.categories)
    if (contains(complex_categories, c)) return "complexity:" + c;
  if (in.prompt_tokens >= r.cfg.long_prompt_tokens) return "complexity:long_prompt";
  if (r.cfg.entropy_check && in.entropy) {
    r.d.entropy = in.entropy();
    if (r.d.entropy && *r.d.entropy >= r.cfg.entropy_complex) return "complexity:entropy";
  }
  return std::nullopt;
}

// 7. Complexity: complex goes to the cloud, or SPECULATIVE when its estimate beats the cloud's.
bool complexity_rule(Rules& r) {
  const std::optional<std::string> sign = complexity_sign(r);
  if (!sign) {
    r.because(r.in.task_hint == "simple" ? "complexity:hint_simple" : "complexity:simple");
    return false;
  }
  r.because(*sign);
  if (r.speculation_ok(false)) return r.speculative();
  return r.offload(Route::Cloud);
}

// 8. Latency target: the device cannot make it and a cloud can.
bool latency_rule(Rules& r) {
  const RouteInputs& in = r.in;
  if (in.latency_target_ms <= 0 || !in.device_ms_per_token || r.affordable.empty()) return false;
  const double local_ms = double(in.max_tokens) * *in.device_ms_per_token;
  const double cloud_ms =
      r.affordable.front().rtt_ms.value_or(0) + double(in.max_tokens) * in.cloud_ms_per_token.value_or(0);
  if (local_ms <= in.latency_target_ms || cloud_ms > in.latency_target_ms) return false;
  r.because("latency:target");
  return r.go(Route::Cloud, names(r.affordable));
}

// 9. Configured cascade: a simple request is answered on the device first, the cloud behind it.
bool cascade_rule(Rules& r) {
  if (!r.cfg.cascade || r.affordable.empty()) return false;
  r.because("policy:cascade");
  return r.go(Route::Cascade, names(r.affordable));
}

}  // namespace

RouteDecision decide_route(const RouteInputs& in, const EdgeConfig& cfg) {
  using Rule = bool (*)(Rules&);
  static constexpr Rule kRules[] = {privacy_rule,      from_peer_rule,    local_policy_rule,
                                    connectivity_rule, named_policy_rule, device_state_rule,
                                    complexity_rule,   latency_rule,      cascade_rule};
  Rules rules(in, cfg);
  for (Rule rule : kRules)
    if (rule(rules)) return std::move(rules.d);
  rules.stay_local("");  // 10. Nothing sent it away: the device answers.
  return std::move(rules.d);
}

}  // namespace tandem::edge
