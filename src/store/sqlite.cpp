// The SQLite engine of db.h, and what both engines share: Row's accessors
// and OpenConnection's URL rules.
#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

#include "store/db.h"

namespace wattprint::store {

int64_t Row::Int(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(std::llround(*d));
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec == std::errc() && p == s->data() + s->size()) return n;
    double d = 0;
    std::from_chars(s->data(), s->data() + s->size(), d);
    return static_cast<int64_t>(std::llround(d));
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double d = 0;
    std::from_chars(s->data(), s->data() + s->size(), d);
    return d;
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "";
}

namespace {

Status SqliteError(sqlite3* db, int rc) {
  const std::string m = std::string("SQLite: ") + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return Status::AlreadyExists(m);
      return Status::InvalidArgument(m);
    case SQLITE_FULL: return Status::ResourceExhausted(m);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(m);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return Status::PermissionDenied(m);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corrupt(m);
    default: return Status::IOError(m);
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  bool broken() const override { return false; }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    Result<sqlite3_stmt*> stmt = Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    sqlite3_stmt* s = *stmt;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (Status b = Bind(s, params); !b.ok()) return b;
    std::vector<Row> rows;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status e = SqliteError(db_, sqlite3_extended_errcode(db_));
        sqlite3_reset(s);
        return e;
      }
      rows.push_back(ReadRow(s));
    }
    sqlite3_reset(s);
    return rows;
  }

  Status Exec(std::string_view sql) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    return rc == SQLITE_OK ? Status::Ok() : SqliteError(db_, sqlite3_extended_errcode(db_));
  }

  Status Begin(bool write) override { return Exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                      &s, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    cache_.emplace(std::move(key), s);
    return s;
  }

  Status Bind(sqlite3_stmt* s, const std::vector<Value>& params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(s)) {
      return Status::InvalidArgument("SQLite: statement takes " + std::to_string(sqlite3_bind_parameter_count(s)) +
                                     " values, " + std::to_string(params.size()) + " given");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      const Value& v = params[i];
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(s, at, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (!std::isfinite(*d)) return Status::InvalidArgument("SQLite: a number that is not finite");
        rc = sqlite3_bind_double(s, at, *d);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(s, at, t->data(), t->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(s, at);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc);
    }
    return Status::Ok();
  }

  static Row ReadRow(sqlite3_stmt* s) {
    Row r;
    const int n = sqlite3_column_count(s);
    r.cols.reserve(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(s, c)) {
        case SQLITE_INTEGER: r.cols.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, c))); break;
        case SQLITE_FLOAT: r.cols.emplace_back(sqlite3_column_double(s, c)); break;
        case SQLITE_NULL: r.cols.emplace_back(std::monostate{}); break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          r.cols.emplace_back(std::string(p != nullptr ? p : "", static_cast<size_t>(sqlite3_column_bytes(s, c))));
        }
      }
    }
    return r;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc);
    sqlite3_close_v2(db);
    return Status::IOError("cannot open " + path + ": " + s.message());
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers never wait for the writer. synchronous=FULL: a commit is
  // on disk before the server acknowledges it, even if the machine loses
  // power (NORMAL would only survive a crash of the process).
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (Status s = conn->Exec(pragma); !s.ok()) return Status::IOError("cannot open " + path + ": " + s.message());
  }
  return std::unique_ptr<Connection>(std::move(conn));
}

Result<std::unique_ptr<Connection>> OpenConnection(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite:///abs/path
    if (path.empty()) return Status::InvalidArgument("--db sqlite:PATH needs a path");
    return OpenSqlite(path);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return OpenPostgres(url);
  if (url.rfind("postgresql:", 0) == 0) return OpenPostgres(url.substr(11));
  // The URL is not echoed: it may hold a password.
  return Status::InvalidArgument("the database URL is neither sqlite:PATH nor postgresql://USER@HOST/DB");
}

}  // namespace wattprint::store
