// The gateway's RecordSink that writes each request's ledger::Record to the SQLite ledger on the
// device (src/ledger), where `tandem report` reads it.
#pragma once
#include <cstdio>
#include <string>

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
  ledger::Ledger& ledger() { return ledger_; }

 private:
  ledger::Ledger ledger_;
};

}  // namespace tandem::edge
