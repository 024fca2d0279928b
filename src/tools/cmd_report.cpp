// tandem report: the device ledger's economics (docs/ledger.md). Reads the SQLite ledger the
// edge gateway writes, filters it by time and app, and prints tables, JSON or an HTML page;
// --plots DIR writes the charts as SVG files. --demo-fill N first appends N synthetic, clearly
// marked records (for demos before any real request was served).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "format/error.h"
#include "ledger/demo_records.h"
#include "ledger/ledger.h"
#include "ledger/report.h"
#include "ledger/report_format.h"
#include "tools/commands.h"

namespace tandem::tools {

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw Error("cannot write " + path);
}

}  // namespace

int cmd_report(int argc, char** argv) {
  CLI::App app{"The ledger's economics: cost per 1M tokens against all-cloud, P50/P99 latency per route, "
               "share kept on the device, fallbacks and failures, privacy (docs/ledger.md)",
               argv[0]};
  std::string db, since, until, app_name, format = "table", out, plots, bucket;
  int demo_fill = 0;
  uint64_t demo_seed = 1;
  app.add_option("--db", db, "ledger file (default: $XDG_DATA_HOME/tandem/ledger.sqlite, else ~/.local/share/tandem/ledger.sqlite)");
  app.add_option("--since", since, "start: 24h, 7d, 30m (back from now), 2026-11-01[T08:30] (UTC) or Unix ms");
  app.add_option("--until", until, "end (exclusive), same forms as --since");
  app.add_option("--app", app_name, "only this app's requests");
  app.add_option("--format", format, "table (Markdown), json or html")->check(CLI::IsMember({"table", "json", "html"}));
  app.add_option("-o,--output", out, "write the report to this file instead of stdout");
  app.add_option("--plots", plots, "also write the plots as SVG files into this folder");
  app.add_option("--bucket", bucket, "time-series bucket (1m, 15m, 1h, 1d, ...); default: at most 60 buckets");
  app.add_option("--demo-fill", demo_fill, "first append N synthetic records (marked demo-*) spread over the last 24 h")
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--demo-seed", demo_seed, "seed of --demo-fill's mix");
  CLI11_PARSE(app, argc, argv);
  try {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    if (db.empty()) db = ledger::default_path();
    ledger::ReportOptions opt;
    if (!since.empty()) opt.since_ms = ledger::parse_time(since, now);
    if (!until.empty()) opt.until_ms = ledger::parse_time(until, now);
    if (opt.since_ms && opt.until_ms && *opt.until_ms <= *opt.since_ms)
      throw Error("--until (" + ledger::format_utc(*opt.until_ms) + ") is not after --since (" +
                  ledger::format_utc(*opt.since_ms) + ")");
    if (!bucket.empty()) opt.bucket_ms = ledger::parse_duration_ms(bucket);
    opt.app = app_name;

    if (demo_fill == 0 && !std::filesystem::exists(db))
      throw Error("no ledger at " + db + " (the edge gateway creates it on its first request; pass --db FILE, "
                  "or --demo-fill N to make a synthetic one)");
    ledger::LedgerOptions lo;
    lo.create = demo_fill > 0;
    lo.read_only = demo_fill == 0;  // a report never changes the ledger it reads
    ledger::Ledger led(db, lo);
    if (demo_fill > 0) {
      for (const auto& r : ledger::demo_records(demo_fill, now, 24 * 3600 * 1000LL, demo_seed)) led.insert(r);
      std::fprintf(stderr, "tandem report: appended %d synthetic demo records to %s\n", demo_fill, db.c_str());
    }

    ledger::Filter filter;
    filter.since_ms = opt.since_ms;
    filter.until_ms = opt.until_ms;
    if (!app_name.empty()) filter.app = app_name;
    const ledger::Report rep = ledger::build_report(led.query(filter), opt, led.checks({.until_ms = opt.until_ms}));

    const std::string text = format == "json" ? ledger::report_json(rep)
                             : format == "html" ? ledger::report_html(rep)
                                                : ledger::report_table(rep);
    if (out.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    else write_text(out, text);

    if (!plots.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(plots, ec);
      if (ec) throw Error("cannot create " + plots + ": " + ec.message());
      for (const auto& p : ledger::report_plots(rep)) write_text((std::filesystem::path(plots) / p.file_name).string(), p.svg);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem report: %s\n", e.what());
    return 1;
  }
}

}  // namespace tandem::tools
