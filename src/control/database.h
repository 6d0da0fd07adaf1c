// database.h — the SQL seam under the Store: a connection that runs parameterised statements,
// and its SQLite implementation. PostgreSQL (a later issue) implements the same interface; the
// Store's SQL stays portable (no SQLite-only syntax beyond `?` placeholders, which a PostgreSQL
// driver rewrites to $n; upserts use `INSERT ... ON CONFLICT (...) DO UPDATE`, which both have).
//
// Errors are Status values: a UNIQUE / CHECK / FOREIGN KEY violation is kAlreadyExists /
// kFailedPrecondition (the Store turns them into user-facing messages), "database is busy"
// after the busy timeout is kUnavailable, disk full and I/O errors are kUnavailable too (the
// caller fails closed: TESTPLAN H8, K7), anything else kInternal.
// Thread safety: one Database per thread of use, or callers serialise (the Store holds a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace maas {

// A bound parameter or a column value: NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct SqlRow {
  std::vector<SqlValue> values;
  bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(values.at(i)); }
  int64_t integer(size_t i) const;     // 0 for NULL; reals truncated
  double real(size_t i) const;         // 0 for NULL
  std::string text(size_t i) const;    // "" for NULL; numbers printed
};

class Database {
 public:
  virtual ~Database() = default;
  // Runs one statement; returns the number of rows it changed.
  virtual StatusOr<int64_t> exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs one statement and returns all its rows.
  virtual StatusOr<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs a script of several statements without parameters (migrations).
  virtual Status exec_script(std::string_view sql) = 0;
  virtual Status begin() = 0;     // BEGIN IMMEDIATE: takes the write lock now, not on first write
  virtual Status commit() = 0;
  virtual void rollback() = 0;    // never fails visibly (logged)
};

struct SqliteOptions {
  std::string path;                 // file path, or ":memory:" for a private in-memory database
  int busy_timeout_ms = 5000;       // SQLITE_BUSY waits this long (TESTPLAN K6)
  bool synchronous_full = true;     // PRAGMA synchronous=FULL (else NORMAL)
};

// Opens (creating) the database, enables foreign keys, sets WAL (files only) and the
// synchronous mode, and verifies that both took effect (TESTPLAN K8): a file database that is
// not in WAL mode, or whose synchronous setting differs, is refused with kFailedPrecondition.
StatusOr<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options);

// Commits on commit(); rolls back in the destructor otherwise.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction() {
    if (open_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status begin() {
    Status s = db_.begin();
    open_ = s.ok();
    return s;
  }
  Status commit() {
    open_ = false;
    return db_.commit();
  }

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace maas
