// The SQL connection under the Store: one small interface with two engines,
// SQLite (sqlite.cpp) and PostgreSQL through libpq (postgres.cpp). The Store
// (store.cpp) writes its SQL once, with `?` placeholders, in the subset both
// engines accept (INSERT ... ON CONFLICT, RETURNING, BIGINT, DOUBLE
// PRECISION, TEXT); an engine rewrites placeholders as it needs ($1, $2 for
// PostgreSQL) and keeps its prepared statements by SQL text.
//
// Every statement is prepared and its values bound: no value is ever
// written into SQL text.
//
// Thread safety: a Connection is used by one thread at a time; the pool in
// store.cpp hands them out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::store {

// A bound or read value. PostgreSQL answers in text; the accessors of Row
// convert either way, so the Store reads both engines alike.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

struct Row {
  std::vector<Value> cols;

  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(cols.at(i)); }
  // NULL reads as 0, 0.0 and "" (the Store checks IsNull where NULL means
  // something).
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
};

enum class Dialect { kSqlite, kPostgres };

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;

  // Runs one statement, `?` for each of params in order, and returns its
  // rows (none for a statement without RETURNING). Errors:
  //   AlreadyExists      a unique or primary key constraint failed;
  //   InvalidArgument    another constraint failed (foreign key, check);
  //   ResourceExhausted  the disk or database is full;
  //   Unavailable        the database is busy past its timeout, or the
  //                      connection was lost (then broken() is true);
  //   IOError            anything else, with the engine's message.
  virtual Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) = 0;

  // Runs statements without parameters, separated by `;` (schema).
  virtual Status Exec(std::string_view sql) = 0;

  // A transaction. Begin(true) takes the write lock at once (SQLite's
  // BEGIN IMMEDIATE), so that two writers never deadlock on an upgrade.
  virtual Status Begin(bool write) = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // True once the connection cannot be used again (the server went away);
  // the pool then drops it and opens a new one.
  virtual bool broken() const = 0;
};

// "sqlite:PATH" (a file; created when missing; WAL mode, a 5 s busy
// timeout, foreign keys on) or a libpq URI "postgresql://..." /
// "postgres://..." or a key=value conninfo prefixed "postgresql:".
Result<std::unique_ptr<Connection>> OpenConnection(const std::string& url);

Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);
Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& conninfo);

}  // namespace wattprint::store
