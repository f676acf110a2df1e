// The PostgreSQL engine of Connection, through libpq: `?` placeholders
// become $1, $2, ...; each distinct SQL text is prepared once per
// connection; values travel in text format.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "store/db.h"

namespace wattprint::store {
namespace {

// Type oids of pg_type (the server's catalog header is not installed with
// libpq, and these never change).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// The first non-empty line of a libpq message (they end in "\n" and often
// carry a hint on further lines), so that Status messages stay one line.
std::string FirstLine(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// libpq's own message for the connection, without the "FATAL:  " that it
// puts before an error the server sent outside of a result.
std::string ConnectionMessage(const PGconn* conn) {
  std::string s = FirstLine(PQerrorMessage(conn));
  for (std::string_view severity : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
    if (std::string_view(s).starts_with(severity)) return s.substr(severity.size());
  }
  return s;
}

// Rewrites each `?` outside quotes as $1, $2, ...; a doubled quote inside a
// literal closes and reopens it, which leaves the state right.
std::string RewritePlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 8);
  char quote = 0;
  int n = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      out += fmt::format("${}", ++n);
      continue;
    }
    out += c;
  }
  *count = n;
  return out;
}

// A value as libpq text; *is_null for SQL NULL.
Status BindText(const Value& v, std::string* out, bool* is_null) {
  *is_null = false;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    *out = std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    // The server would store NaN or infinity, but no engine of the Store
    // may hold them (SQLite cannot), so they are refused here.
    if (!std::isfinite(*d)) return Status::InvalidArgument("PostgreSQL: cannot bind a non-finite number");
    *out = fmt::format("{}", *d);  // shortest text that reads back exactly
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    // Text parameters end at the first NUL; refuse rather than truncate.
    if (s->find('\0') != std::string::npos) return Status::InvalidArgument("PostgreSQL: cannot bind text with NUL");
    *out = *s;
  } else {
    *is_null = true;
  }
  return Status::Ok();
}

Value ReadValue(std::string_view v, Oid type) {
  const char* end = v.data() + v.size();
  switch (type) {
    case kBoolOid: return int64_t{v == "t" ? 1 : 0};
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kNumericOid: {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(v.data(), end, i);
      if (ec == std::errc() && p == end) return i;
      if (type != kNumericOid) break;
      [[fallthrough]];  // a NUMERIC with a fraction or out of int64 range
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      double d = 0;
      auto [p, ec] = std::from_chars(v.data(), end, d);
      if (ec == std::errc() && p == end) return d;
      break;
    }
    default: break;
  }
  return std::string(v);
}

std::vector<Row> ReadRows(const PGresult* res) {
  const int nrows = PQntuples(res);
  const int ncols = PQnfields(res);
  std::vector<Row> rows(static_cast<size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    Row& row = rows[static_cast<size_t>(r)];
    row.cols.reserve(static_cast<size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.cols.emplace_back(std::monostate{});
      } else {
        std::string_view text(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c)));
        row.cols.push_back(ReadValue(text, PQftype(res, c)));
      }
    }
  }
  return rows;
}

void IgnoreNotice(void*, const char*) {}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override;
  Status Exec(std::string_view sql) override;
  // Row locks taken by the statements themselves order the writers, so
  // `write` needs nothing more here.
  Status Begin(bool /*write*/) override { return Exec("BEGIN"); }
  Status Commit() override;
  void Rollback() override;
  bool broken() const override { return broken_; }

 private:
  struct Prepared {
    std::string name;
    int nparams = 0;
  };
  Result<Prepared> Prepare(std::string_view sql);
  Status Error(const PGresult* res);
  Status Lost() const { return Status::Unavailable("PostgreSQL: the connection was lost"); }

  PGconn* conn_;
  bool broken_ = false;
  std::unordered_map<std::string, Prepared> prepared_;  // by SQL text
  int next_id_ = 0;
};

// Maps a failed result (or none: libpq returns null when out of memory or
// when the connection died) to a Status by its SQLSTATE.
Status PgConnection::Error(const PGresult* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string_view code = state != nullptr ? state : "";
  std::string msg = "PostgreSQL: " + (primary != nullptr ? FirstLine(primary) : ConnectionMessage(conn_));
  if (!code.empty()) msg += fmt::format(" (SQLSTATE {})", code);

  if (PQstatus(conn_) == CONNECTION_BAD || code.starts_with("08") || code == "57P01" || code == "57P02" ||
      code == "57P03") {
    // The server's prepared statements died with the session.
    broken_ = true;
    prepared_.clear();
    return Status::Unavailable(std::move(msg));
  }
  if (code == "23505") return Status::AlreadyExists(std::move(msg));
  if (code.starts_with("23")) return Status::InvalidArgument(std::move(msg));
  if (code.starts_with("53")) return Status::ResourceExhausted(std::move(msg));
  if (code == "40001" || code == "40P01") return Status::Unavailable(std::move(msg));  // retry the transaction
  return Status::IOError(std::move(msg));
}

Result<PgConnection::Prepared> PgConnection::Prepare(std::string_view sql) {
  std::string key(sql);
  if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
  Prepared p;
  const std::string text = RewritePlaceholders(sql, &p.nparams);
  p.name = fmt::format("s{}", ++next_id_);
  // No parameter types: the server infers them from the SQL, so a statement
  // means the same whatever values are bound later.
  ResultPtr res(PQprepare(conn_, p.name.c_str(), text.c_str(), 0, nullptr));
  if (res == nullptr || PQresultStatus(res.get()) != PGRES_COMMAND_OK) return Error(res.get());
  prepared_.emplace(std::move(key), p);
  return p;
}

Result<std::vector<Row>> PgConnection::Query(std::string_view sql, const std::vector<Value>& params) {
  if (broken_) return Lost();
  Result<Prepared> p = Prepare(sql);
  if (!p.ok()) return p.status();
  if (params.size() != static_cast<size_t>(p->nparams)) {
    return Status::InvalidArgument(
        fmt::format("PostgreSQL: {} values bound to {} placeholders", params.size(), p->nparams));
  }
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    bool is_null = false;
    if (Status s = BindText(params[i], &texts[i], &is_null); !s.ok()) return s;
    if (!is_null) values[i] = texts[i].c_str();
  }
  ResultPtr res(PQexecPrepared(conn_, p->name.c_str(), p->nparams, values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = res != nullptr ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK) return ReadRows(res.get());
  if (st == PGRES_COMMAND_OK) return std::vector<Row>{};
  return Error(res.get());
}

Status PgConnection::Exec(std::string_view sql) {
  if (broken_) return Lost();
  ResultPtr res(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType st = res != nullptr ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return Status::Ok();
  return Error(res.get());
}

Status PgConnection::Commit() {
  if (broken_) return Lost();
  ResultPtr res(PQexec(conn_, "COMMIT"));
  if (res == nullptr || PQresultStatus(res.get()) != PGRES_COMMAND_OK) return Error(res.get());
  // COMMIT of a transaction that an error aborted succeeds but rolls back;
  // the caller must not believe its writes were kept.
  if (std::string_view(PQcmdStatus(res.get())) == "ROLLBACK") {
    return Status::IOError("PostgreSQL: the transaction had failed; COMMIT rolled it back");
  }
  return Status::Ok();
}

void PgConnection::Rollback() {
  if (broken_) return;
  ResultPtr res(PQexec(conn_, "ROLLBACK"));
  if (PQstatus(conn_) == CONNECTION_BAD) {
    broken_ = true;
    prepared_.clear();
  }
}

bool IsUri(std::string_view s) { return s.starts_with("postgresql://") || s.starts_with("postgres://"); }

}  // namespace

Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& conninfo) {
  std::string info = conninfo;
  // libpq waits forever for an unreachable host unless told otherwise.
  if (info.find("connect_timeout") == std::string::npos) {
    info += IsUri(info) ? (info.find('?') == std::string::npos ? "?connect_timeout=5" : "&connect_timeout=5")
                        : " connect_timeout=5";
  }
  PGconn* conn = PQconnectdb(info.c_str());
  if (conn == nullptr) return Status::Unavailable("PostgreSQL: cannot connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = ConnectionMessage(conn);
    PQfinish(conn);
    // libpq quotes a URI it cannot parse, password and all.
    if (why.find(conninfo) != std::string::npos || why.find('@') != std::string::npos) {
      why = "the connection URL could not be used (check its form: postgresql://USER@HOST:PORT/DB)";
    }
    return Status::Unavailable("PostgreSQL: cannot connect: " + why);
  }
  // Notices (e.g. "relation already exists, skipping") must not reach the
  // user's stderr.
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  auto c = std::make_unique<PgConnection>(conn);
  if (Status s = c->Exec("SET client_min_messages TO warning"); !s.ok()) return s;
  return std::unique_ptr<Connection>(std::move(c));
}

}  // namespace wattprint::store
