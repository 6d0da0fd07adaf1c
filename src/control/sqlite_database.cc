// sqlite_database.cc — Database over the SQLite C API: prepared statements with bound
// parameters, WAL, synchronous=FULL, busy timeout, and result codes mapped to Status.
#include <sqlite3.h>

#include <cstdio>

#include "base/log.h"
#include "control/database.h"

namespace maas {
namespace {

Status from_sqlite(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  std::string msg = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (primary) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status(StatusCode::kAlreadyExists, msg);
      }
      return Status(StatusCode::kFailedPrecondition, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return Status(StatusCode::kUnavailable, msg);
    default:
      return Status(StatusCode::kInternal, msg);
  }
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  StatusOr<int64_t> exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    RETURN_IF_ERROR(prepare(sql, params, &stmt));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return from_sqlite(db_, sqlite3_extended_errcode(db_), "sql");
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  StatusOr<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    RETURN_IF_ERROR(prepare(sql, params, &stmt));
    std::vector<SqlRow> rows;
    int rc;
    const int n = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      SqlRow row;
      row.values.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) row.values.push_back(column(stmt, i));
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return from_sqlite(db_, sqlite3_extended_errcode(db_), "sql");
    return rows;
  }

  Status exec_script(std::string_view sql) override {
    char* err = nullptr;
    const std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (err != nullptr) sqlite3_free(err);
    if (rc != SQLITE_OK) return from_sqlite(db_, sqlite3_extended_errcode(db_), "script");
    return Status::Ok();
  }

  Status begin() override { return exec_script("BEGIN IMMEDIATE"); }
  Status commit() override {
    Status s = exec_script("COMMIT");
    if (!s.ok()) rollback();
    return s;
  }
  void rollback() override {
    if (sqlite3_get_autocommit(db_)) return;  // no transaction open (SQLite may have ended it)
    if (sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr) != SQLITE_OK) {
      LOG_ERROR("sqlite: rollback failed: %s", sqlite3_errmsg(db_));
    }
  }

 private:
  Status prepare(std::string_view sql, const std::vector<SqlValue>& params, sqlite3_stmt** out) {
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), out, nullptr);
    if (rc != SQLITE_OK) return from_sqlite(db_, rc, "prepare");
    for (size_t i = 0; i < params.size(); ++i) {
      const int k = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      if (std::holds_alternative<int64_t>(v)) rc = sqlite3_bind_int64(*out, k, std::get<int64_t>(v));
      else if (std::holds_alternative<double>(v)) rc = sqlite3_bind_double(*out, k, std::get<double>(v));
      else if (std::holds_alternative<std::string>(v)) {
        const std::string& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(*out, k, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(*out, k);
      }
      if (rc != SQLITE_OK) {
        sqlite3_finalize(*out);
        return from_sqlite(db_, rc, "bind");
      }
    }
    return Status::Ok();
  }

  static SqlValue column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
      case SQLITE_NULL: return std::monostate{};
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(p != nullptr ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
      }
    }
  }

  sqlite3* db_;
};

StatusOr<std::string> pragma_text(Database& db, const char* sql) {
  ASSIGN_OR_RETURN(auto rows, db.query(sql));
  if (rows.empty()) return Status(StatusCode::kInternal, std::string("no answer to ") + sql);
  return rows[0].text(0);
}

}  // namespace

int64_t SqlRow::integer(size_t i) const {
  const SqlValue& v = values.at(i);
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  if (std::holds_alternative<double>(v)) return static_cast<int64_t>(std::get<double>(v));
  if (std::holds_alternative<std::string>(v)) return std::atoll(std::get<std::string>(v).c_str());
  return 0;
}

double SqlRow::real(size_t i) const {
  const SqlValue& v = values.at(i);
  if (std::holds_alternative<double>(v)) return std::get<double>(v);
  if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
  if (std::holds_alternative<std::string>(v)) return std::atof(std::get<std::string>(v).c_str());
  return 0;
}

std::string SqlRow::text(size_t i) const {
  const SqlValue& v = values.at(i);
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<double>(v)) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", std::get<double>(v));
    return buf;
  }
  return "";
}

StatusOr<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = from_sqlite(raw, rc, "cannot open " + options.path);
    sqlite3_close_v2(raw);
    return s;
  }
  auto db = std::make_unique<SqliteDatabase>(raw);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  const bool memory = options.path == ":memory:" || options.path.empty();
  RETURN_IF_ERROR(db->exec_script("PRAGMA foreign_keys=ON"));
  if (!memory) {
    ASSIGN_OR_RETURN(std::string mode, pragma_text(*db, "PRAGMA journal_mode=WAL"));
    if (mode != "wal") {
      return Status(StatusCode::kFailedPrecondition, options.path + ": journal_mode is '" + mode + "', not wal");
    }
  }
  const char* sync = options.synchronous_full ? "FULL" : "NORMAL";
  RETURN_IF_ERROR(db->exec_script(std::string("PRAGMA synchronous=") + sync));
  ASSIGN_OR_RETURN(std::string level, pragma_text(*db, "PRAGMA synchronous"));
  const std::string want = options.synchronous_full ? "2" : "1";
  if (level != want) {
    return Status(StatusCode::kFailedPrecondition, options.path + ": synchronous is " + level + ", wanted " + want);
  }
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace maas
