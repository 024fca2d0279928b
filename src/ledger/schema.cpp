#include "ledger/schema.h"

#include <nlohmann/json.hpp>

namespace tandem::ledger::schema {

using nlohmann::json;

namespace {

// Invalid UTF-8 (never expected from the gateway) becomes U+FFFD rather than failing the insert.
std::string to_json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string column_text(sqlite3_stmt* s, int c) {
  const auto* p = sqlite3_column_text(s, c);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(s, c))) : std::string();
}

json column_json(sqlite3_stmt* s, int c) { return json::parse(column_text(s, c), nullptr, /*allow_exceptions=*/false); }

// The requests table (schema 1): one row per request the gateway handled. Maps and lists are JSON
// text; the text columns stay NULL unless the configuration keeps text.
constexpr Column<Record> kRequestColumns[] = {
    column<&Record::time_ms>("time_ms", "INTEGER NOT NULL"),
    column<&Record::app>("app", "TEXT NOT NULL"),
    column<&Record::endpoint>("endpoint", "TEXT NOT NULL"),
    column<&Record::route>("route", "TEXT NOT NULL"),
    column<&Record::reasons>("reasons", "TEXT NOT NULL"),  // JSON array of strings
    column<&Record::served_by>("served_by", "TEXT NOT NULL"),
    column<&Record::status>("status", "TEXT NOT NULL"),
    column<&Record::failure>("failure", "TEXT NOT NULL"),
    column<&Record::stream>("stream", "INTEGER NOT NULL"),
    column<&Record::prompt_tokens_device>("prompt_tokens_device", "INTEGER NOT NULL"),
    column<&Record::completion_tokens_device>("completion_tokens_device", "INTEGER NOT NULL"),
    column<&Record::prompt_tokens_cloud>("prompt_tokens_cloud", "INTEGER NOT NULL"),
    column<&Record::completion_tokens_cloud>("completion_tokens_cloud", "INTEGER NOT NULL"),
    column<&Record::prompt_tokens>("prompt_tokens", "INTEGER NOT NULL"),
    column<&Record::completion_tokens>("completion_tokens", "INTEGER NOT NULL"),
    column<&Record::cost_usd>("cost_usd", "REAL NOT NULL"),
    column<&Record::all_cloud_cost_usd>("all_cloud_cost_usd", "REAL NOT NULL"),
    column<&Record::latency_ms>("latency_ms", "REAL NOT NULL"),
    column<&Record::ttft_ms>("ttft_ms", "REAL"),  // NULL when no token was produced
    column<&Record::privacy_level>("privacy_level", "TEXT NOT NULL"),
    column<&Record::data_left_device>("data_left_device", "INTEGER NOT NULL"),
    column<&Record::pii_found>("pii_found", "TEXT NOT NULL"),        // JSON object: type -> count
    column<&Record::pii_redacted>("pii_redacted", "TEXT NOT NULL"),  // JSON object: type -> count
    column<&Record::spec_rounds>("spec_rounds", "INTEGER NOT NULL"),
    column<&Record::spec_drafted>("spec_drafted", "INTEGER NOT NULL"),
    column<&Record::spec_accepted>("spec_accepted", "INTEGER NOT NULL"),
    column<&Record::prompt_text>("prompt_text", "TEXT", 0, /*request_text=*/true),
    column<&Record::answer_text>("answer_text", "TEXT", 0, /*request_text=*/true),
    // Schema 3: the output's constraint kind ("" in rows written before it).
    column<&Record::output_constraint>("output_constraint", "TEXT NOT NULL DEFAULT ''", 3),
};

// The endpoint checks (schema 2): an endpoint's model against the device's, ok or de-synced.
constexpr Column<EndpointCheck> kEndpointCheckColumns[] = {
    column<&EndpointCheck::time_ms>("time_ms", "INTEGER NOT NULL"),
    column<&EndpointCheck::endpoint>("endpoint", "TEXT NOT NULL"),
    column<&EndpointCheck::url>("url", "TEXT NOT NULL"),
    column<&EndpointCheck::model>("model", "TEXT NOT NULL"),
    column<&EndpointCheck::sync>("sync", "TEXT NOT NULL"),  // ok or de-synced
    column<&EndpointCheck::fingerprint>("fingerprint", "TEXT NOT NULL"),
};

template <class Row>
std::string migration_sql(const Table<Row>& t, int to) {
  std::string sql;
  if (to == t.created_in) {
    sql = "CREATE TABLE " + std::string(t.name) + " (\n  id INTEGER PRIMARY KEY AUTOINCREMENT";
    for (const auto& c : t.columns)
      if (c.since_version == 0) sql += ",\n  " + std::string(c.name) + " " + c.sql_type;
    return sql + "\n);\n" + t.indexes;
  }
  if (to > t.created_in)
    for (const auto& c : t.columns)
      if (c.since_version == to)
        sql += "ALTER TABLE " + std::string(t.name) + " ADD COLUMN " + c.name + " " + c.sql_type + ";\n";
  return sql;
}

}  // namespace

const Table<Record> kRequests = {
    "requests", 1, kRequestColumns,
    "CREATE INDEX requests_by_time ON requests(time_ms);\n"
    "CREATE INDEX requests_by_app_time ON requests(app, time_ms);\n"};

const Table<EndpointCheck> kEndpointChecks = {
    "endpoint_checks", 2, kEndpointCheckColumns,
    "CREATE INDEX endpoint_checks_by_time ON endpoint_checks(time_ms);\n"};

std::string migration_sql(int to) { return migration_sql(kRequests, to) + migration_sql(kEndpointChecks, to); }

void bind_value(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
void bind_value(sqlite3_stmt* s, int i, bool v) { sqlite3_bind_int64(s, i, v ? 1 : 0); }
void bind_value(sqlite3_stmt* s, int i, double v) { sqlite3_bind_double(s, i, v); }
void bind_value(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
}
void bind_value(sqlite3_stmt* s, int i, const std::vector<std::string>& v) { bind_value(s, i, to_json_text(v)); }
void bind_value(sqlite3_stmt* s, int i, const std::map<std::string, int>& v) { bind_value(s, i, to_json_text(v)); }

void read_value(sqlite3_stmt* s, int c, int64_t& v) { v = sqlite3_column_int64(s, c); }
void read_value(sqlite3_stmt* s, int c, bool& v) { v = sqlite3_column_int64(s, c) != 0; }
void read_value(sqlite3_stmt* s, int c, double& v) { v = sqlite3_column_double(s, c); }
void read_value(sqlite3_stmt* s, int c, std::string& v) { v = column_text(s, c); }

void read_value(sqlite3_stmt* s, int c, std::vector<std::string>& v) {
  v.clear();
  const json j = column_json(s, c);
  if (!j.is_array()) return;
  for (const auto& e : j)
    if (e.is_string()) v.push_back(e.get<std::string>());
}

void read_value(sqlite3_stmt* s, int c, std::map<std::string, int>& v) {
  v.clear();
  const json j = column_json(s, c);
  if (!j.is_object()) return;
  for (const auto& [k, e] : j.items())
    if (e.is_number_integer()) v[k] = e.get<int>();
}

}  // namespace tandem::ledger::schema
