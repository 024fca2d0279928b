// tandem edge with its parts connected as `tandem edge` connects them: the SPECULATIVE route's
// runner (src/verify through edge/speculative_runner.h) and the SQLite ledger (edge/ledger_sink.h),
// read back by `tandem report`. The cloud is a real in-process tandem serve (shared F32 model),
// the device the shared Q4_0 model.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "edge/gateway.h"
#include "edge/ledger_sink.h"
#include "edge/speculative_runner.h"
#include "ledger/ledger.h"
#include "netsim/proxy.h"
#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";

EdgeConfig wired_config(int cloud_port) { return test::edge_test_config(kDevice, cloud_port); }

std::string temp_ledger(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tandem-edge-wired-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

// SPECULATIVE through the gateway is lossless: greedy text equal to the cloud model's own, with
// the device drafting; the request lands in the ledger file with its rounds and token split, and
// `tandem report` sums it.
TEST(EdgeWired, SpeculativeRouteIsExactAndLandsInTheLedger) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  test::ServeFixture cloud(kCloud, [](serve::ServerConfig& c) { c.sched.n_ctx = 256; });
  const std::string db = temp_ledger("spec.sqlite");
  const int max_tokens = 40;
  const std::string prompt = "Once upon a time";
  std::string want;
  {
    const test::HttpResult r =
        cloud.post("/v1/completions", json{{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}});
    ASSERT_EQ(r.status, 200) << r.text;
    want = r.body["choices"][0]["text"];
  }
  {
    GatewayHooks hooks;
    hooks.sink = std::make_shared<LedgerRecordSink>(db, false);
    SpeculativeRunnerConfig sc;
    sc.n_threads = 1;
    sc.draft_max = 4;
    hooks.speculative = std::make_shared<VerifySpeculativeRunner>(sc);
    Gateway gw(wired_config(cloud.port), hooks);
    const int port = gw.start();
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120);
    const json body = {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"tandem", {{"route", "speculative"}}}};
    auto r = c.Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["text"], want);
    EXPECT_EQ(j["tandem"]["route"], "SPECULATIVE") << j["tandem"].dump();
    EXPECT_TRUE(j["tandem"]["data_left_device"].get<bool>());
    // Streamed, the same text.
    json sbody = body;
    sbody["stream"] = true;
    auto s = c.Post("/v1/completions", sbody.dump(), "application/json");
    ASSERT_TRUE(s);
    std::string streamed;
    for (const auto& d : test::sse_data(s->body)) {
      if (d == "[DONE]") continue;
      const json e = json::parse(d);
      if (e.contains("choices") && !e["choices"].empty() && e["choices"][0].contains("text"))
        streamed += e["choices"][0]["text"].get<std::string>();
    }
    EXPECT_EQ(streamed, want);
    gw.stop();
  }
  ledger::Ledger led(db, ledger::LedgerOptions{.create = false, .read_only = true});
  const std::vector<ledger::Record> rows = led.query();
  ASSERT_EQ(rows.size(), 2u);
  for (const ledger::Record& rec : rows) {
    EXPECT_EQ(rec.route, "SPECULATIVE");
    EXPECT_EQ(rec.served_by, "primary");
    EXPECT_GT(rec.spec_rounds, 0);
    EXPECT_GE(rec.spec_drafted, rec.spec_accepted);
    // Every generated token was made on one side: the cloud's own per round, the rest drafted.
    EXPECT_EQ(rec.completion_tokens_device + rec.completion_tokens_cloud, max_tokens);
    EXPECT_EQ(rec.completion_tokens_cloud, rec.spec_rounds);
    EXPECT_EQ(rec.completion_tokens, max_tokens);  // the usage the app was told
    EXPECT_GT(rec.prompt_tokens, 0);
    EXPECT_LT(rec.prompt_tokens, rec.prompt_tokens_cloud);  // the cloud also evaluated the drafts
    EXPECT_GT(rec.cost_usd, 0);
    EXPECT_FALSE(rec.prompt_text.has_value());
  }
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " report --db " + db + " --format json", &out), 0) << out;
  const json rep = json::parse(out);
  EXPECT_EQ(rep["total"]["requests"], 2);
  EXPECT_EQ(rep["by_route"]["SPECULATIVE"]["requests"], 2);
  EXPECT_EQ(rep["total"]["completion_tokens"], 2 * max_tokens);
  EXPECT_NEAR(rep["total"]["cost_usd"].get<double>(), rows[0].cost_usd + rows[1].cost_usd, 1e-12);
}

// The runner's estimate needs a reachable endpoint with the device's vocabulary: none for a
// closed port, one once the cloud answers.
TEST(EdgeWired, SpeculativeEstimateOnlyForAReachableMatchingCloud) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  const EdgeConfig cfg = wired_config(cloud.port);
  VerifySpeculativeRunner runner;
  const auto device = LlamaModel::load(test::model_path(kDevice));
  const Vocab vocab = Vocab::from_gguf(device->gguf());
  runner.bind_device(*device, vocab);
  EndpointConfig closed = cfg.clouds[0];
  closed.name = "closed";
  closed.url = "http://127.0.0.1:1";
  EXPECT_FALSE(runner.estimate(closed, 10, 5, 64).has_value());
  const auto e = runner.estimate(cfg.clouds[0], 10, 5, 64);
  ASSERT_TRUE(e.has_value());
  EXPECT_GT(e->speculative_ms, 0);
  EXPECT_GT(e->cloud_ms, 0);
  // A longer round trip makes both slower, speculation more (one round trip per round).
  const auto far = runner.estimate(cfg.clouds[0], 200, 5, 64);
  ASSERT_TRUE(far.has_value());
  EXPECT_GT(far->speculative_ms, e->speculative_ms);
}

// A calibration that failed is not tried again for calibration_retry_s: behind a dark link the
// first estimate waits out its timeout, the next ones open no connection at all; once the retry
// time has passed, the endpoint (lit again) is calibrated.
TEST(EdgeWired, AFailedCalibrationIsNotRetriedAtOnce) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  netsim::ProxyConfig pc;
  pc.upstream_port = cloud.port;
  netsim::Proxy proxy(pc);
  const int port = proxy.start();
  proxy.set_dark(true);
  EdgeConfig cfg = wired_config(port);
  SpeculativeRunnerConfig rc;
  rc.calibration_timeout_s = 0.3;
  rc.calibration_retry_s = 1.0;
  VerifySpeculativeRunner runner(rc);
  const auto device = LlamaModel::load(test::model_path(kDevice));
  const Vocab vocab = Vocab::from_gguf(device->gguf());
  runner.bind_device(*device, vocab);
  EXPECT_FALSE(runner.estimate(cfg.clouds[0], 10, 5, 64).has_value());
  const uint64_t tried = proxy.stats().connections;
  EXPECT_GE(tried, 1u);
  proxy.set_dark(false);
  EXPECT_FALSE(runner.estimate(cfg.clouds[0], 10, 5, 64).has_value());
  EXPECT_EQ(proxy.stats().connections, tried);  // not even a connection
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(runner.estimate(cfg.clouds[0], 10, 5, 64).has_value());
  EXPECT_GT(proxy.stats().connections, tried);
}

