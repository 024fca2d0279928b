// `tandem report` run as a process on a temp ledger holding the known set, in each format, and
// its errors.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "report_test_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace tandem::ledger;
using namespace tandem::test::report;

TEST(ReportProcess, EveryFormatFromATempLedger) {
  const fs::path dir = tandem::test::temp_path("report-process");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "ledger.sqlite").string(), bin = tandem::test::tandem_binary();
  {
    Ledger l(db);
    for (const auto& r : known_records()) l.insert(r);
  }
  std::string out;
  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + db + "' --format json --bucket 1h", &out), 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["total"]["requests"], 6);
  EXPECT_NEAR(j["total"]["cost_usd"].get<double>(), 0.0005, 1e-12);
  EXPECT_EQ(j["series"].size(), 3u);

  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + db + "' --format json --app mail", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["total"]["requests"], 3);
  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + db +
                                          "' --format json --since 2026-11-01T00:30 --until 2026-11-01T02:00", &out), 0)
      << out;
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["total"]["requests"], 3);  // r3, r4, r5
  EXPECT_EQ(j["window"]["since_ms"], kT0 + 30 * kMin);

  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + db + "'", &out), 0) << out;
  EXPECT_NE(out.find("## Summary"), std::string::npos);
  EXPECT_NE(out.find("| CLOUD"), std::string::npos);

  const std::string html = (dir / "r.html").string(), plots = (dir / "plots").string();
  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + db + "' --format html -o '" + html + "' --plots '" + plots + "'", &out), 0) << out;
  const auto page = tandem::test::read_file(html);
  EXPECT_EQ(occurrences(std::string(page.begin(), page.end()), "<svg "), 5u);
  int svgs = 0;
  for (const auto& e : fs::directory_iterator(plots)) {
    const auto b = tandem::test::read_file(e.path().string());
    expect_xml(std::string(b.begin(), b.end()), "process-" + e.path().filename().string());
    ++svgs;
  }
  EXPECT_EQ(svgs, 5);

  // Errors: a missing ledger, a file that is not one (left as it was), a bad time.
  EXPECT_EQ(tandem::test::run_command(bin + " report --db '" + (dir / "none.sqlite").string() + "'", &out), 1);
  EXPECT_NE(out.find("no ledger at"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "none.sqlite"));
  EXPECT_EQ(tandem::test::run_command(bin + " report --db '" + html + "'", &out), 1);
  EXPECT_NE(out.find("not a SQLite database"), std::string::npos) << out;
  EXPECT_EQ(tandem::test::read_file(html), page);
  EXPECT_EQ(tandem::test::run_command(bin + " report --db '" + db + "' --since yesterday", &out), 1);
  EXPECT_NE(out.find("invalid time 'yesterday'"), std::string::npos) << out;
  EXPECT_NE(tandem::test::run_command(bin + " report --db '" + db + "' --format pdf", &out), 0);

  // --demo-fill makes a synthetic ledger.
  const std::string demo = (dir / "demo.sqlite").string();
  ASSERT_EQ(tandem::test::run_command(bin + " report --db '" + demo + "' --demo-fill 50 --format json", &out), 0) << out;
  EXPECT_EQ(Ledger(demo).count(), 50);
  fs::remove_all(dir);
}
