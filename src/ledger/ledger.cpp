#include "ledger/ledger.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "format/error.h"
#include "ledger/schema.h"

namespace tandem::ledger {
namespace {

namespace fs = std::filesystem;

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

std::string default_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg && fs::path(xdg).is_absolute()) return (fs::path(xdg) / "tandem" / "ledger.sqlite").string();
  const char* home = std::getenv("HOME");
  if (home && *home) return (fs::path(home) / ".local" / "share" / "tandem" / "ledger.sqlite").string();
  throw Error("no default ledger path: neither XDG_DATA_HOME nor HOME is set (pass the ledger's path)");
}

struct Ledger::Impl {
  std::string path;
  LedgerOptions options;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  int version = Ledger::kSchemaVersion;  // the file's schema (older only when read without migrating)
  mutable std::mutex mu;  // one connection, its prepared statements used by one thread at a time

  ~Impl() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("ledger " + path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "cannot open"));
  }
  void exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "?";
      sqlite3_free(msg);
      throw Error("ledger " + path + ": " + m);
    }
  }
  int64_t scalar(const char* sql) {
    Stmt st;
    if (sqlite3_prepare_v2(db, sql, -1, &st.s, nullptr) != SQLITE_OK) fail(describe_unreadable());
    const int rc = sqlite3_step(st.s);
    if (rc != SQLITE_ROW) fail(describe_unreadable());
    return sqlite3_column_int64(st.s, 0);
  }
  std::string describe_unreadable() const {
    const int code = db ? sqlite3_errcode(db) : SQLITE_CANTOPEN;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
      return "not a SQLite database or corrupt (refusing to touch it; move it away or pass another --db)";
    return "cannot read";
  }

  void open() {
    if (options.read_only) options.create = false;
    const bool exists = fs::exists(path);
    if (!exists && !options.create) throw Error("ledger " + path + ": no such file");
    if (!exists) {
      const fs::path dir = fs::path(path).parent_path();
      std::error_code ec;
      if (!dir.empty()) fs::create_directories(dir, ec);
      if (ec) throw Error("ledger " + path + ": cannot create its folder: " + ec.message());
    }
    const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                      (options.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) fail("cannot open");
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    sqlite3_extended_result_codes(db, 0);

    // Identify the file before anything could write to it: reading the header of a file that is
    // not SQLite fails here (SQLITE_NOTADB) without changing a byte.
    const int64_t app_id = scalar("PRAGMA application_id");
    const int64_t tables = scalar("SELECT count(*) FROM sqlite_master");
    if (app_id != kApplicationId && (app_id != 0 || tables != 0))
      throw Error("ledger " + path + ": a SQLite database but not a tandem ledger (application_id " +
                  std::to_string(app_id) + ", " + std::to_string(tables) +
                  " schema objects); refusing to touch it");
    check_version(scalar("PRAGMA user_version"));
    if (options.read_only) {
      // An older schema is read as it is (the columns it lacks read as their defaults); only a
      // writer (the gateway) migrates it. Version 0 is a file no tandem has written to.
      version = int(scalar("PRAGMA user_version"));
      if (version == 0)
        throw Error("ledger " + path + ": an empty database, not yet a ledger, and the file is open read-only");
      return;
    }

    // Migrate under a write lock, re-reading the version inside it: two processes opening a new
    // file at once must not both create the table.
    exec("BEGIN IMMEDIATE");
    try {
      const int64_t version = scalar("PRAGMA user_version");
      check_version(version);
      for (int64_t v = version; v < kSchemaVersion; ++v) exec(schema::migration_sql(int(v + 1)).c_str());
      if (version < kSchemaVersion) {
        exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
        exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
      }
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    // WAL: readers (tandem report) never block the gateway's writers. NORMAL sync is durable
    // against a crash of the process; a power cut may lose the last few rows.
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = NORMAL");

    const std::string sql = schema::insert_sql(schema::kRequests);
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr) != SQLITE_OK)
      fail("cannot prepare the insert");
  }

  void check_version(int64_t version) const {
    if (version > kSchemaVersion)
      throw Error("ledger " + path + ": schema version " + std::to_string(version) +
                  " was written by a newer tandem (this one reads up to version " +
                  std::to_string(kSchemaVersion) + "); refusing to touch it");
    if (version < 0) throw Error("ledger " + path + ": invalid schema version " + std::to_string(version));
  }
};

Ledger::Ledger(const std::string& path, LedgerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = options;
  impl_->open();
}

Ledger::~Ledger() = default;

const std::string& Ledger::path() const { return impl_->path; }
const LedgerOptions& Ledger::options() const { return impl_->options; }

int64_t Ledger::insert(const Record& r) {
  Impl& m = *impl_;
  if (m.options.read_only) throw Error("ledger " + m.path + ": opened read-only, cannot insert");
  std::lock_guard lock(m.mu);
  sqlite3_stmt* s = m.insert;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  schema::bind_row(s, schema::kRequests, r, m.options.store_text);
  if (sqlite3_step(s) != SQLITE_DONE) {
    const std::string msg = sqlite3_errmsg(m.db);
    sqlite3_reset(s);
    throw Error("ledger " + m.path + ": cannot insert: " + msg);
  }
  const int64_t id = sqlite3_last_insert_rowid(m.db);
  sqlite3_reset(s);
  return id;
}

namespace {

// " WHERE ..." for a filter, and binds its values in the same order.
std::string where_clause(const Filter& f) {
  std::string w;
  const auto add = [&](const char* cond) { w += (w.empty() ? " WHERE " : " AND ") + std::string(cond); };
  if (f.since_ms) add("time_ms >= ?");
  if (f.until_ms) add("time_ms < ?");
  if (f.app) add("app = ?");
  return w;
}

void bind_filter(sqlite3_stmt* s, const Filter& f) {
  int i = 0;
  if (f.since_ms) sqlite3_bind_int64(s, ++i, *f.since_ms);
  if (f.until_ms) sqlite3_bind_int64(s, ++i, *f.until_ms);
  if (f.app) sqlite3_bind_text(s, ++i, f.app->data(), int(f.app->size()), SQLITE_TRANSIENT);
}

}  // namespace

std::vector<Record> Ledger::query(const Filter& filter) const {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  const std::string sql =
      schema::select_sql(schema::kRequests, m.version) + where_clause(filter) + " ORDER BY time_ms, id";
  Stmt st;
  if (sqlite3_prepare_v2(m.db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) m.fail("cannot query");
  bind_filter(st.s, filter);
  std::vector<Record> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(schema::read_row(st.s, schema::kRequests, m.version));
  if (rc != SQLITE_DONE) m.fail("cannot read rows");
  return out;
}

int64_t Ledger::count(const Filter& filter) const {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  const std::string sql = "SELECT count(*) FROM requests" + where_clause(filter);
  Stmt st;
  if (sqlite3_prepare_v2(m.db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) m.fail("cannot count");
  bind_filter(st.s, filter);
  if (sqlite3_step(st.s) != SQLITE_ROW) m.fail("cannot count");
  return sqlite3_column_int64(st.s, 0);
}

int64_t Ledger::insert_check(const EndpointCheck& c) {
  Impl& m = *impl_;
  if (m.options.read_only) throw Error("ledger " + m.path + ": opened read-only, cannot insert");
  std::lock_guard lock(m.mu);
  Stmt st;
  if (sqlite3_prepare_v2(m.db, schema::insert_sql(schema::kEndpointChecks).c_str(), -1, &st.s, nullptr) != SQLITE_OK)
    m.fail("cannot insert an endpoint check");
  schema::bind_row(st.s, schema::kEndpointChecks, c, false);
  if (sqlite3_step(st.s) != SQLITE_DONE) m.fail("cannot insert an endpoint check");
  return sqlite3_last_insert_rowid(m.db);
}

std::vector<EndpointCheck> Ledger::checks(const Filter& filter) const {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (schema::kEndpointChecks.created_in > m.version) return {};  // an older ledger without the table
  std::string sql = schema::select_sql(schema::kEndpointChecks) + " WHERE 1";
  if (filter.since_ms) sql += " AND time_ms >= ?";
  if (filter.until_ms) sql += " AND time_ms < ?";
  sql += " ORDER BY time_ms, id";
  Stmt st;
  if (sqlite3_prepare_v2(m.db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) m.fail("cannot query endpoint checks");
  int i = 0;
  if (filter.since_ms) sqlite3_bind_int64(st.s, ++i, *filter.since_ms);
  if (filter.until_ms) sqlite3_bind_int64(st.s, ++i, *filter.until_ms);
  std::vector<EndpointCheck> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(schema::read_row(st.s, schema::kEndpointChecks));
  if (rc != SQLITE_DONE) m.fail("cannot query endpoint checks");
  return out;
}

}  // namespace tandem::ledger
