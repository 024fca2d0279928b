// tandem edge's web UI and its /v1/report: the page and its files as the gateway serves them
// (headers, no path escapes), the report over HTTP against what was sent (formats, windows, app
// keys, bad parameters), and a real browser (Debian's chromium through playwright-core,
// tests/webui/check.mjs) driving the UI of a real `tandem edge` process.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>

#include "edge/gateway.h"
#include "edge/webui.h"
#include "edge_e2e_util.h"
#include "edge_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using nlohmann::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";

using InProcessEdge = test::GatewayFixture;

}  // namespace

TEST(EdgeWebUi, ServesThePageAndItsFilesAndNothingElse) {
  // The embedded files are the ones in src/edge/webui/, byte for byte.
  for (const char* name : {"index.html", "app.js", "style.css", "icon.svg"}) {
    const auto a = find_web_asset(std::string("/ui/") + name);
    ASSERT_TRUE(a) << name;
    std::ifstream f(test::source_dir() + "/src/edge/webui/" + name, std::ios::binary);
    const std::string disk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(a->body, disk) << name;
  }
  EXPECT_FALSE(find_web_asset("/ui/nope.js"));
  EXPECT_FALSE(find_web_asset("/index.html"));

  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  InProcessEdge edge(test::edge_test_config(kDevice));
  auto c = edge.client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("<script src=\"/ui/app.js\" defer></script>"), std::string::npos);
  // Only the page's own scripts run, and it cannot be framed.
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  r = c.Get("/ui/app.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  r = c.Get("/ui/missing.css");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "not_found");
  for (const char* escape : {"/ui/../CMakeLists.txt", "/ui/%2e%2e/CMakeLists.txt", "/ui//etc/passwd"}) {
    r = c.Get(escape);
    ASSERT_TRUE(r) << escape;
    EXPECT_EQ(r->status, 404) << escape;
    EXPECT_EQ(r->body.find("project(tandem"), std::string::npos) << escape;
  }
}

TEST(EdgeWebUi, ReportOverHttpCountsWhatWasSent) {
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  InProcessEdge edge(test::edge_test_config(kDevice));
  auto c = edge.client();
  int64_t prompt = 0, completion = 0;
  for (const char* p : {"Once upon a time", "The cat"}) {
    auto r = c.Post("/v1/completions", json{{"prompt", p}, {"max_tokens", 6}, {"temperature", 0}}.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json u = json::parse(r->body)["usage"];
    prompt += u["prompt_tokens"].get<int64_t>();
    completion += u["completion_tokens"].get<int64_t>();
  }
  auto r = c.Get("/v1/report");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json rep = json::parse(r->body);
  EXPECT_EQ(rep["total"]["requests"], 2);
  EXPECT_EQ(rep["total"]["prompt_tokens"], prompt);
  EXPECT_EQ(rep["total"]["completion_tokens"], completion);
  EXPECT_EQ(rep["total"]["device_request_share_pct"], 100.0);
  EXPECT_EQ(rep["by_route"]["LOCAL"]["requests"], 2);

  // A window that ends before the requests holds none of them.
  r = c.Get("/v1/report?until=2020-01-01");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["total"]["requests"], 0);
  r = c.Get("/v1/report?since=1h");
  EXPECT_EQ(json::parse(r->body)["total"]["requests"], 2);
  r = c.Get("/v1/report?since=24h&format=html");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("<svg"), std::string::npos);  // the plots are inline
  r = c.Get("/v1/report?format=table");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("| LOCAL"), std::string::npos) << r->body;

  // Bad parameters: 400 naming the parameter, and the gateway keeps serving.
  for (const auto& [query, param] : std::vector<std::pair<std::string, std::string>>{
           {"format=pdf", "format"}, {"since=yesterday-ish", "since"}, {"until=soon", "until"},
           {"bucket=often", "bucket"}, {"since=1h&until=2h", "until"}}) {
    r = c.Get(("/v1/report?" + query).c_str());
    ASSERT_TRUE(r) << query;
    EXPECT_EQ(r->status, 400) << query << " " << r->body;
    EXPECT_EQ(json::parse(r->body)["error"]["param"], param) << query;
  }
  r = c.Get("/health");
  EXPECT_EQ(r->status, 200);
}

TEST(EdgeWebUi, AnAppKeySeesOnlyItsOwnRequestsInTheReport) {
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  ::setenv("TANDEM_WEBUI_TEST_KEY_A", "sk-a", 1);
  ::setenv("TANDEM_WEBUI_TEST_KEY_B", "sk-b", 1);
  EdgeConfig cfg = test::edge_test_config(kDevice);
  cfg.apps = {AppConfig{"a", "TANDEM_WEBUI_TEST_KEY_A", -1}, AppConfig{"b", "TANDEM_WEBUI_TEST_KEY_B", -1}};
  InProcessEdge edge(cfg);
  auto c = edge.client();
  const json body = {{"prompt", "Once"}, {"max_tokens", 4}, {"temperature", 0}};
  for (const char* key : {"sk-a", "sk-a", "sk-b"}) {
    auto r = c.Post("/v1/completions", {{"Authorization", std::string("Bearer ") + key}}, body.dump(), "application/json");
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto r = c.Get("/v1/report");
  EXPECT_EQ(r->status, 401);
  r = c.Get("/v1/report", {{"Authorization", "Bearer sk-a"}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["total"]["requests"], 2);
  // The app filter of a keyed request is its own app, whatever it asks for.
  r = c.Get("/v1/report?app=b", {{"Authorization", "Bearer sk-a"}});
  EXPECT_EQ(json::parse(r->body)["total"]["requests"], 2);
  r = c.Get("/v1/report", {{"Authorization", "Bearer sk-b"}});
  EXPECT_EQ(json::parse(r->body)["total"]["requests"], 1);
}

// A person's path through the UI in a real browser, against a real `tandem edge` process with a
// SQLite ledger: greedy answers streamed into the page equal the API's, a second turn carries the
// conversation, a refused request shows the gateway's reason, the device panel's push reaches
// /v1/device, the ledger panel matches /v1/report, and the page logs no script or CSP errors.
TEST(EdgeWebUi, ABrowserDrivesTheUi) {
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  const std::string dir = test::source_dir() + "/tests/webui";
  if (!std::filesystem::exists(dir + "/node_modules/playwright-core/package.json"))
    GTEST_SKIP() << "run npm ci in " << dir << " (scripts/test.sh does)";
  const char* chromium = std::getenv("CHROMIUM");
  const std::string browser = chromium ? chromium : "/usr/lib/chromium/chromium";
  if (!std::filesystem::exists(browser)) GTEST_SKIP() << "no chromium at " << browser << " (scripts/install-deps.sh installs it)";
  edge_e2e::TempDir tmp;
  edge_e2e::EdgeProc edge(edge_e2e::EdgeSpec{}, tmp, tmp.file("ledger.sqlite"));
  std::string out;
  const int rc = test::run_command("node " + dir + "/check.mjs http://127.0.0.1:" + std::to_string(edge.port), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ok  no script errors or CSP violations in the page"), std::string::npos) << out;
}
