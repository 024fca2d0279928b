// tandem edge end to end with real processes: a
// `tandem serve` child (the shared F32 model) is the cloud, a `tandem netsim` child sits in front
// of it (its control API cuts, darkens and slows the link), and a `tandem edge --config FILE.toml`
// child (the shared Q4_0 model as the device, its SQLite ledger in a temp folder) is driven over
// HTTP: routes and their reasons under a scripted device timeline and a network that goes dark
// and comes back; a stream cut by netsim that the device finishes exactly; a LAN peer; a budget
// that runs out and stays spent across a restart; a de-synced cloud that never speculates; and
// the ledger's rows and `tandem report`'s figures against what the app was told.
// (tests/edge_gateway_test.cpp checks the same behaviour in process, with fakes.)
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edge_e2e_util.h"

using namespace tandem;
using namespace tandem::edge_e2e;

// Battery drain, a thermal spike and going offline from a scripted timeline, then the network
// going dark at netsim and coming back: each request routed for the right reason, the cloud's
// answers the F32 model's own (through netsim), and the ledger and report agreeing.
TEST(EdgeE2e, TimelineAndNetworkPickTheRouteForTheRightReason) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 5);  // RTT 10 ms
  ASSERT_GT(net.control, 0) << net.proc.log();
  // The timeline's clock starts when the gateway has loaded its model; each phase lasts long
  // enough (2.5 s) for the test to see it (it polls GET /v1/device) and send one request in it,
  // also under ThreadSanitizer on a loaded machine.
  const std::string timeline = dir.file("timeline.json");
  std::ofstream(timeline) << R"({"events": [
      {"at_ms": 0, "battery": 80, "charging": false, "thermal": "nominal", "online": true},
      {"at_ms": 1000, "battery": 15},
      {"at_ms": 3500, "charging": true, "thermal": "serious"},
      {"at_ms": 6000, "online": false},
      {"at_ms": 8500, "online": true, "thermal": "nominal"}]})";
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.state_source = "timeline";
  spec.timeline = timeline;
  spec.offline_max_tokens = 6;
  spec.probe_interval_ms = 100;
  spec.probe_timeout_ms = 1000;  // a slow moment of a loaded machine is not an outage
  spec.breaker_failures = 2;
  spec.breaker_open_ms = 500;
  const std::string db = dir.file("ledger.sqlite");
  const std::string cloud_text = cloud.greedy(kPrompt, 12);  // before the timeline's clock starts
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  std::vector<Told> sent;
  auto in_phase = [&](const std::function<bool(const json&)>& pred, const char* what) {
    const bool ok = poll_until([&] {
      const json d = edge.device();
      return d.is_object() && pred(d);
    });
    EXPECT_TRUE(ok) << "the timeline never reached: " << what << "; now " << edge.device().dump();
    EXPECT_EQ(edge.device()["source"], "timeline");
  };

  // Battery under 20% and discharging: offloaded.
  in_phase([](const json& d) { return d["battery"] == 15 && d["charging"] == false; }, "battery 15, discharging");
  Http r = post(edge.port, "/v1/completions", completion(12, "simple"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["route"], "CLOUD");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:battery_low"}));
  EXPECT_EQ(r.header("x-tandem-route"), "CLOUD");
  EXPECT_EQ(r.header("x-tandem-reasons"), "device:battery_low");
  sent.push_back(told(r));

  // Charging, but hot: offloaded for the heat.
  in_phase([](const json& d) { return d["thermal"] == "serious" && d["online"] == true; }, "thermal serious");
  r = post(edge.port, "/v1/completions", completion(12, "simple"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:thermal_serious"}));
  sent.push_back(told(r));

  // The host says it is offline: the device, with the notice and the smaller max_tokens.
  in_phase([](const json& d) { return d["online"] == false; }, "offline");
  r = post(edge.port, "/v1/completions", completion(20, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"connectivity:offline"}));
  EXPECT_EQ(r.body["tandem"]["max_tokens_cap"], 6);
  EXPECT_LE(r.body["usage"]["completion_tokens"].get<int>(), 6);
  EXPECT_GT(r.body["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_FALSE(r.header("x-tandem-notice").empty());
  EXPECT_EQ(r.body["tandem"]["notice"], r.header("x-tandem-notice"));
  EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  sent.push_back(told(r));

  // Back online, cool: a simple request stays on the device, a complex one goes out.
  in_phase([](const json& d) { return d["online"] == true && d["thermal"] == "nominal"; }, "back online");
  r = post(edge.port, "/v1/completions", completion(12, "simple"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"complexity:hint_simple"}));
  EXPECT_EQ(r.body["tandem"]["cost_usd"], 0.0);
  EXPECT_EQ(r.header("x-tandem-data-left-device"), "false");
  sent.push_back(told(r));
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  expect_complex_offload(r.body["tandem"]);
  sent.push_back(told(r));

  // The probes measure the round trip through netsim (10 ms at least).
  json ep = edge.endpoint("primary");
  ASSERT_TRUE(ep.is_object());
  EXPECT_GE(ep["rtt_ms"].get<double>(), 10.0) << ep.dump();
  EXPECT_EQ(ep["sync"], "ok");

  // The network goes dark at netsim: the probes time out, the breaker opens, the device answers
  // with the notice. No request is sent into the dark.
  net.ctl("POST", "/dark");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "open"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(20, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"connectivity:no_endpoint"}));
  EXPECT_EQ(r.body["tandem"]["max_tokens_cap"], 6);
  EXPECT_LE(r.body["usage"]["completion_tokens"].get<int>(), 6);
  EXPECT_FALSE(r.header("x-tandem-notice").empty());
  EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  sent.push_back(told(r));
  ep = edge.endpoint("primary");
  EXPECT_EQ(ep["usable"], false);
  EXPECT_EQ(ep["last_failure"], "timeout");

  // Light again: after the open pause, the half-open probe succeeds and closes the circuit.
  net.ctl("POST", "/light");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "closed"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  expect_complex_offload(r.body["tandem"]);
  sent.push_back(told(r));

  // Streamed too: the same text, the tandem object in the last chunk.
  const Stream s = stream(edge.port, "/v1/completions", completion(12, "complex"));
  EXPECT_EQ(s.text, cloud_text);
  EXPECT_TRUE(s.done);
  expect_complex_offload(s.tandem);
  EXPECT_EQ(s.tandem["served_by"], "primary");
  sent.push_back(told(s));

  expect_ledger_and_report_agree(db, sent);
  // A SIGTERM stops the gateway cleanly.
  EXPECT_EQ(edge.proc.stop(), 0) << edge.proc.log();
}

// A streamed CLOUD answer whose connection netsim cuts after some tokens: the device continues the
// same completion in the same stream. The text is exactly the cloud's first N chunks followed by
// the device model's greedy continuation of prompt + those chunks (a separate tandem serve over
// the device model says what that is), for max_tokens - N tokens.
TEST(EdgeE2e, StreamCutByNetsimContinuesOnTheDeviceExactly) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc device_ref(test::model_path(kDevice));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(device_ref.port, 0) << device_ref.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const int max_tokens = 32;
  // The cloud's own stream, chunk by chunk, straight from the server.
  const Stream ref = stream(cloud.port, "/v1/completions", completion(max_tokens));
  ASSERT_EQ(int(ref.pieces.size()), max_tokens) << ref.text;

  // A slow link (16 kbit/s: the answer takes about 3 s to cross), cut as soon as the app has its
  // first text: the rest of the answer is still on the wire.
  net.ctl("PUT", "/config", {{"bandwidth_kbps", 16}});
  std::atomic<bool> cut{false};
  const Stream s = stream(edge.port, "/v1/completions", completion(max_tokens, "", "cloud"), [&](const Stream&) {
    if (!cut.exchange(true)) net.ctl("POST", "/cut");
  });
  net.ctl("PUT", "/config", {{"bandwidth_kbps", 0}});
  ASSERT_TRUE(cut);
  EXPECT_GE(net.ctl("GET", "/stats")["cut"].get<int>(), 1);
  ASSERT_TRUE(s.tandem.is_object()) << s.text;
  ASSERT_TRUE(s.tandem.contains("failover_at_chunk")) << s.tandem.dump();
  const int n = s.tandem["failover_at_chunk"];
  ASSERT_GE(n, 1);
  ASSERT_LT(n, max_tokens);
  std::string prefix;
  for (int i = 0; i < n; ++i) prefix += ref.pieces[size_t(i)];
  const std::string expected = prefix + device_ref.greedy(kPrompt + prefix, max_tokens - n);
  EXPECT_EQ(s.text, expected);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.tandem["route"], "CLOUD");
  EXPECT_EQ(s.tandem["served_by"], "device");
  EXPECT_EQ(s.tandem["status"], "fallback");
  EXPECT_EQ(s.tandem["failure"], "connection");
  EXPECT_EQ(s.tandem["attempts"], json({"primary:connection"}));
  // Charged where computed: the cloud for its n tokens (at its prices), the device for the rest.
  EXPECT_EQ(s.tandem["tokens"]["cloud"]["completion"], n);
  EXPECT_EQ(s.tandem["tokens"]["device"]["completion"].get<int>(), max_tokens - n);
  EXPECT_DOUBLE_EQ(s.tandem["cost_usd"].get<double>(), cost_of(s.tandem["tokens"]["cloud"]["prompt"], n));
  std::vector<Told> sent = {told(s)};

  // The link is fine again: the next stream is the cloud's, whole.
  const Stream again = stream(edge.port, "/v1/completions", completion(max_tokens, "", "cloud"));
  EXPECT_EQ(again.text, ref.text);
  EXPECT_EQ(again.tandem["served_by"], "primary");
  EXPECT_EQ(again.tandem["status"], "ok");
  sent.push_back(told(again));
  expect_ledger_and_report_agree(db, sent);
}

// A LAN peer (a second tandem serve, the device's model) takes work that must leave the device
// when the cloud is unreachable, and takes everything when the policy says so. Without probes,
// the dark cloud is found out by a real call (it times out; the device answers), and found back by
// the half-open trial call after the pause.
TEST(EdgeE2e, PeerTakesOffloadedWorkWhenTheCloudIsDarkAndWhenAskedFor) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc peer(test::model_path(kDevice));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(peer.port, 0) << peer.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.clouds[0].timeout_ms = 800;
  spec.peers = {EndpointSpec{"lan", peer.port, 0, 0}};
  spec.breaker_failures = 1;
  spec.breaker_open_ms = 2500;  // the two requests after the failure fit in it
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const std::string peer_text = peer.greedy(kPrompt, 12), cloud_text = cloud.greedy(kPrompt, 12);
  std::vector<Told> sent;
  auto expect_peer = [&](const Http& r, const json& reasons) {
    ASSERT_EQ(r.status, 200) << r.text;
    const json& t = r.body["tandem"];
    EXPECT_EQ(t["route"], "PEER");
    EXPECT_EQ(t["served_by"], "lan");
    EXPECT_EQ(t["reasons"], reasons);
    EXPECT_EQ(t["status"], "ok");
    EXPECT_EQ(r.body["choices"][0]["text"], peer_text);
    EXPECT_EQ(t["cost_usd"], 0.0);  // a free peer
    EXPECT_EQ(t["data_left_device"], true);
    EXPECT_EQ(t["tokens"]["device"]["completion"], 0);
    EXPECT_GT(t["tokens"]["cloud"]["completion"].get<int>(), 0);  // computed off the device
    sent.push_back(told(r));
  };

  // The policy asks for the peer (with the cloud fine).
  expect_peer(post(edge.port, "/v1/completions", completion(12, "", "peer")), json({"policy:peer"}));

  // The cloud goes dark. The next complex request still tries it (nothing said it was gone): the
  // speculation estimate's calibration gets no answer (one attempt, probe_timeout_ms), the cloud
  // call times out (timeout_ms) before any token, and the next endpoint in line, the LAN peer,
  // answers; the breaker opens.
  net.ctl("POST", "/dark");
  Http r = post(edge.port, "/v1/completions", completion(12, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "CLOUD");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"complexity:hint"}));  // no estimate came
  // Bounded by those two timeouts (0.4 s + 0.8 s), not by the runner's read timeout and retries.
  EXPECT_LT(r.body["tandem"]["latency_ms"].get<double>(), 8000) << r.body["tandem"].dump();
  EXPECT_EQ(r.body["tandem"]["served_by"], "lan");
  EXPECT_EQ(r.body["tandem"]["status"], "fallback");
  EXPECT_EQ(r.body["tandem"]["failure"], "timeout");
  EXPECT_EQ(r.body["choices"][0]["text"], peer_text);
  sent.push_back(told(r));
  EXPECT_EQ(edge.endpoint("primary")["breaker"], "open");

  // Now the work that must leave the device goes to the peer: complex, and a low battery.
  expect_peer(post(edge.port, "/v1/completions", completion(12, "complex")), json({"complexity:hint", "cloud:unavailable"}));
  ASSERT_EQ(put(edge.port, "/v1/device", {{"battery", 10}, {"charging", false}}).status, 200);
  expect_peer(post(edge.port, "/v1/completions", completion(12, "simple")), json({"device:battery_low", "cloud:unavailable"}));

  // Light again; after the pause the breaker is half-open and the next call is its trial: it
  // reaches the cloud, and the circuit closes.
  net.ctl("POST", "/light");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "half_open"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:battery_low"}));
  sent.push_back(told(r));
  EXPECT_EQ(edge.endpoint("primary")["breaker"], "closed");
  expect_ledger_and_report_agree(db, sent);
}

// A daily budget runs out (globally and for one app): later requests go to the device with the
// budget as the reason, nothing more is spent; and a restarted gateway on the same ledger starts
// from what was spent today, not from zero (rows of yesterday do not count).
TEST(EdgeE2e, BudgetRunsOutAndStaysSpentAcrossARestart) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  const std::string db = dir.file("ledger.sqlite");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t today_ms = now_ms / 86400000 * 86400000;
  {  // Yesterday's spending, far over every limit: a new day, a new budget.
    ledger::Ledger led(db);
    ledger::Record y;
    y.time_ms = today_ms - 3600000;
    y.app = "notes";
    y.route = "CLOUD";
    y.served_by = "primary";
    y.status = "ok";
    y.cost_usd = 50;
    led.insert(y);
  }
  // One complex request's worst case: ~5 prompt tokens at $100/M + 20 at $400/M, about $0.0085.
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.daily_usd = 0.02;
  spec.apps = {AppSpec{"notes", "TANDEM_E2E_NOTES_KEY", 0.01}, AppSpec{"mail", "TANDEM_E2E_MAIL_KEY", -1}};
  const std::vector<std::string> env = {"TANDEM_E2E_NOTES_KEY=sk-notes", "TANDEM_E2E_MAIL_KEY=sk-mail"};
  const json body = completion(20, "", "cloud");
  std::vector<Told> sent;
  auto ask = [&](const EdgeProc& edge, const std::string& app, const char* route) {
    const Http r = post(edge.port, "/v1/completions", body, "sk-" + app);
    EXPECT_EQ(r.status, 200) << r.text;
    if (r.status != 200) return 0.0;
    const json& t = r.body["tandem"];
    EXPECT_EQ(t["route"], route) << app << ": " << t.dump();
    if (std::string(route) == "LOCAL") {
      EXPECT_EQ(t["reasons"], json({"policy:cloud", "budget:exhausted"}));
      EXPECT_EQ(t["cost_usd"], 0.0);
      EXPECT_EQ(t["data_left_device"], false);
    }
    sent.push_back(told(r, app));
    return t["cost_usd"].get<double>();
  };
  double spent = 0;
  {
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    EXPECT_NE(edge.proc.log().find("budget: $0.000000 spent today"), std::string::npos) << edge.proc.log();
    const double notes = ask(edge, "notes", "CLOUD");
    EXPECT_GT(notes, 0.0);
    ask(edge, "notes", "LOCAL");  // notes' $0.01 cannot cover another
    const double mail = ask(edge, "mail", "CLOUD");
    ask(edge, "mail", "LOCAL");  // the global $0.02 cannot either
    spent = notes + mail;
    EXPECT_NEAR(edge.health()["budget"]["spent_today_usd"].get<double>(), spent, 1e-12);
    EXPECT_EQ(edge.proc.stop(), 0) << edge.proc.log();
  }
  {  // Restarted: the day's spending is back, so the global limit still binds.
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    const json b = edge.health()["budget"];
    EXPECT_NEAR(b["spent_today_usd"].get<double>(), spent, 1e-12);
    EXPECT_NEAR(b["remaining_usd"].get<double>(), 0.02 - spent, 1e-12);
    ask(edge, "mail", "LOCAL");
  }
  {  // A bigger global budget: notes' own limit is still spent (seeded per app); mail may spend.
    spec.daily_usd = 1.0;
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    ask(edge, "notes", "LOCAL");
    ask(edge, "mail", "CLOUD");
  }
  expect_ledger_and_report_agree(db, sent, today_ms);
}

// A cloud whose model has another vocabulary (synthesized with Llama 2's 32000-token one) is
// de-synced: /health and /metrics say so, and speculation never uses it, even when asked for;
// the synced cloud (behind netsim) does speculate, losslessly.
TEST(EdgeE2e, DesyncedCloudShowsInHealthAndNeverSpeculates) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  const std::string other_model = dir.file("other-vocab.gguf");
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape stories260K --type q8_0 --vocab " + test::shared_dir() +
                                  "/reference/vocab/ggml-vocab-llama-spm.gguf -o " + other_model,
                              &out),
            0)
      << out;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc other(other_model);
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(other.port, 0) << other.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"other", other.port, kPriceIn, kPriceOut, 1}, EndpointSpec{"primary", net.port, kPriceIn, kPriceOut, 2}};
  spec.probe_interval_ms = 100;
  spec.probe_timeout_ms = 800;
  spec.breaker_failures = 2;
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();

  const json h = edge.health();
  const json o = edge.endpoint("other"), p = edge.endpoint("primary");
  EXPECT_EQ(o["sync"], "de-synced");
  EXPECT_EQ(o["speculation"], false);
  EXPECT_NE(o["vocab_fingerprint"], h["vocab_fingerprint"]);
  EXPECT_FALSE(o["vocab_fingerprint"].get<std::string>().empty());
  EXPECT_EQ(p["sync"], "ok");
  EXPECT_EQ(p["speculation"], true);
  EXPECT_EQ(p["vocab_fingerprint"], h["vocab_fingerprint"]);
  EXPECT_EQ(h["speculative_runner"], true);
  const std::string metrics = get(edge.port, "/metrics").text;
  EXPECT_NE(metrics.find("tandem_edge_endpoint_desynced{endpoint=\"other\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tandem_edge_endpoint_desynced{endpoint=\"primary\"} 0"), std::string::npos) << metrics;

  // Asked for speculation: the synced cloud does it (through netsim), and the text is the F32
  // model's own; the de-synced one, first in priority, is passed over.
  std::vector<Told> sent;
  Http r = post(edge.port, "/v1/completions", completion(16, "", "speculative"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "SPECULATIVE");
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary");
  EXPECT_EQ(r.body["choices"][0]["text"], cloud.greedy(kPrompt, 16));
  EXPECT_GT(r.body["tandem"]["speculative"]["rounds"].get<int>(), 0);
  sent.push_back(told(r));
  // A plain CLOUD request takes the de-synced endpoint first (its plain route still works).
  r = post(edge.port, "/v1/completions", completion(8, "", "cloud"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "other");
  sent.push_back(told(r));

  // The synced cloud goes dark: only the de-synced one is left, and speculation is not used even
  // when asked for; the answer is a plain CLOUD call, and the reason says why.
  net.ctl("POST", "/dark");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["usable"] == false; })) << edge.health().dump();
  for (const char* task : {"complex", ""}) {
    r = post(edge.port, "/v1/completions", completion(8, task, "speculative"));
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["route"], "CLOUD") << task;
    EXPECT_EQ(r.body["tandem"]["served_by"], "other");
    EXPECT_EQ(r.body["tandem"]["reasons"], json({"policy:speculative", "speculation:desynced"}));
    EXPECT_FALSE(r.body["tandem"].contains("speculative"));
    sent.push_back(told(r));
  }
  net.ctl("POST", "/light");
  expect_ledger_and_report_agree(db, sent);
  // The report names the de-synced endpoint (from the ledger's endpoint checks).
  std::string out2;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " report --db " + db + " --format json", &out2), 0) << out2;
  const json rep = json::parse(out2.substr(out2.find('{')));
  std::map<std::string, std::string> sync;
  for (const auto& e : rep["endpoints"]) sync[e["endpoint"]] = e["sync"];
  EXPECT_EQ(sync, (std::map<std::string, std::string>{{"other", "de-synced"}, {"primary", "ok"}})) << rep["endpoints"].dump();
  ASSERT_EQ(test::run_command(test::tandem_binary() + " report --db " + db, &out2), 0) << out2;
  EXPECT_NE(out2.find("de-synced"), std::string::npos) << out2;
}

// A request that stays on the device must not touch the network at all: not its content (that is
// the privacy check's job), and not even a connection the gateway opens for its own purposes (a
// speculation estimate measuring the cloud), which it would have to wait for. netsim counts the
// connections: none is opened for keep-local, privacy-strict, offline, policy-local or simple
// requests. The first complex request then does reach the cloud.
TEST(EdgeE2e, RequestsThatStayOnTheDeviceOpenNoConnection) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const json before = net.ctl("GET", "/stats");  // the gateway's start read GET /v1/models
  EXPECT_GE(before["connections"].get<int>(), 1);
  auto local = [&](json body, const std::string& reason) {
    const Http r = post(edge.port, "/v1/completions", body);
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["route"], "LOCAL") << body.dump();
    EXPECT_EQ(r.body["tandem"]["reasons"][0], reason) << r.body["tandem"].dump();
    EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  };
  json keep = completion(8, "complex");
  keep["tandem"]["keep_local"] = true;
  local(keep, "privacy:keep_local");
  json strict = completion(8, "complex", "", "Write to jane.doe@example.com about the party");
  strict["tandem"]["privacy"] = "strict";
  local(strict, "privacy:strict_no_consent");
  local(completion(8, "complex", "local"), "policy:local");
  local(completion(8, "simple"), "complexity:hint_simple");
  ASSERT_EQ(put(edge.port, "/v1/device", {{"online", false}}).status, 200);
  local(completion(8, "complex"), "connectivity:offline");
  const json after = net.ctl("GET", "/stats");
  EXPECT_EQ(after["connections"], before["connections"]) << after.dump();
  EXPECT_EQ(after["bytes_up"], before["bytes_up"]) << after.dump();

  ASSERT_EQ(put(edge.port, "/v1/device", {{"online", true}}).status, 200);
  const Http r = post(edge.port, "/v1/completions", completion(8, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary");
  EXPECT_GT(net.ctl("GET", "/stats")["connections"].get<int>(), after["connections"].get<int>());
}

// The official OpenAI Node SDK (tests/openai-node/check.mjs) against the gateway process, with
// the cloud behind netsim: models, completion, chat, streamed chat equal to the whole answer.
TEST(EdgeE2e, OfficialOpenAISdkTalksToTheGatewayProcess) {
  TANDEM_REQUIRE_MODELS();
  const std::string sdk = test::source_dir() + "/tests/openai-node";
  if (!std::filesystem::exists(sdk + "/node_modules/openai/package.json")) GTEST_SKIP() << "run npm ci in " << sdk;
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud), {"--chat-template", "chatml"});
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.policy = "cloud";
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  std::string out;
  EXPECT_EQ(test::run_command("node " + sdk + "/check.mjs http://127.0.0.1:" + std::to_string(edge.port) + "/v1 tandem", &out), 0)
      << out;
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
  const ledger::Ledger led(db, ledger::LedgerOptions{.create = false, .read_only = true});
  const auto rows = led.query();
  ASSERT_GE(rows.size(), 3u);
  for (const auto& row : rows) {
    if (row.status != "error") {
      EXPECT_EQ(row.served_by, "primary") << row.route;
    }
  }
}
