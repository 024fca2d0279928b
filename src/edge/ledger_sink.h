// The gateway's RecordSink that writes each request's ledger::Record to the SQLite ledger on the
// device (src/ledger), where `tandem report` reads it.
#pragma once
#include <cstdio>
#include <map>
#include <string>

#include "edge/budget.h"
#include "edge/hooks.h"
#include "ledger/ledger.h"

namespace tandem::edge {

class LedgerRecordSink : public RecordSink {
 public:
  // Opens (or creates) the ledger; store_text: keep prompt and answer text (config edge.store_text).
  LedgerRecordSink(const std::string& path, bool store_text)
      : ledger_(path, ledger::LedgerOptions{.create = true, .store_text = store_text}) {}
  // A ledger that cannot be written (disk full, file locked too long) must not fail the request
  // it describes: the error is reported on stderr, without any of the request's text.
  void record(const ledger::Record& r) override {
    try {
      ledger_.insert(r);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tandem edge: ledger write failed: %s\n", e.what());
    }
  }
  void record_check(const ledger::EndpointCheck& c) override {
    try {
      ledger_.insert_check(c);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tandem edge: ledger write failed: %s\n", e.what());
    }
  }
  std::optional<Contents> read(const ledger::Filter& f) const override {
    return Contents{ledger_.query(f), ledger_.checks({.until_ms = f.until_ms})};
  }
  ledger::Ledger& ledger() { return ledger_; }

 private:
  ledger::Ledger ledger_;
};

// At start: what the ledger says was spent today (the UTC day of now_unix_ms), per app, goes into
// the budget, so a restarted gateway does not spend the day's budget a second time. Returns the
// total seeded.
inline double seed_budget_from_ledger(Budget& budget, const ledger::Ledger& ledger, int64_t now_unix_ms) {
  const int64_t day = Budget::utc_day(now_unix_ms);
  std::map<std::string, double> by_app;
  double total = 0;
  for (const ledger::Record& r : ledger.query({.since_ms = day * Budget::kDayMs, .until_ms = (day + 1) * Budget::kDayMs})) {
    by_app[r.app] += r.cost_usd;
    total += r.cost_usd;
  }
  budget.seed(day, by_app);
  return total;
}

}  // namespace tandem::edge
