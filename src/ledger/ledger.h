// The device's ledger: one SQLite file, one row per request the edge gateway handled (a Record).
// Safe to share between threads (the gateway inserts from its HTTP threads); several processes
// may open the same file (WAL mode, a busy timeout). The schema carries its version in
// `PRAGMA user_version` and tandem's mark in `PRAGMA application_id`; a file that is not a
// tandem ledger, or one written by a newer tandem, is refused and left untouched.
// docs/ledger.md describes the schema and what is never stored.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/record.h"

namespace tandem::ledger {

// Where the gateway and `tandem report` keep the ledger unless told otherwise:
// $XDG_DATA_HOME/tandem/ledger.sqlite, else $HOME/.local/share/tandem/ledger.sqlite
// (the XDG base directory default). Throws tandem::Error when neither variable is set.
std::string default_path();

// Which rows a query returns: since_ms <= time_ms < until_ms, and app == *app when given.
struct Filter {
  std::optional<int64_t> since_ms = std::nullopt, until_ms = std::nullopt;
  std::optional<std::string> app = std::nullopt;
};

struct LedgerOptions {
  // Create the file (and its folder) when missing; false: a missing file is an error (report).
  bool create = true;
  // Keep Record::prompt_text / answer_text. Off by default: the gateway passes its config's
  // ledger.store_text, and without it no text reaches the file even if a Record carries some.
  bool store_text = false;
  // Open for reading only (tandem report): nothing is ever written, insert() throws, and a
  // ledger of an older schema is read as it is instead of being migrated (the columns it lacks
  // read as Record's defaults). Implies create = false.
  bool read_only = false;
  int busy_timeout_ms = 5000;
};

class Ledger {
 public:
  static constexpr int kSchemaVersion = 3;
  static constexpr int32_t kApplicationId = 0x546e644c;  // "TndL" in the SQLite header

  explicit Ledger(const std::string& path, LedgerOptions options = {});
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends one row (its own transaction) and returns its id; Record::id is ignored.
  // Throws tandem::Error when SQLite fails (disk full, read-only file, ...).
  int64_t insert(const Record& record);
  // Rows in time order (then id), oldest first.
  std::vector<Record> query(const Filter& filter = {}) const;
  int64_t count(const Filter& filter = {}) const;
  // Endpoint checks (the app filter does not apply): appended, and read in time order.
  int64_t insert_check(const EndpointCheck& check);
  std::vector<EndpointCheck> checks(const Filter& filter = {}) const;

  const std::string& path() const;
  const LedgerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::ledger
