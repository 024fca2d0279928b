#include "ledger/ledger.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "format/error.h"

namespace tandem::ledger {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// migrations[v] takes a ledger from schema version v to v + 1 (version 0 is an empty file).
// A new version appends a step here (ALTER TABLE ... ADD COLUMN, new tables); steps never change.
const char* const kMigrations[] = {
    // 0 -> 1: the requests table. Maps and lists are JSON text; text columns stay NULL unless
    // the configuration keeps text (LedgerOptions::store_text).
    R"sql(
CREATE TABLE requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  app TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  route TEXT NOT NULL,
  reasons TEXT NOT NULL,            -- JSON array of strings
  served_by TEXT NOT NULL,
  status TEXT NOT NULL,
  failure TEXT NOT NULL,
  stream INTEGER NOT NULL,
  prompt_tokens_device INTEGER NOT NULL,
  completion_tokens_device INTEGER NOT NULL,
  prompt_tokens_cloud INTEGER NOT NULL,
  completion_tokens_cloud INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  all_cloud_cost_usd REAL NOT NULL,
  latency_ms REAL NOT NULL,
  ttft_ms REAL,                     -- NULL when no token was produced
  privacy_level TEXT NOT NULL,
  data_left_device INTEGER NOT NULL,
  pii_found TEXT NOT NULL,          -- JSON object: type -> count
  pii_redacted TEXT NOT NULL,       -- JSON object: type -> count
  spec_rounds INTEGER NOT NULL,
  spec_drafted INTEGER NOT NULL,
  spec_accepted INTEGER NOT NULL,
  prompt_text TEXT,                 -- NULL unless ledger.store_text
  answer_text TEXT                  -- NULL unless ledger.store_text
);
CREATE INDEX requests_by_time ON requests(time_ms);
CREATE INDEX requests_by_app_time ON requests(app, time_ms);
)sql",
    // 1 -> 2: endpoint checks (an endpoint's model against the device's: ok or de-synced).
    R"sql(
CREATE TABLE endpoint_checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  url TEXT NOT NULL,
  model TEXT NOT NULL,
  sync TEXT NOT NULL,               -- ok or de-synced
  fingerprint TEXT NOT NULL
);
CREATE INDEX endpoint_checks_by_time ON endpoint_checks(time_ms);
)sql",
};
constexpr int kMigrationCount = int(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kMigrationCount == Ledger::kSchemaVersion, "one migration step per schema version");

// The columns in the order of the INSERT's parameters and the SELECT's results (id first).
constexpr const char* kColumns =
    "time_ms, app, endpoint, route, reasons, served_by, status, failure, stream, "
    "prompt_tokens_device, completion_tokens_device, prompt_tokens_cloud, completion_tokens_cloud, "
    "prompt_tokens, completion_tokens, cost_usd, all_cloud_cost_usd, latency_ms, ttft_ms, "
    "privacy_level, data_left_device, pii_found, pii_redacted, spec_rounds, spec_drafted, spec_accepted, "
    "prompt_text, answer_text";
constexpr int kColumnCount = 28;

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

// Invalid UTF-8 (never expected from the gateway) becomes U+FFFD rather than failing the insert.
std::string to_json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::map<std::string, int> json_map(const unsigned char* text) {
  std::map<std::string, int> m;
  if (!text) return m;
  const json j = json::parse(reinterpret_cast<const char*>(text), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return m;
  for (const auto& [k, v] : j.items())
    if (v.is_number_integer()) m[k] = v.get<int>();
  return m;
}

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
      const int64_t version = scalar("PRAGMA user_version");
      if (version != kSchemaVersion)
        throw Error("ledger " + path + ": schema version " + std::to_string(version) + " is older than this tandem's " +
                    std::to_string(kSchemaVersion) + " and the file is open read-only (the gateway migrates it)");
      return;
    }

    // Migrate under a write lock, re-reading the version inside it: two processes opening a new
    // file at once must not both create the table.
    exec("BEGIN IMMEDIATE");
    try {
      const int64_t version = scalar("PRAGMA user_version");
      check_version(version);
      for (int64_t v = version; v < kSchemaVersion; ++v) exec(kMigrations[v]);
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

    const std::string sql = std::string("INSERT INTO requests (") + kColumns + ") VALUES (" +
                            [] {
                              std::string q;
                              for (int i = 0; i < kColumnCount; ++i) q += i ? ",?" : "?";
                              return q;
                            }() +
                            ")";
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
  int i = 0;
  const auto text = [&](const std::string& v) { sqlite3_bind_text(s, ++i, v.data(), int(v.size()), SQLITE_TRANSIENT); };
  const auto integer = [&](int64_t v) { sqlite3_bind_int64(s, ++i, v); };
  const auto real = [&](double v) { sqlite3_bind_double(s, ++i, v); };
  const auto opt_text = [&](const std::optional<std::string>& v) {
    if (v && m.options.store_text) text(*v);
    else sqlite3_bind_null(s, ++i);
  };
  integer(r.time_ms);
  text(r.app);
  text(r.endpoint);
  text(r.route);
  text(to_json_text(r.reasons));
  text(r.served_by);
  text(r.status);
  text(r.failure);
  integer(r.stream);
  integer(r.prompt_tokens_device);
  integer(r.completion_tokens_device);
  integer(r.prompt_tokens_cloud);
  integer(r.completion_tokens_cloud);
  integer(r.prompt_tokens);
  integer(r.completion_tokens);
  real(r.cost_usd);
  real(r.all_cloud_cost_usd);
  real(r.latency_ms);
  if (r.ttft_ms) real(*r.ttft_ms);
  else sqlite3_bind_null(s, ++i);
  text(r.privacy_level);
  integer(r.data_left_device);
  text(to_json_text(r.pii_found));
  text(to_json_text(r.pii_redacted));
  integer(r.spec_rounds);
  integer(r.spec_drafted);
  integer(r.spec_accepted);
  opt_text(r.prompt_text);
  opt_text(r.answer_text);
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

std::string column_text(sqlite3_stmt* s, int c) {
  const auto* p = sqlite3_column_text(s, c);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(s, c))) : std::string();
}

}  // namespace

std::vector<Record> Ledger::query(const Filter& filter) const {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  const std::string sql =
      std::string("SELECT id, ") + kColumns + " FROM requests" + where_clause(filter) + " ORDER BY time_ms, id";
  Stmt st;
  if (sqlite3_prepare_v2(m.db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) m.fail("cannot query");
  bind_filter(st.s, filter);
  std::vector<Record> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    sqlite3_stmt* s = st.s;
    int c = 0;
    const auto integer = [&] { return sqlite3_column_int64(s, c++); };
    const auto real = [&] { return sqlite3_column_double(s, c++); };
    const auto text = [&] { return column_text(s, c++); };
    const auto opt_text = [&]() -> std::optional<std::string> {
      if (sqlite3_column_type(s, c) == SQLITE_NULL) return ++c, std::nullopt;
      return text();
    };
    Record r;
    r.id = integer();
    r.time_ms = integer();
    r.app = text();
    r.endpoint = text();
    r.route = text();
    {
      const json reasons = json::parse(text(), nullptr, false);
      if (reasons.is_array())
        for (const auto& v : reasons)
          if (v.is_string()) r.reasons.push_back(v.get<std::string>());
    }
    r.served_by = text();
    r.status = text();
    r.failure = text();
    r.stream = integer() != 0;
    r.prompt_tokens_device = integer();
    r.completion_tokens_device = integer();
    r.prompt_tokens_cloud = integer();
    r.completion_tokens_cloud = integer();
    r.prompt_tokens = integer();
    r.completion_tokens = integer();
    r.cost_usd = real();
    r.all_cloud_cost_usd = real();
    r.latency_ms = real();
    if (sqlite3_column_type(s, c) == SQLITE_NULL) ++c;
    else r.ttft_ms = real();
    r.privacy_level = text();
    r.data_left_device = integer() != 0;
    r.pii_found = json_map(sqlite3_column_text(s, c++));
    r.pii_redacted = json_map(sqlite3_column_text(s, c++));
    r.spec_rounds = integer();
    r.spec_drafted = integer();
    r.spec_accepted = integer();
    r.prompt_text = opt_text();
    r.answer_text = opt_text();
    out.push_back(std::move(r));
  }
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
  if (sqlite3_prepare_v2(m.db,
                         "INSERT INTO endpoint_checks (time_ms, endpoint, url, model, sync, fingerprint) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         -1, &st.s, nullptr) != SQLITE_OK)
    m.fail("cannot insert an endpoint check");
  int i = 0;
  sqlite3_bind_int64(st.s, ++i, c.time_ms);
  for (const std::string* v : {&c.endpoint, &c.url, &c.model, &c.sync, &c.fingerprint})
    sqlite3_bind_text(st.s, ++i, v->data(), int(v->size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) m.fail("cannot insert an endpoint check");
  return sqlite3_last_insert_rowid(m.db);
}

std::vector<EndpointCheck> Ledger::checks(const Filter& filter) const {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  std::string sql = "SELECT id, time_ms, endpoint, url, model, sync, fingerprint FROM endpoint_checks WHERE 1";
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
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    EndpointCheck c;
    c.id = sqlite3_column_int64(st.s, 0);
    c.time_ms = sqlite3_column_int64(st.s, 1);
    c.endpoint = column_text(st.s, 2);
    c.url = column_text(st.s, 3);
    c.model = column_text(st.s, 4);
    c.sync = column_text(st.s, 5);
    c.fingerprint = column_text(st.s, 6);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) m.fail("cannot query endpoint checks");
  return out;
}

}  // namespace tandem::ledger
