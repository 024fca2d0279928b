// THE routing policy: a pure function from what is known about a request and its surroundings to
// where it runs and why. No network, no clocks, no model: everything comes in as RouteInputs
// (the device's next-token entropy as a callback, measured only if the decision needs it), so
// every rule is unit-testable. decide_route asks its rules in this order, strongest first; the
// first that decides wins (docs/edge.md):
//   1. privacy: a failed check, keep-local, strict without consent, or personal data in the
//      output's schema or grammar: LOCAL, whatever else holds;
//   2. mesh: a request another gateway passed on: LOCAL (never passed on again);
//   3. policy local: LOCAL;
//   4. connectivity: no usable endpoint: LOCAL with a notice and capped max_tokens;
//   5. a policy that names a route (cloud, peer, cascade, speculative): that route where possible;
//   6. device state: low battery and discharging, thermal at/above the threshold, low memory:
//      offload (cloud, else a peer);
//   7. complexity: task hint, keyword categories, prompt length, then the entropy: complex goes
//      to the cloud (or SPECULATIVE when its estimate beats the cloud's);
//   8. latency target: CLOUD when only the cloud meets it;
//   9. configured cascade: CASCADE;
//  10. otherwise LOCAL.
// The budget is no step of its own but a filter under all of them: an endpoint whose worst-case
// cost exceeds what is left is never chosen, and a budget hit means a (free) peer or the device
// instead of overspending.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "edge/config.h"
#include "edge/device_state.h"

namespace tandem::edge {

enum class Route { Local, Cloud, Speculative, Cascade, Peer };
const char* route_name(Route r);  // LOCAL, CLOUD, SPECULATIVE, CASCADE, PEER

struct EndpointView {
  std::string name;
  bool peer = false;
  bool usable = false;  // breaker closed (or half-open with its trial free), no 429 cool-down
  std::optional<double> rtt_ms;
  int priority = 1;
  double price_input_per_1m = 0, price_output_per_1m = 0;
  bool desynced = true;  // vocabulary differs or unknown: no speculation with it
};

// The speculative runner's estimate for one request at the current RTT.
struct SpeculationEstimate {
  std::string endpoint;
  double speculative_ms = 0;  // expected time to finish the request speculatively
  double cloud_ms = 0;        // expected time for the plain cloud call
};

struct RouteInputs {
  Policy policy = Policy::Auto;
  // 1. privacy
  bool keep_local = false;
  bool privacy_failed = false;  // the check could not run: fail closed
  bool privacy_no_consent = false;  // strict without the user's consent: nothing may leave
  bool privacy_redacted = false;    // the request leaves redacted: only whole-body routes (no speculation)
  // Personal data in the output's schema or grammar (it leaves as sent or not at all: a
  // placeholder inside it would change what the answer must be).
  bool privacy_in_structure = false;
  bool from_peer = false;       // sent by another gateway (x-tandem-hop): answered here, never passed on
  // 2 + 3. device and network
  DeviceState device;
  std::vector<EndpointView> endpoints;  // clouds and peers
  // 4. complexity
  std::string task_hint;                 // "", "simple", "complex", or a category name
  std::vector<std::string> categories;   // matched by keyword rules
  int64_t prompt_tokens = 0;
  std::function<std::optional<double>()> entropy;  // nats; may be empty
  // 5. budget and latency
  std::optional<double> budget_remaining_usd;  // nullopt: no limit
  int64_t max_tokens = 0;
  double latency_target_ms = 0;                 // 0: none
  std::optional<double> device_ms_per_token;    // measured decode speed of the device model
  std::optional<double> cloud_ms_per_token;
  // Speculation: the runner's estimate, asked for (once) only when the decision gets to it: it
  // may measure the endpoint over the network, which a request that stays on the device must not
  // wait for (or cause). Empty when no runner is installed; nullopt when it has no estimate.
  std::function<std::optional<SpeculationEstimate>()> speculation;
};

struct RouteDecision {
  Route route = Route::Local;
  std::vector<std::string> endpoints;  // to try in order (then the device)
  std::vector<std::string> reasons;    // strongest first, e.g. "device:battery_low"
  std::string notice;                  // for the app (offline)
  std::optional<int64_t> max_tokens_cap;
  std::optional<double> entropy;       // when it was measured
  bool offline = false;
};

// Worst-case cost of a request at an endpoint's prices.
double worst_case_cost(const EndpointView& e, int64_t prompt_tokens, int64_t max_tokens);

RouteDecision decide_route(const RouteInputs& in, const EdgeConfig& cfg);

}  // namespace tandem::edge
