// How the ledger's rows are stored: one column table per SQL table (name, SQL type, the Record
// member it holds, the schema version that added it). These tables alone give the CREATE TABLE,
// the ALTER TABLE of a later version, the INSERT and the SELECT, so the four cannot disagree.
// Internal to the ledger (ledger.cpp); docs/ledger.md lists the columns.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ledger/record.h"

namespace tandem::ledger::schema {

// A value to an SQL parameter and back, chosen by its C++ type. Lists and maps are JSON text;
// unreadable JSON reads as empty rather than failing the query.
void bind_value(sqlite3_stmt* s, int parameter, int64_t v);
void bind_value(sqlite3_stmt* s, int parameter, bool v);
void bind_value(sqlite3_stmt* s, int parameter, double v);
void bind_value(sqlite3_stmt* s, int parameter, const std::string& v);
void bind_value(sqlite3_stmt* s, int parameter, const std::vector<std::string>& v);
void bind_value(sqlite3_stmt* s, int parameter, const std::map<std::string, int>& v);
template <class T>
void bind_value(sqlite3_stmt* s, int parameter, const std::optional<T>& v) {
  if (v) bind_value(s, parameter, *v);
  else sqlite3_bind_null(s, parameter);
}

void read_value(sqlite3_stmt* s, int column, int64_t& v);
void read_value(sqlite3_stmt* s, int column, bool& v);
void read_value(sqlite3_stmt* s, int column, double& v);
void read_value(sqlite3_stmt* s, int column, std::string& v);
void read_value(sqlite3_stmt* s, int column, std::vector<std::string>& v);
void read_value(sqlite3_stmt* s, int column, std::map<std::string, int>& v);
template <class T>
void read_value(sqlite3_stmt* s, int column, std::optional<T>& v) {
  v.reset();
  if (sqlite3_column_type(s, column) != SQLITE_NULL) read_value(s, column, v.emplace());
}

// One column of a table of Rows.
template <class Row>
struct Column {
  const char* name;
  const char* sql_type;    // with its constraint: "INTEGER NOT NULL", "REAL" (NULL allowed), ...
  int since_version;       // 0: created with its table; else the schema version that added it
                           // (then nullable or with a DEFAULT, as ALTER TABLE ADD COLUMN needs)
  bool request_text;       // prompt or answer text: NULL unless LedgerOptions::store_text
  void (*bind)(sqlite3_stmt*, int parameter, const Row&);
  void (*read)(sqlite3_stmt*, int column, Row&);
};

template <class M>
struct MemberOf;
template <class R, class T>
struct MemberOf<T R::*> {
  using Row = R;
};

// The column that stores `Member`, e.g. column<&Record::app>("app", "TEXT NOT NULL").
template <auto Member>
constexpr Column<typename MemberOf<decltype(Member)>::Row> column(const char* name, const char* sql_type,
                                                                  int since_version = 0, bool request_text = false) {
  using Row = typename MemberOf<decltype(Member)>::Row;
  return {name, sql_type, since_version, request_text,
          [](sqlite3_stmt* s, int i, const Row& r) { bind_value(s, i, r.*Member); },
          [](sqlite3_stmt* s, int c, Row& r) { read_value(s, c, r.*Member); }};
}

// A table: every row also has `id INTEGER PRIMARY KEY AUTOINCREMENT` (Row::id), assigned on insert.
template <class Row>
struct Table {
  const char* name;
  int created_in;         // the schema version that created it
  std::span<const Column<Row>> columns;
  const char* indexes;    // CREATE INDEX statements, run with the CREATE TABLE
};

extern const Table<Record> kRequests;
extern const Table<EndpointCheck> kEndpointChecks;

// The SQL taking a ledger from schema version `to - 1` to `to`: the tables that version created
// and the columns it added.
std::string migration_sql(int to);

// "a, b, c": the columns in the order of the INSERT's parameters and the SELECT's results.
template <class Row>
std::string column_list(const Table<Row>& t) {
  std::string out;
  for (const auto& c : t.columns) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

template <class Row>
std::string insert_sql(const Table<Row>& t) {
  std::string marks;
  for (size_t i = 0; i < t.columns.size(); ++i) marks += i ? ",?" : "?";
  return "INSERT INTO " + std::string(t.name) + " (" + column_list(t) + ") VALUES (" + marks + ")";
}

// Whether a ledger of schema `version` has the column (its table's first version, or the one
// that added it).
template <class Row>
bool has_column(const Table<Row>& t, const Column<Row>& c, int version) {
  return (c.since_version == 0 ? t.created_in : c.since_version) <= version;
}

// "SELECT id, a, b, c FROM t": read_row reads its results. With an older `version` (a ledger
// read without migrating it), only the columns that version has.
template <class Row>
std::string select_sql(const Table<Row>& t, int version = 1 << 30) {
  std::string cols;
  for (const auto& c : t.columns)
    if (has_column(t, c, version)) cols += ", " + std::string(c.name);
  return "SELECT id" + cols + " FROM " + t.name;
}

template <class Row>
void bind_row(sqlite3_stmt* s, const Table<Row>& t, const Row& row, bool store_text) {
  int parameter = 0;
  for (const auto& c : t.columns) {
    ++parameter;
    if (c.request_text && !store_text) sqlite3_bind_null(s, parameter);
    else c.bind(s, parameter, row);
  }
}

// A row of select_sql(t, version)'s results; the columns that version lacks keep Row's defaults.
template <class Row>
Row read_row(sqlite3_stmt* s, const Table<Row>& t, int version = 1 << 30) {
  Row row;
  row.id = sqlite3_column_int64(s, 0);
  int column = 0;
  for (const auto& c : t.columns)
    if (has_column(t, c, version)) c.read(s, ++column, row);
  return row;
}

}  // namespace tandem::ledger::schema
