// The report: every figure against values computed by hand for a known set of six requests
// (docs/ledger.md defines them), the percentile method, time parsing, the SVG plots as XML and
// the HTML page. (`tandem report` run as a process: report_cli_test.cpp.)
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <nlohmann/json.hpp>

#include "format/error.h"
#include "ledger/demo_records.h"
#include "ledger/ledger.h"
#include "ledger/plot_svg.h"
#include "ledger/report.h"
#include "ledger/report_format.h"
#include "report_test_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace tandem::ledger;
using namespace tandem::test::report;

namespace {

Report known_report() {
  ReportOptions o;
  o.bucket_ms = 60 * kMin;
  return build_report(known_records(), o);
}

}  // namespace

TEST(Report, PercentileIsNearestRank) {
  EXPECT_FALSE(percentile({}, 50).has_value());
  EXPECT_EQ(*percentile({7}, 50), 7);
  EXPECT_EQ(*percentile({7}, 99), 7);
  EXPECT_EQ(*percentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 50), 5);  // ceil(0.5 * 10) = 5th
  EXPECT_EQ(*percentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 99), 10);  // ceil(9.9) = 10th
  EXPECT_EQ(*percentile({1, 2, 3, 4}, 50), 2);                      // no interpolation (not 2.5)
  std::vector<double> v;
  for (int i = 200; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(*percentile(v, 99), 198);  // ceil(198) = 198th
  EXPECT_EQ(*percentile(v, 50), 100);
  EXPECT_EQ(*percentile(v, 0), 1);
  EXPECT_EQ(*percentile(v, 100), 200);
}

TEST(Report, KnownSetFigures) {
  const Report r = known_report();
  const Totals& t = r.total;
  EXPECT_EQ(t.requests, 6);
  EXPECT_EQ(t.ok, 4);
  EXPECT_EQ(t.fallbacks, 1);
  EXPECT_EQ(t.errors, 1);
  // App tokens: 150 + 300 + 80 (r3 derived: max(50, 0) + 30) + 120 + 0 + 20.
  EXPECT_EQ(t.prompt_tokens, 100 + 200 + 50 + 80 + 0 + 10);
  EXPECT_EQ(t.completion_tokens, 50 + 100 + 30 + 40 + 0 + 10);
  EXPECT_EQ(t.tokens(), 670);
  EXPECT_EQ(t.device_tokens, 150 + 80 + 120 + 20);
  EXPECT_EQ(t.cloud_tokens, 300 + 90);
  EXPECT_EQ(t.served_by_device, 3);
  EXPECT_EQ(t.stayed_on_device, 2);
  EXPECT_EQ(t.data_left_device, 4);
  // Cost: r2 $0.0004 + r4 $0.0001; all-cloud: .0002 + .0004 + .00011 + .00016 + 0 + .00003.
  EXPECT_NEAR(t.cost_usd, 0.0005, 1e-12);
  EXPECT_NEAR(t.all_cloud_cost_usd, 0.0009, 1e-12);
  EXPECT_NEAR(*t.cost_per_million(), 0.0005 / 670 * 1e6, 1e-9);  // $0.7463 per 1M
  EXPECT_NEAR(*t.all_cloud_cost_per_million(), 0.0009 / 670 * 1e6, 1e-9);
  EXPECT_NEAR(*t.savings_pct(), 100.0 * (1 - 5.0 / 9.0), 1e-9);  // 44.44%
  EXPECT_NEAR(*t.device_token_share_pct(), 100.0 * 370 / 760, 1e-9);
  EXPECT_NEAR(*t.device_request_share_pct(), 100.0 * 2 / 6, 1e-9);
  // Latency over the five answered requests {40, 100, 300, 500, 900}: P50 = 3rd, P99 = 5th.
  EXPECT_EQ(t.latency_ms.n, 5);
  EXPECT_EQ(*t.latency_ms.p50, 300);
  EXPECT_EQ(*t.latency_ms.p99, 900);
  EXPECT_EQ(*t.ttft_ms.p50, 60);  // {5, 20, 60, 120, 700}
  EXPECT_EQ(*t.ttft_ms.p99, 700);

  ASSERT_EQ(r.by_route.size(), 3u);
  const Totals& local = r.by_route.at("LOCAL");
  EXPECT_EQ(local.requests, 2);
  EXPECT_EQ(*local.latency_ms.p50, 40);  // {40, 100}: ceil(1) = 1st
  EXPECT_EQ(*local.latency_ms.p99, 100);
  EXPECT_NEAR(*local.savings_pct(), 100, 1e-9);
  const Totals& cl = r.by_route.at("CLOUD");
  EXPECT_EQ(cl.requests, 3);
  EXPECT_EQ(cl.fallbacks, 1);
  EXPECT_EQ(cl.errors, 1);
  EXPECT_EQ(cl.latency_ms.n, 2);  // the error is not a latency
  EXPECT_EQ(*cl.latency_ms.p50, 300);
  EXPECT_EQ(*cl.latency_ms.p99, 900);
  EXPECT_NEAR(*cl.savings_pct(), 100.0 * (1 - 0.0004 / 0.00051), 1e-9);
  EXPECT_EQ(*r.by_route.at("SPECULATIVE").latency_ms.p99, 500);

  EXPECT_EQ(r.by_served_by.at("device").requests, 3);
  EXPECT_EQ(r.by_served_by.at("cloud-a").requests, 2);
  EXPECT_EQ(r.by_served_by.at("").requests, 1);
  EXPECT_EQ(r.by_app.at("notes").tokens(), 270);
  EXPECT_NEAR(r.by_app.at("notes").all_cloud_cost_usd, 0.00036, 1e-12);
  EXPECT_EQ(r.by_app.at("mail").requests, 3);
  EXPECT_EQ(r.by_app.at(kUnicodeApp).requests, 1);

  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures.at("timeout").fallbacks, 1);
  EXPECT_EQ(r.failures.at("timeout").errors, 0);
  EXPECT_EQ(r.failures.at("http_5xx").fallbacks, 0);
  EXPECT_EQ(r.failures.at("http_5xx").errors, 1);

  const Privacy& p = r.privacy;
  EXPECT_EQ(p.requests_by_level.at("standard"), 5);
  EXPECT_EQ(p.requests_by_level.at("strict"), 1);
  EXPECT_EQ(p.data_left_by_level.at("standard"), 4);
  EXPECT_EQ(p.data_left_by_level.count("strict"), 0u);
  EXPECT_EQ(p.pii_found.at("EMAIL"), 2);
  EXPECT_EQ(p.pii_found.at("PHONE"), 2);
  EXPECT_EQ(p.pii_redacted.at("EMAIL"), 1);
  EXPECT_EQ(p.pii_redacted.at("PHONE"), 1);
  EXPECT_EQ(p.requests_with_pii, 3);
  EXPECT_EQ(p.requests_pii_unredacted_sent, 1);  // r4; r6's e-mail stayed on the device
  EXPECT_EQ(p.pii_unredacted_sent_by_level.at("standard"), 1);

  EXPECT_EQ(r.speculation.requests, 1);
  EXPECT_NEAR(*r.speculation.acceptance_pct(), 75, 1e-9);
  EXPECT_NEAR(*r.speculation.accepted_per_round(), 6, 1e-9);

  // Hourly buckets: [r1 r2 r3], [r4 r5], [r6].
  EXPECT_EQ(r.bucket_ms, 60 * kMin);
  ASSERT_EQ(r.series.size(), 3u);
  EXPECT_EQ(r.series[0].start_ms, kT0);
  EXPECT_EQ(r.series[2].start_ms, kT0 + 120 * kMin);
  EXPECT_EQ(r.series[0].totals.requests, 3);
  EXPECT_EQ(r.series[1].totals.requests, 2);
  EXPECT_NEAR(r.series[0].cumulative_cost_usd, 0.0004, 1e-12);
  EXPECT_NEAR(r.series[1].cumulative_cost_usd, 0.0005, 1e-12);
  EXPECT_NEAR(r.series[0].cumulative_all_cloud_cost_usd, 0.00071, 1e-12);
  EXPECT_NEAR(r.series[1].cumulative_all_cloud_cost_usd, 0.00087, 1e-12);
  EXPECT_NEAR(r.series[2].cumulative_all_cloud_cost_usd, 0.0009, 1e-12);
}

// Requests under a response_format, json_schema or grammar are counted per route (table and JSON).
TEST(Report, ConstrainedRequestsPerRoute) {
  std::vector<Record> recs = known_records();
  recs[0].output_constraint = "json_schema";
  recs[1].output_constraint = "grammar";
  const Report r = build_report(recs);
  EXPECT_EQ(r.total.constrained, 2);
  int64_t by_routes = 0;
  for (const auto& [route, t] : r.by_route) by_routes += t.constrained;
  EXPECT_EQ(by_routes, 2);
  EXPECT_EQ(r.by_route.at(recs[0].route).constrained, recs[0].route == recs[1].route ? 2 : 1);
  const auto j = nlohmann::json::parse(report_json(r));
  EXPECT_EQ(j["total"]["constrained"], 2);
  EXPECT_EQ(j["by_route"][recs[1].route]["constrained"], r.by_route.at(recs[1].route).constrained);
  EXPECT_NE(report_table(r).find("| constrained |"), std::string::npos);
}

TEST(Report, EmptyLedgerHasNoFigures) {
  const Report r = build_report({});
  EXPECT_EQ(r.total.requests, 0);
  EXPECT_FALSE(r.total.cost_per_million().has_value());
  EXPECT_FALSE(r.total.savings_pct().has_value());
  EXPECT_FALSE(r.total.latency_ms.p99.has_value());
  EXPECT_TRUE(r.series.empty());
  const auto j = nlohmann::json::parse(report_json(r));
  EXPECT_TRUE(j["total"]["savings_pct"].is_null());
  for (const auto& p : report_plots(r)) expect_xml(p.svg, "empty-" + p.file_name);
  expect_xml(report_html(r), "empty.html");
}

TEST(Report, BucketsAndTimes) {
  EXPECT_EQ(auto_bucket_ms(0, 59 * kMin), kMin);
  EXPECT_EQ(auto_bucket_ms(kT0, kT0 + 125 * kMin), 5 * kMin);
  EXPECT_EQ(auto_bucket_ms(kT0, kT0 + 3 * 24 * 60 * kMin), 6 * 60 * kMin);
  EXPECT_EQ(parse_time("2026-11-01", 0), kT0);
  EXPECT_EQ(parse_time("2026-11-01T08:30", 0), kT0 + 510 * kMin);
  EXPECT_EQ(parse_time("2026-11-01 08:30:15Z", 0), kT0 + 510 * kMin + 15000);
  EXPECT_EQ(parse_time("1793491200000", 0), kT0);
  EXPECT_EQ(parse_time("24h", kT0), kT0 - 24 * 60 * kMin);
  EXPECT_EQ(parse_time("7d", kT0), kT0 - 7 * 24 * 60 * kMin);
  EXPECT_EQ(parse_time("30m", kT0), kT0 - 30 * kMin);
  EXPECT_THROW(parse_time("yesterday", kT0), tandem::Error);
  EXPECT_THROW(parse_time("2026-02-30", kT0), tandem::Error);
  EXPECT_THROW(parse_time("2026-11-01T25:00", kT0), tandem::Error);
  EXPECT_EQ(parse_duration_ms("15m"), 15 * kMin);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_THROW(parse_duration_ms("0s"), tandem::Error);
  EXPECT_EQ(format_utc(kT0 + 510 * kMin), "2026-11-01 08:30 UTC");
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00 UTC");
}

// The latest check of each endpoint is what the report shows; the table and JSON name a
// de-synced endpoint.
TEST(Report, EndpointsShowTheirLatestSyncState) {
  const std::vector<EndpointCheck> checks = {
      {.id = 1, .time_ms = 100, .endpoint = "a", .url = "http://a", .model = "m1", .sync = "ok", .fingerprint = "x"},
      {.id = 2, .time_ms = 300, .endpoint = "a", .url = "http://a", .model = "m2", .sync = "de-synced", .fingerprint = "y"},
      {.id = 3, .time_ms = 200, .endpoint = "b", .url = "http://b", .model = "m3", .sync = "ok", .fingerprint = "x"},
      {.id = 4, .time_ms = 50, .endpoint = "a", .url = "http://a", .model = "m0", .sync = "ok", .fingerprint = "x"}};
  const Report r = build_report({}, {}, checks);
  ASSERT_EQ(r.endpoints.size(), 2u);
  EXPECT_EQ(r.endpoints[0].endpoint, "a");
  EXPECT_EQ(r.endpoints[0].sync, "de-synced");
  EXPECT_EQ(r.endpoints[0].model, "m2");
  EXPECT_EQ(r.endpoints[1].sync, "ok");
  const auto j = nlohmann::json::parse(report_json(r));
  ASSERT_EQ(j["endpoints"].size(), 2u);
  EXPECT_EQ(j["endpoints"][0]["sync"], "de-synced");
  EXPECT_EQ(j["endpoints"][0]["checked_ms"], 300);
  const std::string t = report_table(r);
  EXPECT_NE(t.find("de-synced"), std::string::npos) << t;
  EXPECT_NE(report_html(r).find("de-synced"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(report_json(build_report({})))["endpoints"].empty());
}

TEST(Report, JsonCarriesEveryFigure) {
  const auto j = nlohmann::json::parse(report_json(known_report()));
  EXPECT_EQ(j["total"]["requests"], 6);
  EXPECT_EQ(j["total"]["tokens"], 670);
  EXPECT_NEAR(j["total"]["cost_per_1m_tokens_usd"].get<double>(), 0.0005 / 670 * 1e6, 1e-9);
  EXPECT_NEAR(j["total"]["all_cloud_cost_per_1m_tokens_usd"].get<double>(), 0.0009 / 670 * 1e6, 1e-9);
  EXPECT_NEAR(j["total"]["savings_pct"].get<double>(), 100.0 * 4 / 9, 1e-9);
  EXPECT_EQ(j["total"]["latency_ms"]["p99"], 900);
  EXPECT_EQ(j["by_route"]["CLOUD"]["latency_ms"]["p50"], 300);
  EXPECT_EQ(j["by_route"]["LOCAL"]["ttft_ms"]["p99"], 20);
  EXPECT_EQ(j["failures"]["timeout"]["fallbacks"], 1);
  EXPECT_EQ(j["failures"]["http_5xx"]["errors"], 1);
  EXPECT_EQ(j["privacy"]["pii_found"]["PHONE"], 2);
  EXPECT_EQ(j["privacy"]["requests_pii_unredacted_sent"], 1);
  EXPECT_EQ(j["speculation"]["accepted"], 30);
  EXPECT_EQ(j["by_app"][kUnicodeApp]["requests"], 1);
  EXPECT_EQ(j["series"].size(), 3u);
  EXPECT_EQ(j["series"][1]["requests"], 2);
  EXPECT_EQ(j["bucket_ms"], 60 * kMin);
}

TEST(Report, TableIsAlignedAndNamesEverything) {
  const std::string t = report_table(known_report());
  for (const char* s : {"## Summary", "## By route", "## Fallbacks and failures", "## Privacy", "## By app",
                        "## Speculative decoding", "## Over time", "| timeout", "| SPECULATIVE", "$0.746269",
                        "44.4%", "token cost cut 90%"})
    EXPECT_NE(t.find(s), std::string::npos) << s;
  EXPECT_NE(t.find(kUnicodeApp), std::string::npos);
  // Within each table every row has the same width in code points (unicode names included).
  size_t width = 0;
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '|') {
      width = 0;
      continue;
    }
    size_t w = 0;
    for (unsigned char c : line) w += (c & 0xc0) != 0x80;
    if (width == 0) width = w;
    EXPECT_EQ(w, width) << line;
  }
}

TEST(Report, SvgPlotsAreWellFormedXml) {
  const auto plots = report_plots(known_report());
  ASSERT_EQ(plots.size(), 5u);
  for (const auto& p : plots) {
    EXPECT_EQ(p.svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << p.file_name;
    expect_xml(p.svg, p.file_name);
  }
  // Hostile labels: markup characters, control bytes and invalid UTF-8 in names.
  BarChart c{"<script>&\"'</script>", "ms", {"a<b", "x\x01y", std::string("bad\xff\xfe utf8"), "ok 📒"},
             {{"P50 & P99", {1, 2, NAN, -3}}, {"s\"2", {0.001, 1e6, 5, 6}}}};
  const std::string svg = bar_chart_svg(c);
  expect_xml(svg, "hostile.svg");
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD for the invalid bytes
  LineChart l{"line", "y", {"a", "b", "c", "d"}, {{"gappy", {1, NAN, 3, 4}}, {"flat", {2, 2, 2, 2}}}, false};
  expect_xml(line_chart_svg(l), "line.svg");
  EXPECT_EQ(nice_ticks(0, 7.3), (std::vector<double>{0, 2, 4, 6, 8}));
  EXPECT_EQ(nice_ticks(0, 100, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
}

TEST(Report, HtmlIsSelfContainedWithTablesAndPlots) {
  const std::string h = report_html(known_report());
  expect_xml(h, "report.html");  // written as XHTML-compatible markup
  EXPECT_EQ(occurrences(h, "<svg "), 5u);
  EXPECT_EQ(occurrences(h, "<table>"), occurrences(report_table(known_report()), "\n## "));
  EXPECT_NE(h.find(kUnicodeApp), std::string::npos);
  EXPECT_NE(h.find("<td>SPECULATIVE</td>"), std::string::npos);
  EXPECT_EQ(h.find("http://"), h.find("http://www.w3.org/2000/svg")) << "no external resources";
  EXPECT_EQ(h.find("src="), std::string::npos);
}

TEST(Report, DemoRecordsAreMarkedAndDeterministic) {
  const auto a = demo_records(300, kT0, 24 * 60 * kMin, 7), b = demo_records(300, kT0, 24 * 60 * kMin, 7);
  EXPECT_EQ(a, b);
  for (const auto& r : a) {
    EXPECT_EQ(r.app.rfind("demo-", 0), 0u);
    EXPECT_EQ(r.reasons.front(), "synthetic demo record");
    EXPECT_GE(r.time_ms, kT0 - 24 * 60 * kMin);
    EXPECT_LT(r.time_ms, kT0);
    if (r.privacy_level == "strict" && !r.pii_found.empty()) {
      EXPECT_FALSE(r.data_left_device);
    }
  }
  const Report rep = build_report(a);
  EXPECT_EQ(rep.total.requests, 300);
  EXPECT_EQ(rep.privacy.pii_unredacted_sent_by_level.count("strict"), 0u);
  EXPECT_EQ(rep.privacy.pii_unredacted_sent_by_level.count("standard"), 0u);
  EXPECT_GT(*rep.total.savings_pct(), 0);
  EXPECT_LT(*rep.total.savings_pct(), 100);
}
