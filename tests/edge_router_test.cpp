// The routing policy (src/edge/router.cpp), one input at a time and in conflict, without a
// network or a model.
#include <gtest/gtest.h>

#include <algorithm>

#include "edge/router.h"

using namespace tandem::edge;

namespace {

EndpointView cloud(const std::string& name, int priority = 1, double rtt = 20) {
  EndpointView e;
  e.name = name;
  e.usable = true;
  e.rtt_ms = rtt;
  e.priority = priority;
  e.price_input_per_1m = 1;
  e.price_output_per_1m = 2;
  e.desynced = false;
  return e;
}

EndpointView peer(const std::string& name) {
  EndpointView e = cloud(name);
  e.peer = true;
  e.price_input_per_1m = e.price_output_per_1m = 0;
  return e;
}

// A runner's answer, as the router asks for it.
std::function<std::optional<SpeculationEstimate>()> estimate_of(SpeculationEstimate e) {
  return [e] { return std::optional<SpeculationEstimate>(e); };
}

RouteInputs base() {
  RouteInputs in;
  in.endpoints = {cloud("a")};
  in.prompt_tokens = 10;
  in.max_tokens = 50;
  in.device.battery_pct = 80;
  in.device.charging = false;
  in.device.thermal = Thermal::Nominal;
  return in;
}

bool has(const RouteDecision& d, const std::string& r) {
  return std::find(d.reasons.begin(), d.reasons.end(), r) != d.reasons.end();
}

EdgeConfig cfg() {
  EdgeConfig c = default_config();
  c.entropy_check = true;
  return c;
}

}  // namespace

TEST(EdgeRouter, SimpleRequestStaysOnTheDevice) {
  auto d = decide_route(base(), cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "complexity:simple"));
  EXPECT_TRUE(d.notice.empty());
}

TEST(EdgeRouter, PrivacyKeepLocalBeatsEverything) {
  RouteInputs in = base();
  in.keep_local = true;
  in.policy = Policy::Cloud;
  in.device.battery_pct = 3;
  in.device.thermal = Thermal::Critical;
  in.task_hint = "complex";
  bool entropy_called = false;
  in.entropy = [&] {
    entropy_called = true;
    return std::optional<double>(9.0);
  };
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0], "privacy:keep_local");
  EXPECT_FALSE(entropy_called);  // no prefill spent on a decision already made

  in.keep_local = false;
  in.privacy_failed = true;  // fail closed
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "privacy:check_failed"));
}

TEST(EdgeRouter, OfflineMeansLocalWithNoticeAndCap) {
  RouteInputs in = base();
  in.task_hint = "complex";
  in.max_tokens = 500;
  in.device.online = false;
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(d.offline);
  EXPECT_TRUE(has(d, "connectivity:offline"));
  EXPECT_FALSE(d.notice.empty());
  ASSERT_TRUE(d.max_tokens_cap);
  EXPECT_EQ(*d.max_tokens_cap, 128);

  // Every endpoint's breaker open: the same, with the reason saying so.
  in.device.online.reset();
  in.endpoints[0].usable = false;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "connectivity:no_endpoint"));
  in.max_tokens = 100;  // under the cap: untouched
  EXPECT_FALSE(decide_route(in, cfg()).max_tokens_cap);
}

TEST(EdgeRouter, LowBatteryDischargingOffloads) {
  RouteInputs in = base();
  in.device.battery_pct = 15;
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "device:battery_low"));
  EXPECT_EQ(d.endpoints, std::vector<std::string>{"a"});
  in.device.charging = true;  // plugged in: no reason to offload
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);
  in.device.charging = false;
  in.device.battery_pct = 20;  // the threshold is "under 20"
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);
}

TEST(EdgeRouter, ThermalSeriousOffloads) {
  RouteInputs in = base();
  in.device.thermal = Thermal::Fair;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);
  in.device.thermal = Thermal::Serious;
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "device:thermal_serious"));
  in.device.thermal = Thermal::Critical;
  EXPECT_TRUE(has(decide_route(in, cfg()), "device:thermal_critical"));
  // No cloud: a peer takes it.
  in.endpoints = {peer("p")};
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Peer);
  EXPECT_EQ(d.endpoints, std::vector<std::string>{"p"});
}

TEST(EdgeRouter, LowMemoryOffloadsWhenConfigured) {
  EdgeConfig c = cfg();
  RouteInputs in = base();
  in.device.free_mem_mb = 100;
  EXPECT_EQ(decide_route(in, c).route, Route::Local);  // min_free_mem_mb = 0: never
  c.min_free_mem_mb = 512;
  auto d = decide_route(in, c);
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "device:low_memory"));
}

TEST(EdgeRouter, ComplexityRules) {
  RouteInputs in = base();
  in.categories = {"code"};
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "complexity:code"));

  in.categories = {"smalltalk"};  // not a complex category
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);

  in.categories = {};
  in.prompt_tokens = 384;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "complexity:long_prompt"));

  in.prompt_tokens = 10;
  in.task_hint = "complex";
  EXPECT_TRUE(has(decide_route(in, cfg()), "complexity:hint"));
  in.task_hint = "math";
  EXPECT_TRUE(has(decide_route(in, cfg()), "complexity:math"));
  in.task_hint = "simple";
  in.categories = {"code"};  // the app's own hint wins over keywords
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "complexity:hint_simple"));
}

TEST(EdgeRouter, EntropyDecidesWhenTheRulesDoNot) {
  RouteInputs in = base();
  int calls = 0;
  double h = 3.0;
  in.entropy = [&] {
    ++calls;
    return std::optional<double>(h);
  };
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "complexity:entropy"));
  ASSERT_TRUE(d.entropy);
  EXPECT_DOUBLE_EQ(*d.entropy, 3.0);
  h = 1.0;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_EQ(calls, 2);
  in.categories = {"code"};  // rules already decided: no prefill spent
  decide_route(in, cfg());
  EXPECT_EQ(calls, 2);
  EdgeConfig off = cfg();
  off.entropy_check = false;
  in.categories = {};
  h = 9;
  EXPECT_EQ(decide_route(in, off).route, Route::Local);
  EXPECT_EQ(calls, 2);
}

TEST(EdgeRouter, BudgetExhaustedRoutesToTheDevice) {
  RouteInputs in = base();
  in.task_hint = "complex";
  in.budget_remaining_usd = 0;
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "budget:exhausted"));
  // Worst case (10 prompt tokens at $1/M + 50 at $2/M = $0.00011) must fit.
  in.budget_remaining_usd = 0.0001;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);
  in.budget_remaining_usd = 0.00011;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Cloud);
  // A cheaper endpoint that still fits is taken; a free peer when none does.
  in.budget_remaining_usd = 0.00005;
  EndpointView cheap = cloud("cheap", 2);
  cheap.price_input_per_1m = cheap.price_output_per_1m = 0.1;
  in.endpoints = {cloud("a"), cheap};
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_EQ(d.endpoints, std::vector<std::string>{"cheap"});
  in.budget_remaining_usd = 0;
  in.endpoints = {cloud("a"), peer("p")};
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Peer);
  EXPECT_TRUE(has(d, "budget:exhausted"));
  // Battery low but no budget: the device, not an overspend.
  in.endpoints = {cloud("a")};
  in.task_hint = "";
  in.device.battery_pct = 5;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "device:battery_low"));
  EXPECT_TRUE(has(d, "budget:exhausted"));
}

TEST(EdgeRouter, EndpointsByPriorityThenRtt) {
  RouteInputs in = base();
  in.task_hint = "complex";
  in.endpoints = {cloud("slow", 1, 200), cloud("fast", 1, 10), cloud("backup", 2, 1)};
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.endpoints, (std::vector<std::string>{"fast", "slow", "backup"}));
  in.endpoints[1].usable = false;  // breaker open
  EXPECT_EQ(decide_route(in, cfg()).endpoints, (std::vector<std::string>{"slow", "backup"}));
  // A LAN peer is the last endpoint in line, before the device, should every cloud fail.
  in.endpoints.push_back(peer("lan"));
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_EQ(d.endpoints, (std::vector<std::string>{"slow", "backup", "lan"}));
}

TEST(EdgeRouter, SpeculationOnlyWhenItsEstimateWins) {
  RouteInputs in = base();
  in.task_hint = "complex";
  // No runner installed (no estimate): never SPECULATIVE.
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Cloud);
  in.speculation = estimate_of({"a", 400, 500});
  auto d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Speculative);
  EXPECT_TRUE(has(d, "speculation:faster"));
  in.speculation = estimate_of({"a", 600, 500});  // loses at this RTT
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "speculation:slower"));
  in.speculation = estimate_of({"a", 100, 500});
  in.endpoints[0].desynced = true;  // vocabularies differ: never
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Cloud);
  in.policy = Policy::Speculative;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "speculation:desynced"));
  // Asked for, speculation is used where it is possible even when the estimate says slower.
  in.endpoints[0].desynced = false;
  in.speculation = estimate_of({"a", 600, 500});
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Speculative);
  EXPECT_TRUE(has(d, "speculation:slower"));
  in.speculation = nullptr;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "speculation:unavailable"));
  // No estimate because every reachable endpoint is de-synced (the orchestrator asks the runner
  // only about synced ones): the reason says so.
  in.endpoints[0].desynced = true;
  d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "speculation:desynced"));
  EXPECT_FALSE(has(d, "speculation:unavailable"));
  // A simple request is not sent to the cloud for speculation's sake.
  in.policy = Policy::Auto;
  in.task_hint = "";
  in.endpoints[0].desynced = false;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Local);
}

// The estimate may measure the cloud over the network: it is asked for only when a rule weighs
// speculation, never for requests that stay on the device or that device state sends out.
TEST(EdgeRouter, SpeculationEstimatedOnlyWhenItCanMatter) {
  int asked = 0;
  auto run = [&](RouteInputs in, const EdgeConfig& c = cfg()) {
    in.speculation = [&asked] {
      ++asked;
      return std::optional<SpeculationEstimate>(SpeculationEstimate{"a", 100, 500});
    };
    const int before = asked;
    const RouteDecision d = decide_route(in, c);
    return std::make_pair(d.route, asked - before);
  };
  RouteInputs in = base();
  in.task_hint = "complex";
  in.keep_local = true;
  EXPECT_EQ(run(in), std::make_pair(Route::Local, 0));
  in.keep_local = false;
  in.policy = Policy::Local;
  EXPECT_EQ(run(in), std::make_pair(Route::Local, 0));
  in.policy = Policy::Cloud;
  EXPECT_EQ(run(in), std::make_pair(Route::Cloud, 0));
  in.policy = Policy::Auto;
  in.device.online = false;
  EXPECT_EQ(run(in), std::make_pair(Route::Local, 0));
  in.device.online = true;
  in.device.battery_pct = 5;
  EXPECT_EQ(run(in), std::make_pair(Route::Cloud, 0));
  in.device.battery_pct = 80;
  in.task_hint = "simple";
  EXPECT_EQ(run(in), std::make_pair(Route::Local, 0));
  in.task_hint = "complex";  // now it can matter: asked once
  EXPECT_EQ(run(in), std::make_pair(Route::Speculative, 1));
  in.policy = Policy::Speculative;
  EXPECT_EQ(run(in), std::make_pair(Route::Speculative, 1));
}

TEST(EdgeRouter, CascadeAndPolicies) {
  EdgeConfig c = cfg();
  RouteInputs in = base();
  c.cascade = true;
  auto d = decide_route(in, c);
  EXPECT_EQ(d.route, Route::Cascade);
  EXPECT_EQ(d.endpoints, std::vector<std::string>{"a"});
  in.task_hint = "complex";
  EXPECT_EQ(decide_route(in, c).route, Route::Cloud);
  in.task_hint = "";
  in.policy = Policy::Local;
  EXPECT_EQ(decide_route(in, c).route, Route::Local);
  in.policy = Policy::Cloud;
  EXPECT_EQ(decide_route(in, c).route, Route::Cloud);
  in.policy = Policy::Peer;
  d = decide_route(in, c);
  EXPECT_EQ(d.route, Route::Local);
  EXPECT_TRUE(has(d, "peer:unavailable"));
  in.endpoints.push_back(peer("p"));
  EXPECT_EQ(decide_route(in, c).route, Route::Peer);
  in.policy = Policy::Cascade;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Cascade);
}

TEST(EdgeRouter, LatencyTargetSendsToTheCloudOnlyWhenItCanMakeIt) {
  EdgeConfig c = cfg();
  c.latency_target_ms = 1000;
  RouteInputs in = base();
  in.latency_target_ms = 1000;
  in.max_tokens = 100;
  in.device_ms_per_token = 20;  // 2000 ms on the device
  in.cloud_ms_per_token = 5;    // 20 + 500 ms in the cloud
  auto d = decide_route(in, c);
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "latency:target"));
  in.cloud_ms_per_token = 15;  // 1520 ms: neither makes it, stay
  EXPECT_EQ(decide_route(in, c).route, Route::Local);
  in.device_ms_per_token = 5;
  EXPECT_EQ(decide_route(in, c).route, Route::Local);
}

// Strict without consent: LOCAL whatever the request, the endpoints or the policy say, with its
// own reason (an app's keep_local and a failed check come first).
TEST(EdgeRouter, StrictWithoutConsentStaysOnTheDevice) {
  for (const char* policy : {"auto", "cloud", "cascade", "speculative", "peer"}) {
    RouteInputs in = base();
    in.endpoints.push_back(peer("p"));
    in.task_hint = "complex";
    in.policy = *parse_policy(policy);
    in.privacy_no_consent = true;
    in.speculation = estimate_of({"a", 100, 500});
    const RouteDecision d = decide_route(in, cfg());
    EXPECT_EQ(d.route, Route::Local) << policy;
    EXPECT_TRUE(has(d, "privacy:strict_no_consent")) << policy;
  }
  RouteInputs in = base();
  in.privacy_no_consent = true;
  in.keep_local = true;
  EXPECT_TRUE(has(decide_route(in, cfg()), "privacy:keep_local"));
  in.privacy_failed = true;
  EXPECT_TRUE(has(decide_route(in, cfg()), "privacy:check_failed"));
}

// A request that leaves redacted never goes SPECULATIVE (speculation sends the device's own
// rendering of the prompt): the plain cloud call carries the redacted body instead.
TEST(EdgeRouter, RedactedRequestsAreNotSpeculated) {
  RouteInputs in = base();
  in.task_hint = "complex";
  in.speculation = estimate_of({"a", 100, 500});
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Speculative);
  in.privacy_redacted = true;
  EXPECT_EQ(decide_route(in, cfg()).route, Route::Cloud);
  in.policy = Policy::Speculative;
  const RouteDecision d = decide_route(in, cfg());
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(has(d, "speculation:redacted"));
}
