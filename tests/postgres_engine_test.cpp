// The PostgreSQL engine against a real server (PgServer): placeholders,
// values, errors, transactions and lost connections.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "store/db.h"
#include "support/pg_server.h"

namespace wattprint::store {
namespace {

using Code = Status::Code;

class PostgresEngineTest : public ::testing::Test {
 protected:
  // One server for the suite: initdb takes seconds.
  static void SetUpTestSuite() { server_ = wattprint::testing::PgServer::Start(&why_not_).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    // Not a skip: CI installs PostgreSQL, so a missing server is a failure.
    ASSERT_NE(server_, nullptr) << why_not_;
    conn_ = Open();
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(conn_->Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public").ok());
  }

  std::unique_ptr<Connection> Open() {
    auto r = OpenPostgres(server_->conninfo());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  std::vector<Row> Q(std::string_view sql, const std::vector<Value>& params = {}) {
    auto r = conn_->Query(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? r.value() : std::vector<Row>{};
  }

  static void ExpectOneLine(const Status& s) {
    EXPECT_TRUE(s.message().starts_with("PostgreSQL: ")) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }

  static wattprint::testing::PgServer* server_;
  static std::string why_not_;
  std::unique_ptr<Connection> conn_;
};

wattprint::testing::PgServer* PostgresEngineTest::server_ = nullptr;
std::string PostgresEngineTest::why_not_;

TEST_F(PostgresEngineTest, PlaceholdersOutsideLiteralsAreBound) {
  EXPECT_EQ(conn_->dialect(), Dialect::kPostgres);
  auto rows = Q("SELECT ?::bigint, '?', 'it''s ?', ?::text, \"?\" FROM (SELECT 1 AS \"?\") AS t", {int64_t{7}, "x"});
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].cols.size(), 5u);
  EXPECT_EQ(rows[0].Int(0), 7);
  EXPECT_EQ(rows[0].Text(1), "?");
  EXPECT_EQ(rows[0].Text(2), "it's ?");
  EXPECT_EQ(rows[0].Text(3), "x");
  EXPECT_EQ(rows[0].Int(4), 1);

  auto wrong = conn_->Query("SELECT ?::bigint", {});
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument) << wrong.status().ToString();
}

TEST_F(PostgresEngineTest, ValuesRoundTrip) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE v (id BIGINT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT, "
                          "b BOOLEAN, n INTEGER)")
                  .ok());
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string quotes = "O'Reilly \"q\" ; -- ? $1 \\";
  const std::string utf8 = "Gr\xC3\xBC\xC3\x9F" "e \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x8C\x8D";
  const char* insert = "INSERT INTO v (id, i, r, t, b, n) VALUES (?, ?, ?, ?, ?, ?) RETURNING id";
  auto ret = Q(insert, {int64_t{1}, kMax, 0.1, quotes, "true", int64_t{-5}});
  ASSERT_EQ(ret.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(ret[0].cols[0]), 1);
  Q(insert, {int64_t{2}, kMin, 1e-300, utf8, "false", std::monostate{}});
  Q(insert, {int64_t{3}, int64_t{-42}, -1.7976931348623157e308, "", std::monostate{}, int64_t{0}});
  Q(insert, {int64_t{4}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}});

  auto rows = Q("SELECT i, r, t, b, n FROM v ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(rows[0].cols[0]), kMax);
  EXPECT_EQ(std::get<double>(rows[0].cols[1]), 0.1);
  EXPECT_EQ(std::get<std::string>(rows[0].cols[2]), quotes);
  EXPECT_EQ(std::get<int64_t>(rows[0].cols[3]), 1);
  EXPECT_EQ(std::get<int64_t>(rows[0].cols[4]), -5);

  EXPECT_EQ(std::get<int64_t>(rows[1].cols[0]), kMin);
  EXPECT_EQ(std::get<double>(rows[1].cols[1]), 1e-300);
  EXPECT_EQ(std::get<std::string>(rows[1].cols[2]), utf8);
  EXPECT_EQ(std::get<int64_t>(rows[1].cols[3]), 0);
  EXPECT_TRUE(rows[1].IsNull(4));

  EXPECT_EQ(rows[2].Int(0), -42);
  EXPECT_EQ(rows[2].Real(1), -1.7976931348623157e308);
  EXPECT_FALSE(rows[2].IsNull(2));  // empty text is not NULL
  EXPECT_EQ(rows[2].Text(2), "");

  for (size_t c = 0; c < 5; ++c) EXPECT_TRUE(rows[3].IsNull(c)) << c;
}

TEST_F(PostgresEngineTest, NonFiniteAndNulBindingsAreRefused) {
  for (double d : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto r = conn_->Query("SELECT ?::double precision", {d});
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
    ExpectOneLine(r.status());
  }
  auto r = conn_->Query("SELECT ?::text", {std::string("a\0b", 3)});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(conn_->broken());
  EXPECT_EQ(Q("SELECT ?::double precision", {2.5}).at(0).Real(0), 2.5);
}

TEST_F(PostgresEngineTest, ConstraintErrorsMapToCodes) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE p (id BIGINT PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
                          "CREATE TABLE c (id BIGINT PRIMARY KEY, p BIGINT REFERENCES p(id), "
                          "w DOUBLE PRECISION CHECK (w >= 0))")
                  .ok());
  Q("INSERT INTO p (id, name) VALUES (?, ?)", {int64_t{1}, "a"});

  auto dup = conn_->Query("INSERT INTO p (id, name) VALUES (?, ?)", {int64_t{2}, "a"});
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists) << dup.status().ToString();
  ExpectOneLine(dup.status());

  auto fk = conn_->Query("INSERT INTO c (id, p, w) VALUES (?, ?, ?)", {int64_t{1}, int64_t{99}, 1.0});
  EXPECT_EQ(fk.status().code(), Code::kInvalidArgument) << fk.status().ToString();
  ExpectOneLine(fk.status());

  auto check = conn_->Query("INSERT INTO c (id, p, w) VALUES (?, ?, ?)", {int64_t{1}, int64_t{1}, -1.0});
  EXPECT_EQ(check.status().code(), Code::kInvalidArgument) << check.status().ToString();

  auto notnull = conn_->Query("INSERT INTO p (id, name) VALUES (?, ?)", {int64_t{3}, std::monostate{}});
  EXPECT_EQ(notnull.status().code(), Code::kInvalidArgument) << notnull.status().ToString();

  auto syntax = conn_->Query("SELEC 1", {});
  EXPECT_EQ(syntax.status().code(), Code::kIOError) << syntax.status().ToString();
  ExpectOneLine(syntax.status());
  EXPECT_EQ(conn_->Exec("CREATE TABLE p (x INT)").code(), Code::kIOError);
  EXPECT_FALSE(conn_->broken());
}

TEST_F(PostgresEngineTest, SqlstatesMapToCodes) {
  const std::pair<const char*, Code> cases[] = {
      {"40001", Code::kUnavailable},       {"40P01", Code::kUnavailable}, {"53100", Code::kResourceExhausted},
      {"53200", Code::kResourceExhausted}, {"23514", Code::kInvalidArgument}, {"XX000", Code::kIOError},
  };
  for (const auto& [state, code] : cases) {
    const std::string sql = std::string("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '") + state + "'; END $$";
    auto r = conn_->Query(sql, {});
    EXPECT_EQ(r.status().code(), code) << state << ": " << r.status().ToString();
    ExpectOneLine(r.status());
    EXPECT_FALSE(conn_->broken()) << state;
  }
}

TEST_F(PostgresEngineTest, TransactionsCommitOrRollBack) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
  const char* insert = "INSERT INTO t (id) VALUES (?)";
  ASSERT_TRUE(conn_->Begin(true).ok());
  Q(insert, {int64_t{1}});
  conn_->Rollback();
  EXPECT_TRUE(Q("SELECT id FROM t").empty());

  ASSERT_TRUE(conn_->Begin(false).ok());
  Q(insert, {int64_t{2}});
  ASSERT_TRUE(conn_->Commit().ok());
  auto other = Open();
  ASSERT_NE(other, nullptr);
  auto seen = other->Query("SELECT id FROM t", {});
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].Int(0), 2);

  // A failed statement aborts the transaction: COMMIT must not report
  // success for writes that PostgreSQL discarded.
  ASSERT_TRUE(conn_->Begin(true).ok());
  Q(insert, {int64_t{3}});
  EXPECT_EQ(conn_->Query(insert, {int64_t{2}}).status().code(), Code::kAlreadyExists);
  EXPECT_FALSE(conn_->Commit().ok());
  EXPECT_EQ(Q("SELECT id FROM t").size(), 1u);
}

TEST_F(PostgresEngineTest, SumOverBigintReadsAsInt) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE s (x BIGINT)").ok());
  EXPECT_TRUE(Q("SELECT SUM(x) FROM s").at(0).IsNull(0));
  for (int64_t x : {int64_t{4'000'000'000'000}, int64_t{5}, int64_t{-1}}) Q("INSERT INTO s (x) VALUES (?)", {x});
  auto rows = Q("SELECT SUM(x), COUNT(*), AVG(x) FROM s");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Int(0), 4'000'000'000'004);
  EXPECT_EQ(rows[0].Int(1), 3);
  EXPECT_NEAR(rows[0].Real(2), 4'000'000'000'004 / 3.0, 1e-3);
}

TEST_F(PostgresEngineTest, StatementsArePreparedOncePerText) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t (id BIGINT)").ok());
  for (int64_t i = 0; i < 3; ++i) Q("INSERT INTO t (id) VALUES (?)", {i});
  auto rows = Q("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO t%'");
  EXPECT_EQ(rows.at(0).Int(0), 1);
  EXPECT_EQ(Q("SELECT COUNT(*) FROM t").at(0).Int(0), 3);
}

TEST_F(PostgresEngineTest, NoticesAndWarningsStayOffStderr) {
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(conn_->Exec("DO $$ BEGIN RAISE WARNING 'a warning'; RAISE NOTICE 'a notice'; END $$").ok());
  EXPECT_TRUE(conn_->Exec("CREATE TABLE IF NOT EXISTS n (x INT); CREATE TABLE IF NOT EXISTS n (x INT)").ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(PostgresEngineTest, TerminatedBackendIsUnavailableAndBroken) {
  auto pid = Q("SELECT pg_backend_pid()");
  ASSERT_EQ(pid.size(), 1u);
  auto killer = Open();
  ASSERT_NE(killer, nullptr);
  // The timeout makes pg_terminate_backend wait until the backend is gone.
  auto killed = killer->Query("SELECT pg_terminate_backend(?::integer, 10000)", {pid[0].Int(0)});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(killed->at(0).Int(0), 1);

  auto r = conn_->Query("SELECT pg_backend_pid()", {});
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  ExpectOneLine(r.status());
  EXPECT_TRUE(conn_->broken());
  EXPECT_EQ(conn_->Query("SELECT 1", {}).status().code(), Code::kUnavailable);
  EXPECT_EQ(conn_->Begin(true).code(), Code::kUnavailable);
  conn_->Rollback();  // harmless on a broken connection

  auto fresh = Open();
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->Query("SELECT 1", {}).ok());
}

TEST_F(PostgresEngineTest, ServerRestartBreaksOpenConnections) {
  ASSERT_TRUE(Q("SELECT 1").size() == 1);
  ASSERT_TRUE(server_->Restart().ok());
  auto r = conn_->Query("SELECT 1", {});
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(conn_->broken());
  auto fresh = Open();
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->Query("SELECT 1", {}).ok());
}

TEST_F(PostgresEngineTest, BadConninfoIsUnavailableOnOneLine) {
  const std::string bad[] = {
      "host=127.0.0.1 port=1 dbname=wattprint user=wattprint",
      "postgresql://wattprint@127.0.0.1:1/wattprint?connect_timeout=5",
      "nonsense=1",
      "host=127.0.0.1 port=" + std::to_string(server_->port()) + " dbname=no_such_db user=wattprint",
  };
  for (const std::string& info : bad) {
    auto r = OpenPostgres(info);
    ASSERT_FALSE(r.ok()) << info;
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << info << ": " << r.status().ToString();
    EXPECT_TRUE(r.status().message().starts_with("PostgreSQL: cannot connect: ")) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace wattprint::store
