// The device model measured against its reference at start, device state (a fake sysfs tree, a scripted timeline, pushed state), the circuit breaker, the
// RTT average, error classification, SSE parsing and the budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "edge/budget.h"
#include "edge/cloud_client.h"
#include "edge/connectivity.h"
#include "edge/device_state.h"
#include "edge/ledger_sink.h"
#include "format/error.h"
#include "edge_test_util.h"
#include "test_util.h"

using namespace tandem;
using namespace tandem::edge;
namespace fs = std::filesystem;

namespace {

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text << "\n";
}

struct FakeSysfs {
  fs::path root;
  FakeSysfs() : root(test::temp_path("edge-sysfs")) { fs::remove_all(root); }
  ~FakeSysfs() { fs::remove_all(root); }
};

}  // namespace

// llama.cpp measures stories260K Q4_0 against F32 on the whole corpus at a mean KLD of 0.066193
// and 87.22 % same top token (../shared/models/README.md); its first chunks are near that.
TEST(EdgeDevice, DeviceModelMeasuredAgainstItsReferenceAtStart) {
  EdgeConfig cfg = test::edge_test_config("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(cfg.device_model);
  cfg.reference_model = test::model_path("stories260K-f32.gguf");
  cfg.calibration_text = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  cfg.calibration_chunks = 4;
  cfg.max_kld = 0.03;
  try {
    test::GatewayFixture gw(cfg);
    ADD_FAILURE() << "a device model past max_kld must not start";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("over device.max_kld"), std::string::npos) << e.what();
  }
  cfg.max_kld = 0.2;
  test::GatewayFixture gw(cfg);
  auto res = gw.client().Get("/health");
  ASSERT_TRUE(res);
  const auto f = nlohmann::json::parse(res->body)["device_fidelity"];
  ASSERT_TRUE(f.is_object()) << res->body;
  EXPECT_NEAR(f["kld_mean"].get<double>(), 0.066193, 0.066193 * 0.3);
  EXPECT_NEAR(f["same_top_token"].get<double>(), 0.8722, 0.05);
  EXPECT_EQ(f["tokens_scored"].get<int64_t>(), 4 * 127);
  EXPECT_TRUE(f["within_limit"].get<bool>());
  EXPECT_EQ(f["max_kld"].get<double>(), 0.2);

  cfg.reference_model = test::model_path("stories260K-f32.gguf") + ".missing";
  EXPECT_THROW(test::GatewayFixture bad(cfg), Error);
}

TEST(EdgeDevice, ReadsAFakeSysfsTree) {
  FakeSysfs f;
  put(f.root / "sys/class/power_supply/AC/type", "Mains");
  put(f.root / "sys/class/power_supply/AC/online", "0");
  put(f.root / "sys/class/power_supply/BAT0/type", "Battery");
  put(f.root / "sys/class/power_supply/BAT0/capacity", "17");
  put(f.root / "sys/class/power_supply/BAT0/status", "Discharging");
  put(f.root / "sys/class/thermal/thermal_zone0/temp", "45000");
  put(f.root / "sys/class/thermal/thermal_zone1/temp", "78500");
  put(f.root / "sys/class/thermal/cooling_device0/cur_state", "1");
  put(f.root / "proc/meminfo", "MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    2097152 kB");
  const ThermalThresholds th{60, 75, 90};
  DeviceState s = read_sysfs(f.root.string(), th);
  EXPECT_EQ(s.battery_pct, 17);
  EXPECT_EQ(s.charging, false);
  EXPECT_EQ(s.thermal, Thermal::Serious);  // the hottest zone, 78.5 C
  EXPECT_EQ(s.free_mem_mb, 2048);
  EXPECT_FALSE(s.online);

  put(f.root / "sys/class/power_supply/AC/online", "1");  // plugged in, battery not yet charging
  put(f.root / "sys/class/thermal/thermal_zone1/temp", "30000");
  s = read_sysfs(f.root.string(), th);
  EXPECT_EQ(s.charging, true);
  EXPECT_EQ(s.thermal, Thermal::Nominal);
  EXPECT_EQ(read_sysfs(f.root.string(), ThermalThresholds{40, 50, 60}).thermal, Thermal::Fair);

  // Nothing there: everything unknown (a desktop, a container).
  const DeviceState none = read_sysfs((f.root / "nothing").string(), th);
  EXPECT_EQ(none, DeviceState{});
}

TEST(EdgeDevice, TimelineReplaysAgainstAClock) {
  const Timeline t = Timeline::parse(R"({"events": [
      {"at_ms": 0, "battery": 80, "charging": false, "thermal": "nominal", "online": true},
      {"at_ms": 1000, "battery": 15},
      {"at_ms": 2000, "thermal": "serious"},
      {"at_ms": 3000, "online": false},
      {"at_ms": 4000, "online": true, "charging": true, "thermal": "nominal"}]})");
  EXPECT_EQ(t.size(), 5u);
  int64_t now = 500;
  DeviceMonitor m(DeviceMonitor::Source::Timeline, "/", {}, t, [&] { return now; });  // t0 = 500
  EXPECT_EQ(m.current().battery_pct, 80);
  now = 1499;
  EXPECT_EQ(m.current().battery_pct, 80);
  now = 1500;
  EXPECT_EQ(m.current().battery_pct, 15);
  EXPECT_EQ(m.current().thermal, Thermal::Nominal);
  now = 2600;
  EXPECT_EQ(m.current().thermal, Thermal::Serious);
  EXPECT_EQ(m.current().battery_pct, 15);  // earlier fields persist
  now = 3500;
  EXPECT_EQ(m.current().online, false);
  // Pushed state overrides the timeline field by field.
  m.push(device_state_from_json({{"online", true}}));
  EXPECT_EQ(m.current().online, true);
  EXPECT_EQ(m.current().thermal, Thermal::Serious);
  m.clear_pushed();
  now = 4500;
  const DeviceState s = m.current();
  EXPECT_EQ(s.online, true);
  EXPECT_EQ(s.charging, true);
  EXPECT_EQ(s.thermal, Thermal::Nominal);
}

TEST(EdgeDevice, BadTimelinesAndPushesAreNamed) {
  auto err = [](const std::string& text) {
    try {
      Timeline::parse(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err("[{\"battery\": 5}]").find("event 0 needs a numeric 'at_ms'"), std::string::npos);
  EXPECT_NE(err("[{\"at_ms\": 0, \"thermal\": \"hot\"}]").find("'thermal'"), std::string::npos);
  EXPECT_NE(err("[{\"at_ms\": 0, \"batery\": 5}]").find("'batery'"), std::string::npos);
  EXPECT_NE(err("{").find("not valid JSON"), std::string::npos);
  EXPECT_THROW(device_state_from_json({{"battery", 101}}), Error);
  EXPECT_THROW(device_state_from_json({{"charging", "yes"}}), Error);
  const DeviceState s = device_state_from_json({{"battery", 42}, {"thermal", "critical"}, {"free_mem_mb", 300}});
  EXPECT_EQ(to_json(s)["battery"], 42);
  EXPECT_EQ(to_json(s)["thermal"], "critical");
  EXPECT_TRUE(to_json(s)["online"].is_null());
}

TEST(EdgeConnectivity, BreakerClosedOpenHalfOpenClosed) {
  CircuitBreaker b(3, 1000);
  int64_t now = 0;
  EXPECT_EQ(b.state(now), BreakerState::Closed);
  b.failure(now);
  b.failure(now);
  EXPECT_TRUE(b.acquire(now));  // two failures: still closed
  b.success();                  // a success resets the count
  b.failure(now);
  b.failure(now);
  EXPECT_EQ(b.state(now), BreakerState::Closed);
  b.failure(now);
  EXPECT_EQ(b.state(now), BreakerState::Open);
  EXPECT_FALSE(b.acquire(now + 999));
  EXPECT_EQ(b.state(now + 1000), BreakerState::HalfOpen);
  EXPECT_TRUE(b.acquire(now + 1000));   // the one trial
  EXPECT_FALSE(b.acquire(now + 1001));  // no second while it runs
  b.failure(now + 1100);                // trial failed: open again, for another pause
  EXPECT_EQ(b.state(now + 1100), BreakerState::Open);
  EXPECT_FALSE(b.would_allow(now + 2099));
  EXPECT_TRUE(b.acquire(now + 2100));
  b.success();
  EXPECT_EQ(b.state(now + 2100), BreakerState::Closed);
  EXPECT_TRUE(b.acquire(now + 2100));
  EXPECT_TRUE(b.acquire(now + 2100));
}

TEST(EdgeConnectivity, EwmaRttRetryAfterAndClassification) {
  EndpointConfig ep;
  ep.name = "c";
  ep.url = "http://127.0.0.1:1";
  int64_t now = 0;
  EndpointHealth h(ep, 0.5, 2, 1000, [&] { return now; });
  h.on_success(100);
  EXPECT_DOUBLE_EQ(*h.snapshot().rtt_ms, 100);
  h.on_success(200);
  EXPECT_DOUBLE_EQ(*h.snapshot().rtt_ms, 150);
  h.on_success(50);
  EXPECT_DOUBLE_EQ(*h.snapshot().rtt_ms, 100);
  // 429: skipped for Retry-After, and no breaker count (it answered).
  h.on_failure(Failure::Http429, 2000);
  EXPECT_FALSE(h.usable());
  EXPECT_EQ(h.snapshot().breaker, BreakerState::Closed);
  EXPECT_EQ(h.snapshot().cooldown_ms, 2000);
  now = 2000;
  EXPECT_TRUE(h.usable());
  h.on_failure(Failure::Http5xx);
  h.on_failure(Failure::Timeout);
  EXPECT_EQ(h.snapshot().breaker, BreakerState::Open);
  EXPECT_FALSE(h.acquire());
  h.on_success(10);  // a probe during the pause does not close it
  EXPECT_EQ(h.snapshot().breaker, BreakerState::Open);
  now = 3000;
  EXPECT_EQ(h.snapshot().breaker, BreakerState::HalfOpen);
  EXPECT_TRUE(h.acquire());
  h.on_success(10);
  EXPECT_EQ(h.snapshot().breaker, BreakerState::Closed);
  EXPECT_EQ(h.snapshot().last_failure, "timeout");

  EXPECT_EQ(classify_status(200), Failure::None);
  EXPECT_EQ(classify_status(400), Failure::Http4xx);
  EXPECT_EQ(classify_status(401), Failure::Http4xx);
  EXPECT_EQ(classify_status(408), Failure::Timeout);
  EXPECT_EQ(classify_status(429), Failure::Http429);
  EXPECT_EQ(classify_status(503), Failure::Http5xx);
}

TEST(EdgeConnectivity, UnreachableEndpointIsAConnectionFailure) {
  EdgeConfig cfg = default_config();
  EndpointConfig ep;
  ep.name = "dead";
  ep.url = "http://127.0.0.1:9";  // discard port: nothing listens
  ep.timeout_ms = 1000;
  cfg.clouds = {ep};
  cfg.breaker_failures = 1;
  Connectivity c(cfg, {});
  c.probe_once();
  const auto s = c.find("dead")->snapshot();
  EXPECT_EQ(s.last_failure, "connection");
  EXPECT_EQ(s.breaker, BreakerState::Open);
  CloudCall call;
  call.endpoint = &ep;
  call.body = {{"prompt", "x"}};
  const CloudResult r = call_cloud(call);
  EXPECT_EQ(r.failure, Failure::Connection);
  EXPECT_FALSE(r.request_sent);
  EXPECT_EQ(r.content_chunks, 0);
}

TEST(EdgeConnectivity, SseParserSplitsEventsAcrossReads) {
  SseParser p;
  std::vector<std::string> got;
  auto on = [&](const std::string& d) {
    got.push_back(d);
    return true;
  };
  p.feed("data: {\"a\":1}\n", on);
  EXPECT_TRUE(got.empty());
  p.feed("\ndata: second\r\n\r\n: comment\n\ndata:[DONE]\n\n", on);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "{\"a\":1}");
  EXPECT_EQ(got[1], "second");
  EXPECT_EQ(got[2], "[DONE]");
}

TEST(EdgeBudget, PerDayAndPerAppChargedAndRolledOver) {
  EdgeConfig cfg = default_config();
  cfg.daily_usd = 1.0;
  cfg.apps = {AppConfig{"notes", "K", 0.25}, AppConfig{"free", "K2", -1}};
  int64_t day = 100;
  Budget b(cfg, [&] { return day; });
  EXPECT_DOUBLE_EQ(*b.remaining("notes"), 0.25);
  EXPECT_DOUBLE_EQ(*b.remaining("free"), 1.0);
  b.charge("notes", 0.2);
  EXPECT_NEAR(*b.remaining("notes"), 0.05, 1e-12);
  EXPECT_NEAR(*b.remaining("free"), 0.8, 1e-12);
  b.charge("free", 0.9);
  EXPECT_DOUBLE_EQ(*b.remaining("notes"), 0.0);  // the global limit binds
  EXPECT_DOUBLE_EQ(*b.remaining("free"), 0.0);
  EXPECT_NEAR(b.spent_today(), 1.1, 1e-12);
  day = 101;
  EXPECT_DOUBLE_EQ(*b.remaining("notes"), 0.25);
  EXPECT_DOUBLE_EQ(b.spent_today(), 0.0);
  cfg.daily_usd = -1;
  cfg.apps.clear();
  EXPECT_FALSE(Budget(cfg).remaining("x"));
}

// A restarted gateway starts its budget from the ledger's rows of the current UTC day, per app.
TEST(EdgeBudget, SeededFromTodaysLedgerRows) {
  const std::string db = test::temp_path("edge-budget-seed") + ".sqlite";
  fs::remove(db);
  const int64_t now = 20000 * Budget::kDayMs + 3600000;  // 01:00 UTC on day 20000
  {
    ledger::Ledger led(db);
    auto row = [&](int64_t t, const std::string& app, double usd) {
      ledger::Record r;
      r.time_ms = t;
      r.app = app;
      r.route = "CLOUD";
      r.served_by = "primary";
      r.status = "ok";
      r.cost_usd = usd;
      led.insert(r);
    };
    row(now - 2 * 3600000, "notes", 5.0);  // yesterday, 23:00
    row(now - 1800000, "notes", 0.2);
    row(now - 60000, "", 0.1);
    row(now + Budget::kDayMs, "notes", 7.0);  // tomorrow (a clock that was ahead)
  }
  EdgeConfig cfg = default_config();
  cfg.daily_usd = 1.0;
  cfg.apps = {AppConfig{"notes", "K", 0.25}};
  int64_t day = Budget::utc_day(now);
  Budget b(cfg, [&] { return day; });
  {
    const ledger::Ledger led(db, ledger::LedgerOptions{.create = false, .read_only = true});
    EXPECT_NEAR(seed_budget_from_ledger(b, led, now), 0.3, 1e-12);
  }
  EXPECT_NEAR(b.spent_today(), 0.3, 1e-12);
  EXPECT_NEAR(b.spent_today("notes"), 0.2, 1e-12);
  EXPECT_NEAR(*b.remaining("notes"), 0.05, 1e-12);
  EXPECT_NEAR(*b.remaining(""), 0.7, 1e-12);
  b.charge("notes", 0.05);  // charges add to the seed
  EXPECT_NEAR(*b.remaining("notes"), 0.0, 1e-12);
  b.seed(day - 1, {{"", 9.0}});  // not today: ignored
  EXPECT_NEAR(b.spent_today(), 0.35, 1e-12);
  day += 1;  // the next day starts from nothing
  EXPECT_DOUBLE_EQ(b.spent_today(), 0.0);
  fs::remove(db);
}
