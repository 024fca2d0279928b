// The SQLite ledger: rows read back equal (unicode included), concurrent inserts from several
// threads and connections, refusal of files that are not tandem ledgers or are newer (left
// untouched), and that no text is stored unless store_text asks for it.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "format/error.h"
#include "ledger/ledger.h"
#include "test_util.h"

namespace fs = std::filesystem;
using tandem::ledger::Filter;
using tandem::ledger::Ledger;
using tandem::ledger::LedgerOptions;
using tandem::ledger::Record;

namespace {

// A fresh folder per test, removed at the end.
struct TempDir {
  fs::path dir;
  explicit TempDir(const std::string& name) : dir(tandem::test::temp_path("ledger-" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

Record full_record(int i) {
  Record r;
  r.time_ms = 1793491200000 + i * 1000;
  r.app = i % 2 ? "Приложение 📒 notes" : "mail";
  r.endpoint = "gpt-mini";
  r.route = i % 3 == 0 ? "LOCAL" : "CLOUD";
  r.reasons = {"privacy: e-mail found → redacted", "débit élevé", "隐私"};
  r.served_by = i % 3 == 0 ? "device" : "cloud-a";
  r.status = i % 5 == 4 ? "fallback" : "ok";
  r.failure = i % 5 == 4 ? "timeout" : "";
  r.stream = i % 2 == 0;
  r.prompt_tokens_device = 10 + i, r.completion_tokens_device = 20 + i;
  r.prompt_tokens_cloud = 30 + i, r.completion_tokens_cloud = 40 + i;
  r.prompt_tokens = 40 + i, r.completion_tokens = 60 + i;
  r.cost_usd = 0.000123 * (i + 1);
  r.all_cloud_cost_usd = 0.000456 * (i + 1);
  r.latency_ms = 123.25 + i;
  if (i % 4 != 3) r.ttft_ms = 12.5 + i;
  r.privacy_level = "standard";
  r.data_left_device = i % 3 != 0;
  r.pii_found = {{"EMAIL", 2}, {"PHONE", 1}};
  r.pii_redacted = {{"EMAIL", 2}};
  r.spec_rounds = i, r.spec_drafted = 5 * i, r.spec_accepted = 3 * i;
  r.output_constraint = i % 3 == 1 ? "json_schema" : i % 3 == 2 ? "grammar" : "";
  return r;
}

std::vector<uint8_t> bytes_of(const std::string& path) { return tandem::test::read_file(path); }

int64_t sql_scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
  const int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

void sql_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// Opening `path` throws a tandem::Error containing `expected`, and the file keeps its bytes.
void expect_refused_untouched(const std::string& path, const std::string& expected) {
  const auto before = bytes_of(path);
  try {
    Ledger l(path);
    ADD_FAILURE() << "opened " << path;
  } catch (const tandem::Error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "the message names the file: " << e.what();
  }
  EXPECT_EQ(bytes_of(path), before) << "the refused file was modified";
}

}  // namespace

TEST(Ledger, RoundTripEveryFieldAcrossReopen) {
  TempDir t("roundtrip");
  const std::string path = t.file("sub/dir/ledger.sqlite");  // the folder is created
  std::vector<Record> written;
  {
    LedgerOptions o;
    o.store_text = true;
    Ledger l(path, o);
    for (int i = 0; i < 12; ++i) {
      Record r = full_record(i);
      if (i == 5) r.prompt_text = "Grüß dich, 世界 — \"quoted\"\n", r.answer_text = "";
      r.id = l.insert(r);
      EXPECT_GT(r.id, 0);
      written.push_back(r);
    }
  }
  Ledger l(path, {.create = false});
  const auto read = l.query();
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < read.size(); ++i) EXPECT_EQ(read[i], written[i]) << "row " << i;
  EXPECT_FALSE(read[3].ttft_ms.has_value());
  EXPECT_EQ(read[5].answer_text, std::optional<std::string>(""));  // empty, not NULL
  EXPECT_EQ(l.count(), 12);
  EXPECT_EQ(sql_scalar(path, "PRAGMA user_version"), Ledger::kSchemaVersion);
  EXPECT_EQ(sql_scalar(path, "PRAGMA application_id"), Ledger::kApplicationId);
}

TEST(Ledger, InvalidUtf8InReasonsIsReplacedNotFatal) {
  TempDir t("utf8");
  Ledger l(t.file("l.sqlite"));
  Record r = full_record(0);
  r.reasons = {std::string("bad \xff byte")};
  r.pii_found = {{std::string("T\xfe"), 1}};
  l.insert(r);
  const auto rows = l.query();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reasons, std::vector<std::string>{"bad \xEF\xBF\xBD byte"});
  EXPECT_EQ(rows[0].pii_found.at("T\xEF\xBF\xBD"), 1);
}

TEST(Ledger, FiltersByTimeAndApp) {
  TempDir t("filter");
  Ledger l(t.file("l.sqlite"));
  for (int i = 0; i < 10; ++i) l.insert(full_record(i));  // times T0 + i s, odd i = unicode app
  const int64_t t0 = 1793491200000;
  EXPECT_EQ(l.count({.since_ms = t0 + 3000}), 7);
  EXPECT_EQ(l.count({.until_ms = t0 + 3000}), 3);  // until is exclusive
  EXPECT_EQ(l.count({.since_ms = t0 + 2000, .until_ms = t0 + 6000}), 4);
  const auto notes = l.query({.app = "Приложение 📒 notes"});
  ASSERT_EQ(notes.size(), 5u);
  for (const auto& r : notes) EXPECT_EQ(r.time_ms % 2000, 1000);
  EXPECT_EQ(l.count({.app = "nobody"}), 0);
  const auto range = l.query({.since_ms = t0 + 8000});
  ASSERT_EQ(range.size(), 2u);
  EXPECT_LT(range[0].time_ms, range[1].time_ms);
}

TEST(Ledger, ConcurrentInsertsFromThreadsAndConnections) {
  TempDir t("threads");
  const std::string path = t.file("l.sqlite");
  Ledger shared(path);
  constexpr int kThreads = 6, kEach = 60;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < kEach; ++i) {
        Record r = full_record(i);
        r.endpoint = "thread-" + std::to_string(k);
        ids[k].push_back(shared.insert(r));
      }
    });
  // A second connection (another process, e.g. the gateway beside a report) writes and reads too.
  std::thread other([&] {
    Ledger second(path);
    for (int i = 0; i < kEach; ++i) second.insert(full_record(i));
    while (!done) {
      const int64_t n = second.count();
      EXPECT_LE(n, (kThreads + 1) * kEach);
      if (n == (kThreads + 1) * kEach) break;
    }
  });
  std::thread reader([&] {
    while (!done) EXPECT_LE(shared.query({.app = "mail"}).size(), size_t((kThreads + 1) * kEach));
  });
  for (auto& th : threads) th.join();
  done = true;
  other.join();
  reader.join();

  std::set<int64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t(kThreads * kEach)) << "ids are unique";
  EXPECT_EQ(shared.count(), (kThreads + 1) * kEach);
  for (int k = 0; k < kThreads; ++k) {
    int found = 0;
    for (const auto& r : shared.query())
      if (r.endpoint == "thread-" + std::to_string(k)) {
        Record expect = full_record(found);  // each thread's rows keep their order
        expect.endpoint = r.endpoint;
        expect.id = r.id;
        EXPECT_EQ(r, expect);
        ++found;
      }
    EXPECT_EQ(found, kEach);
  }
}

TEST(Ledger, RefusesNewerSchemaAndLeavesFileUntouched) {
  TempDir t("newer");
  const std::string path = t.file("l.sqlite");
  { Ledger(path).insert(full_record(1)); }
  sql_exec(path, "PRAGMA journal_mode = DELETE; PRAGMA user_version = " + std::to_string(Ledger::kSchemaVersion + 1));
  expect_refused_untouched(path, "newer tandem");
  EXPECT_EQ(sql_scalar(path, "SELECT count(*) FROM requests"), 1);
}

TEST(Ledger, RefusesRandomBytesTextAndForeignDatabases) {
  TempDir t("foreign");
  const std::string random = t.file("random.sqlite"), text = t.file("notes.txt"), foreign = t.file("other.db");
  std::vector<uint8_t> noise(8192);
  uint32_t x = 12345;
  for (auto& b : noise) b = uint8_t((x = x * 1664525 + 1013904223) >> 24);
  tandem::test::write_file(random, noise);
  const std::string words = "this is not a database, just some text\n";
  tandem::test::write_file(text, std::vector<uint8_t>(words.begin(), words.end()));
  sql_exec(foreign, "PRAGMA journal_mode = DELETE; CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x')");
  expect_refused_untouched(random, "not a SQLite database");
  expect_refused_untouched(text, "not a SQLite database");
  expect_refused_untouched(foreign, "not a tandem ledger");
  // A corrupted ledger: its header's magic overwritten.
  const std::string corrupt = t.file("corrupt.sqlite");
  { Ledger(corrupt).insert(full_record(0)); }
  auto b = bytes_of(corrupt);
  ASSERT_GT(b.size(), 100u);
  for (int i = 0; i < 16; ++i) b[size_t(i)] = 'X';
  tandem::test::write_file(corrupt, b);
  expect_refused_untouched(corrupt, "not a SQLite database");
}

TEST(Ledger, MigratesEmptyFilesAndRefusesMissingWhenNotCreating) {
  TempDir t("migrate");
  const std::string empty = t.file("empty.sqlite"), blank_db = t.file("blank.sqlite"), missing = t.file("none.sqlite");
  tandem::test::write_file(empty, {});
  { Ledger(empty).insert(full_record(0)); }
  EXPECT_EQ(sql_scalar(empty, "PRAGMA user_version"), Ledger::kSchemaVersion);
  sql_exec(blank_db, "PRAGMA user_version = 0");  // a SQLite file with no schema: version 0
  { Ledger(blank_db).insert(full_record(0)); }
  EXPECT_EQ(sql_scalar(blank_db, "SELECT count(*) FROM requests"), 1);
  try {
    Ledger l(missing, {.create = false});
    ADD_FAILURE();
  } catch (const tandem::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(missing));
}

// Endpoint checks (schema 2) round-trip and filter by time; a schema-1 ledger (requests only) is
// migrated with its rows kept, and a read-only reader reads it as it is (no checks) until then.
TEST(Ledger, EndpointChecksAndTheMigrationFromSchema1) {
  TempDir t("checks");
  const std::string path = t.file("l.sqlite");
  {
    Ledger l(path);
    l.insert(full_record(0));
    l.insert_check({.time_ms = 1000, .endpoint = "a", .url = "http://a", .model = "m", .sync = "ok", .fingerprint = "f1"});
    l.insert_check({.time_ms = 3000, .endpoint = "b", .url = "http://b", .model = "n", .sync = "de-synced", .fingerprint = "f2"});
  }
  {
    Ledger l(path, {.read_only = true});
    const auto all = l.checks();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].endpoint, "a");
    EXPECT_EQ(all[1].sync, "de-synced");
    EXPECT_EQ(all[1].fingerprint, "f2");
    EXPECT_GT(all[1].id, all[0].id);
    EXPECT_EQ(l.checks({.since_ms = 2000}).size(), 1u);
    EXPECT_EQ(l.checks({.until_ms = 2000}).size(), 1u);
    EXPECT_THROW(l.insert_check({}), tandem::Error);
  }
  // Back to schema 1, as an older tandem left it.
  sql_exec(path, "DROP TABLE endpoint_checks; ALTER TABLE requests DROP COLUMN output_constraint; PRAGMA user_version = 1");
  {
    const auto before = bytes_of(path);
    Ledger old(path, {.read_only = true});
    EXPECT_EQ(old.query().size(), 1u);
    EXPECT_TRUE(old.checks().empty());
    EXPECT_EQ(bytes_of(path), before);
  }
  {
    Ledger l(path);
    EXPECT_EQ(sql_scalar(path, "PRAGMA user_version"), Ledger::kSchemaVersion);
    EXPECT_EQ(l.count(), 1);
    EXPECT_TRUE(l.checks().empty());
    l.insert_check({.time_ms = 5, .endpoint = "c", .url = "http://c", .model = "m", .sync = "ok", .fingerprint = "f"});
    EXPECT_EQ(l.checks().size(), 1u);
  }
}

// Schema 3 added the output's constraint: a ledger of schema 2 (rows without it) reads as it is
// (tandem report does not migrate: its rows are unconstrained, the file unchanged), is migrated
// by the writer that opens it, and new rows keep their kind.
TEST(Ledger, OutputConstraintColumnMigratesFromSchema2) {
  TempDir t("constraint");
  const std::string path = t.file("l.sqlite");
  { Ledger(path).insert(full_record(1)); }
  // As a tandem of schema 2 left it.
  sql_exec(path, "ALTER TABLE requests DROP COLUMN output_constraint; PRAGMA user_version = 2");
  {
    const auto before = bytes_of(path);
    Ledger old(path, {.read_only = true});
    const auto rows = old.query();
    ASSERT_EQ(rows.size(), 1u);
    Record expect = full_record(1);
    expect.output_constraint = "";
    expect.id = rows[0].id;
    EXPECT_EQ(rows[0], expect);
    EXPECT_EQ(bytes_of(path), before);
    EXPECT_EQ(sql_scalar(path, "PRAGMA user_version"), 2);
  }
  {
    Ledger l(path);
    EXPECT_EQ(sql_scalar(path, "PRAGMA user_version"), 3);
    Record r = full_record(1);
    ASSERT_EQ(r.output_constraint, "json_schema");
    l.insert(r);
  }
  Ledger l(path, {.read_only = true});
  const auto rows = l.query();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].output_constraint, "");
  EXPECT_EQ(rows[0].app, full_record(1).app);
  EXPECT_EQ(rows[1].output_constraint, "json_schema");
}

TEST(Ledger, ReadOnlyNeverWrites) {
  TempDir t("readonly");
  const std::string path = t.file("l.sqlite"), empty = t.file("empty.sqlite");
  { Ledger(path).insert(full_record(0)); }
  const auto before = bytes_of(path);
  {
    Ledger l(path, {.read_only = true});
    EXPECT_EQ(l.query().size(), 1u);
    EXPECT_THROW(l.insert(full_record(1)), tandem::Error);
  }
  EXPECT_EQ(bytes_of(path), before);
  tandem::test::write_file(empty, {});
  try {
    Ledger l(empty, {.read_only = true});
    ADD_FAILURE();
  } catch (const tandem::Error& e) {
    EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(bytes_of(empty).empty());
  EXPECT_THROW(Ledger(t.file("missing.sqlite"), {.read_only = true}), tandem::Error);
  EXPECT_FALSE(fs::exists(t.file("missing.sqlite")));
}

TEST(Ledger, StoresNoTextUnlessAsked) {
  TempDir t("privacy");
  const std::string secret_prompt = "SECRET-PROMPT-4111111111111111", secret_answer = "SECRET-ANSWER-jane@example.com";
  const auto contains = [](const std::string& path, const std::string& needle) {
    const auto b = tandem::test::read_file(path);
    return std::search(b.begin(), b.end(), needle.begin(), needle.end()) != b.end();
  };
  for (const bool store : {false, true}) {
    const std::string path = t.file(store ? "with.sqlite" : "without.sqlite");
    {
      LedgerOptions o;
      o.store_text = store;
      Ledger l(path, o);
      for (int i = 0; i < 3; ++i) {
        Record r = full_record(i);
        r.prompt_text = secret_prompt;
        r.answer_text = secret_answer;
        l.insert(r);
      }
      const auto rows = l.query();
      ASSERT_EQ(rows.size(), 3u);
      EXPECT_EQ(rows[0].prompt_text.has_value(), store);
      EXPECT_EQ(rows[0].answer_text.has_value(), store);
    }
    EXPECT_EQ(sql_scalar(path, "SELECT count(*) FROM requests WHERE prompt_text IS NOT NULL OR answer_text IS NOT NULL"),
              store ? 3 : 0);
    // Nothing on disk (the file and any WAL left beside it) holds the text unless asked.
    EXPECT_EQ(contains(path, secret_prompt) || contains(path + "-wal", secret_prompt), store);
    EXPECT_EQ(contains(path, secret_answer) || contains(path + "-wal", secret_answer), store);
  }
}

TEST(Ledger, DefaultPathFollowsXdg) {
  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "", saved_home = old_home ? old_home : "";
  ::setenv("XDG_DATA_HOME", "/data/x", 1);
  EXPECT_EQ(tandem::ledger::default_path(), "/data/x/tandem/ledger.sqlite");
  ::setenv("XDG_DATA_HOME", "relative/ignored", 1);  // the spec says relative values are ignored
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(tandem::ledger::default_path(), "/home/u/.local/share/tandem/ledger.sqlite");
  ::unsetenv("XDG_DATA_HOME");
  ::unsetenv("HOME");
  EXPECT_THROW(tandem::ledger::default_path(), tandem::Error);
  if (old_xdg) ::setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}
