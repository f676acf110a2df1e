// The Store over either engine: a pool of connections, transactions with
// retry, and the model's SQL, written once (db.h says which SQL).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

#include "store/db.h"
#include "store/rows.h"
#include "store/schema.h"
#include "wattprint/store.h"

namespace wattprint::store {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Connections, at most `size` open; a broken one is dropped and the next
// caller opens a fresh one (the database came back, or another node).
class Pool {
 public:
  Pool(std::string url, int size) : url_(std::move(url)), size_(size) {}

  class Lease {
   public:
    Lease(Pool* p, std::unique_ptr<Connection> c) : pool_(p), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    ++open_;
    lock.unlock();
    auto c = OpenConnection(url_);
    if (!c.ok()) {
      std::lock_guard<std::mutex> relock(mu_);
      --open_;
      cv_.notify_one();
      return c.status();
    }
    return Lease(this, std::move(c.value()));
  }

 private:
  void Return(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->broken()) {
      --open_;
    } else {
      idle_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

  const std::string url_;
  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The text of a LIKE pattern matched literally ('!' is the escape).
std::string LikeEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out;
}

const char* OrderColumn(RunQuery::Order o) {
  switch (o) {
    case RunQuery::Order::kDuration: return "duration_s";
    case RunQuery::Order::kEnergy: return "energy_kwh";
    case RunQuery::Order::kEmissions: return "emissions_kg";
    case RunQuery::Order::kHost: return "host";
    case RunQuery::Order::kStart: break;
  }
  return "start_us";
}

class SqlStore final : public Store {
 public:
  SqlStore(std::string url, int pool) : pool_(std::move(url), pool) {}

  Status Init() {
    return Tx(
        true, [](Connection& c) { return Migrate(c); }, /*own_transaction=*/true);
  }

  Result<Organization> CreateOrganization(const std::string& name, const std::string& description) override {
    Organization o{NewId(), name, description, NowUs()};
    Status s = Tx(true, [&](Connection& c) {
      return c.Query("INSERT INTO organizations (id, name, description, created_us) VALUES (?, ?, ?, ?)",
                     {o.id, o.name, o.description, o.created_us})
          .status();
    });
    if (!s.ok()) return Named(s, "organization '" + name + "'");
    return o;
  }

  Result<Organization> GetOrganization(const std::string& id) override {
    return One<Organization>("SELECT " + std::string(kOrgColumns) + " FROM organizations WHERE id = ?", {id},
                             ReadOrganization, "organization " + id);
  }
  Result<Organization> FindOrganization(const std::string& name) override {
    return One<Organization>("SELECT " + std::string(kOrgColumns) + " FROM organizations WHERE name = ?", {name},
                             ReadOrganization, "organization '" + name + "'");
  }
  Result<std::vector<Organization>> ListOrganizations() override {
    return Many<Organization>("SELECT " + std::string(kOrgColumns) + " FROM organizations ORDER BY name", {},
                              ReadOrganization);
  }

  Result<Project> CreateProject(const Project& in) override {
    Project p = in;
    p.id = p.id.empty() ? NewId() : p.id;
    p.created_us = NowUs();
    Status s = Tx(true, [&](Connection& c) {
      return c.Query("INSERT INTO projects (id, organization_id, name, description, is_public, created_us) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     {p.id, p.organization_id, p.name, p.description, int64_t{p.is_public}, p.created_us})
          .status();
    });
    if (!s.ok()) return Named(s, "project '" + p.name + "'");
    return p;
  }
  Result<Project> GetProject(const std::string& id) override {
    return One<Project>("SELECT " + std::string(kProjectColumns) + " FROM projects WHERE id = ?", {id}, ReadProject,
                        "project " + id);
  }
  Result<Project> FindProject(const std::string& org, const std::string& name) override {
    return One<Project>("SELECT " + std::string(kProjectColumns) +
                            " FROM projects WHERE organization_id = ? AND name = ?",
                        {org, name}, ReadProject, "project '" + name + "'");
  }
  Result<std::vector<Project>> ListProjects(const std::string& org) override {
    return Many<Project>("SELECT " + std::string(kProjectColumns) +
                             " FROM projects WHERE organization_id = ? ORDER BY name",
                         {org}, ReadProject);
  }
  Status SetProjectPublic(const std::string& id, bool is_public) override {
    return Tx(true, [&](Connection& c) -> Status {
      auto r = c.Query("UPDATE projects SET is_public = ? WHERE id = ? RETURNING id", {int64_t{is_public}, id});
      if (!r.ok()) return r.status();
      return r->empty() ? Status::NotFound("no project " + id) : Status::Ok();
    });
  }

  Result<Experiment> CreateExperiment(const Experiment& in) override {
    Experiment e = in;
    e.id = e.id.empty() ? NewId() : e.id;
    e.created_us = NowUs();
    Status s = Tx(true, [&](Connection& c) {
      return c.Query("INSERT INTO experiments (id, project_id, name, description, created_us, on_cloud, "
                     "country_name, country_iso_code, region, cloud_provider, cloud_region) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     {e.id, e.project_id, e.name, e.description, e.created_us, int64_t{e.on_cloud}, e.country_name,
                      e.country_iso_code, e.region, e.cloud_provider, e.cloud_region})
          .status();
    });
    if (!s.ok()) return Named(s, "experiment '" + e.name + "'");
    return e;
  }
  Result<Experiment> GetExperiment(const std::string& id) override {
    return One<Experiment>("SELECT " + std::string(kExperimentColumns) + " FROM experiments WHERE id = ?", {id},
                           ReadExperiment, "experiment " + id);
  }
  Result<std::vector<Experiment>> ListExperiments(const std::string& project) override {
    return Many<Experiment>("SELECT " + std::string(kExperimentColumns) +
                                " FROM experiments WHERE project_id = ? ORDER BY created_us",
                            {project}, ReadExperiment);
  }

  Status CreateRun(const Run& run) override {
    return Tx(true, [&](Connection& c) { return InsertRun(c, run, /*if_absent=*/false).status(); });
  }

  Status PutRunRecord(const Run& run) override {
    return Tx(true, [&](Connection& c) -> Status {
      auto project = ProjectOf(c, run.experiment_id);
      if (!project.ok()) return project.status();
      auto have = LockRun(c, run.id, "complete, record_json, interval_count, project_id");
      if (!have.ok()) return have.status();
      if (have->empty()) {
        // Two first sends of one record at once: the second waits for the
        // first, then finds its row.
        Result<bool> inserted = InsertRun(c, run, /*if_absent=*/true);
        if (!inserted.ok()) return inserted.status();
        if (!*inserted) have = LockRun(c, run.id, "complete, record_json, interval_count, project_id");
        if (!have.ok()) return have.status();
      }
      const bool existed = !have->empty();
      if (existed && (*have)[0].Text(3) != *project) {
        return Status::PermissionDenied("run " + run.id + " belongs to another project");
      }
      if (existed && (*have)[0].Int(0) != 0) {
        if ((*have)[0].Text(1) == run.record_json) return Status::Ok();  // sent again: stored once
        return Status::AlreadyExists("run " + run.id + " already has a different final record");
      }
      Status s = existed ? CompleteRun(c, run) : Status::Ok();
      if (!s.ok() || (existed && (*have)[0].Int(2) > 0)) return s;
      // A run that streamed no intervals gets one for its whole span, in the
      // same transaction, so the project's series holds it.
      Interval whole{0, run.start_us, run.end_us, run.figures, 0, 0, 0, {}, {}, {}};
      auto r = c.Query(kInsertInterval, IntervalValues(run.id, *project, whole));
      if (!r.ok()) return r.status();
      return c.Query("UPDATE runs SET interval_count = 1 WHERE id = ?", {run.id}).status();
    });
  }

  Result<int64_t> AddIntervals(const std::string& run_id, const std::vector<Interval>& intervals,
                               bool add_to_figures, const Run* create) override {
    int64_t added = 0;
    Status s = Tx(true, [&](Connection& c) -> Status {
      added = 0;
      auto run = LockRun(c, run_id, "project_id, complete");
      if (!run.ok()) return run.status();
      if (run->empty() && create != nullptr) {
        // The first batch creates the run, in the same transaction.
        Result<bool> inserted = InsertRun(c, *create, /*if_absent=*/true);
        if (!inserted.ok()) return inserted.status();
        run = LockRun(c, run_id, "project_id, complete");
        if (!run.ok()) return run.status();
      }
      if (run->empty()) return Status::NotFound("no run " + run_id);
      const std::string project = (*run)[0].Text(0);
      Figures sum;
      for (const Interval& iv : intervals) {
        auto r = c.Query(std::string(kInsertInterval) + " ON CONFLICT (run_id, seq) DO NOTHING RETURNING seq",
                         IntervalValues(run_id, project, iv));
        if (!r.ok()) return r.status();
        if (r->empty()) continue;
        ++added;
        Add(sum, iv.figures);
      }
      const bool figures = add_to_figures && (*run)[0].Int(1) == 0;
      return AddToRun(c, run_id, figures ? sum : Figures{}, added, intervals);
    });
    if (!s.ok()) return s;
    return added;
  }

  Status AppendInterval(const std::string& run_id, const Interval& in) override {
    return Tx(true, [&](Connection& c) -> Status {
      auto run = LockRun(c, run_id, "project_id, complete, interval_count");
      if (!run.ok()) return run.status();
      if (run->empty()) return Status::NotFound("no run " + run_id);
      Interval iv = in;
      auto last = c.Query("SELECT MAX(seq) FROM intervals WHERE run_id = ?", {run_id});
      if (!last.ok()) return last.status();
      iv.seq = last->empty() || (*last)[0].IsNull(0) ? 1 : (*last)[0].Int(0) + 1;
      auto r = c.Query(kInsertInterval, IntervalValues(run_id, (*run)[0].Text(0), iv));
      if (!r.ok()) return r.status();
      const bool figures = (*run)[0].Int(1) == 0;
      return AddToRun(c, run_id, figures ? iv.figures : Figures{}, 1, {iv});
    });
  }

  Result<Run> GetRun(const std::string& id) override {
    return One<Run>("SELECT " + std::string(kRunColumns) + ", record_json FROM runs WHERE id = ?", {id}, ReadRun,
                    "run " + id);
  }

  Result<RunPage> ListRuns(const RunQuery& q) override {
    const bool by_experiment = !q.experiment_id.empty();
    std::string where = std::string(by_experiment ? "experiment_id" : "project_id") +
                        " = ? AND start_us >= ? AND start_us < ?";
    std::vector<Value> values = {by_experiment ? q.experiment_id : q.project_id, q.range.from_us, q.range.to_us};
    if (!q.text.empty()) {
      const std::string like = "%" + LikeEscaped(Lower(q.text)) + "%";
      where += " AND (LOWER(id) LIKE ? ESCAPE '!' OR LOWER(host) LIKE ? ESCAPE '!' OR LOWER(job_id) LIKE ? ESCAPE '!'"
               " OR LOWER(node) LIKE ? ESCAPE '!' OR LOWER(user_name) LIKE ? ESCAPE '!' OR experiment_id IN"
               " (SELECT id FROM experiments WHERE LOWER(name) LIKE ? ESCAPE '!'))";
      for (int i = 0; i < 6; ++i) values.emplace_back(like);
    }
    auto count = Query("SELECT COUNT(*) FROM runs WHERE " + where, values);
    if (!count.ok()) return count.status();
    RunPage page;
    page.total = (*count)[0].Int(0);
    const std::string dir = q.descending ? " DESC" : " ASC";
    values.emplace_back(q.limit);
    values.emplace_back(q.offset);
    // The page's ids from the order's index alone, then only their rows.
    const std::string order = std::string(OrderColumn(q.order)) + dir + ", start_us" + dir + ", id" + dir;
    auto runs = Many<Run>("SELECT " + std::string(kRunColumns) + ", '' FROM runs WHERE id IN (SELECT id FROM runs WHERE " +
                              where + " ORDER BY " + order + " LIMIT ? OFFSET ?) ORDER BY " + order,
                          values, ReadRun);
    if (!runs.ok()) return runs.status();
    page.runs = std::move(*runs);
    return page;
  }

  Result<std::vector<Interval>> RunSeries(const std::string& run_id) override {
    return Many<Interval>("SELECT " + std::string(kIntervalColumns) + " FROM intervals WHERE run_id = ? ORDER BY seq",
                          {run_id}, ReadInterval);
  }

  Result<std::vector<SeriesPoint>> SeriesOf(Level level, const std::string& id, int64_t bucket_us,
                                            Range range) override {
    if (bucket_us <= 0) return Status::InvalidArgument("a bucket is longer than 0");
    if (level != Level::kOrganization && level != Level::kProject) {
      return Status::InvalidArgument("series are kept for organisations and projects");
    }
    // 1970-01-01 was a Thursday: weeks are aligned on Monday 1970-01-05.
    const int64_t week = int64_t{7} * 86400 * 1000000;
    const int64_t origin = bucket_us % week == 0 ? int64_t{4} * 86400 * 1000000 : 0;
    const std::string which = level == Level::kProject
                                  ? "project_id = ?"
                                  : "project_id IN (SELECT id FROM projects WHERE organization_id = ?)";
    return Many<SeriesPoint>(
        "SELECT ((start_us - ?) / ?) * ? + ? AS b, SUM(cpu_kwh), SUM(gpu_kwh), SUM(ram_kwh), SUM(energy_kwh), "
        "SUM(emissions_kg), SUM(duration_s), SUM(water_l), COUNT(*) FROM intervals WHERE " + which +
            " AND start_us >= ? AND start_us < ? GROUP BY b ORDER BY b",
        {origin, bucket_us, bucket_us, origin, id, std::max(range.from_us, origin), range.to_us}, ReadSeriesPoint);
  }

  Result<Totals> TotalsOf(Level level, const std::string& id, Range range) override {
    const char* column = level == Level::kOrganization ? "organization_id"
                         : level == Level::kProject    ? "project_id"
                         : level == Level::kExperiment ? "experiment_id"
                                                       : "id";
    auto rows = Query("SELECT " + std::string(kTotalsColumns) + " FROM runs WHERE " + column +
                          " = ? AND start_us >= ? AND start_us < ?",
                      {id, range.from_us, range.to_us});
    if (!rows.ok()) return rows.status();
    return ReadTotals((*rows)[0], 0);
  }

  Result<std::vector<Job>> ListJobs(const std::string& org, Range range, int64_t limit, int64_t offset) override {
    auto rows = Query("SELECT cluster, job_id, MIN(user_name), MIN(account), " + std::string(kTotalsColumns) +
                          " FROM runs WHERE organization_id = ? AND job_id <> '' AND start_us >= ? AND start_us < ?"
                          " GROUP BY cluster, job_id ORDER BY MAX(end_us) DESC, cluster, job_id LIMIT ? OFFSET ?",
                      {org, range.from_us, range.to_us, limit, offset});
    if (!rows.ok()) return rows.status();
    std::vector<Job> jobs;
    for (const Row& r : *rows) {
      Job j;
      j.cluster = r.Text(0);
      j.job_id = r.Text(1);
      j.user = r.Text(2);
      j.account = r.Text(3);
      j.organization_id = org;
      j.totals = ReadTotals(r, 4);
      j.totals.figures.duration_s = static_cast<double>(j.totals.last_us - j.totals.first_us) / 1e6;  // the span
      jobs.push_back(std::move(j));
    }
    return jobs;
  }

  Result<std::vector<std::pair<Project, Totals>>> ProjectTotals(const std::string& org, Range range) override {
    auto projects = ListProjects(org);
    if (!projects.ok()) return projects.status();
    auto rows = Query("SELECT project_id, " + std::string(kTotalsColumns) +
                          " FROM runs WHERE organization_id = ? AND start_us >= ? AND start_us < ? GROUP BY project_id",
                      {org, range.from_us, range.to_us});
    if (!rows.ok()) return rows.status();
    std::vector<std::pair<Project, Totals>> out;
    for (const Project& p : *projects) {
      Totals t;
      for (const Row& r : *rows) {
        if (r.Text(0) == p.id) t = ReadTotals(r, 1);
      }
      out.emplace_back(p, t);
    }
    return out;
  }

  Result<Job> GetJob(const std::string& cluster, const std::string& job_id, Level scope,
                     const std::string& scope_id) override {
    std::string sql =
        "SELECT node, MIN(user_name), MIN(account), MIN(organization_id), MIN(intensity_source), MIN(zone), "
        "MIN(intensity_basis), MAX(intensity_year), MIN(job_partition), " +
        std::string(kTotalsColumns) + " FROM runs WHERE cluster = ? AND job_id = ?";
    std::vector<Value> values = {cluster, job_id};
    if (!scope_id.empty()) {
      sql += scope == Level::kProject ? " AND project_id = ?" : " AND organization_id = ?";
      values.emplace_back(scope_id);
    }
    auto rows = Query(sql + " GROUP BY node ORDER BY node", values);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no job " + job_id + " on cluster '" + cluster + "'");
    const Row& first = (*rows)[0];
    Job job;
    job.cluster = cluster;
    job.job_id = job_id;
    job.user = first.Text(1);
    job.account = first.Text(2);
    job.organization_id = first.Text(3);
    job.intensity_source = first.Text(4);
    job.zone = first.Text(5);
    job.intensity_basis = first.Text(6);
    job.intensity_year = first.Int(7);
    job.partition = first.Text(8);
    for (const Row& r : *rows) {
      const Totals t = ReadTotals(r, 9);
      job.nodes.push_back(JobNode{r.Text(0), t.runs, t.figures, t.first_us, t.last_us, t.gpu_hours});
      Join(job.totals, t);
    }
    return job;
  }

  Result<std::pair<Token, std::string>> CreateToken(const Token& in) override {
    Token t = in;
    t.id = NewId();
    t.created_us = NowUs();
    Result<std::string> secret = NewTokenSecret();
    if (!secret.ok()) return secret.status();
    Status s = Tx(true, [&](Connection& c) {
      return c.Query("INSERT INTO tokens (id, secret_sha256, kind, scope_id, can_read, can_write, label, created_us)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     {t.id, SecretHash(*secret), TokenKindName(t.kind), t.scope_id, int64_t{t.can_read},
                      int64_t{t.can_write}, t.label, t.created_us})
          .status();
    });
    if (!s.ok()) return s;
    return std::make_pair(t, *secret);
  }

  Result<Token> CheckToken(const std::string& secret) override {
    Result<Token> t = One<Token>("SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE secret_sha256 = ?",
                                 {SecretHash(secret)}, ReadToken, "token");
    if (!t.ok() && t.status().code() == Status::Code::kNotFound) return Status::NotFound("unknown token");
    if (!t.ok()) return t.status();  // the database, not the token: 503, never 401
    if (t->revoked_us != 0) return Status::PermissionDenied("the token was revoked");
    return t;
  }

  Status SetBudget(const Budget& b) override {
    return Tx(true, [&](Connection& c) {
      return c
          .Query("INSERT INTO budgets (account, year, kg, updated_us) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (account, year) DO UPDATE SET kg = excluded.kg, updated_us = excluded.updated_us",
                 {b.account, b.year, b.kg, NowUs()})
          .status();
    });
  }

  Result<Budget> GetBudget(const std::string& account, int64_t year) override {
    return One<Budget>("SELECT account, year, kg, updated_us FROM budgets WHERE account = ? AND year = ?",
                       {account, year}, ReadBudget, "budget for account " + account + " in " + std::to_string(year));
  }

  Result<std::vector<Budget>> ListBudgets(int64_t year) override {
    return Many<Budget>("SELECT account, year, kg, updated_us FROM budgets WHERE year = ? ORDER BY account", {year},
                        ReadBudget);
  }

  Result<std::pair<double, int64_t>> AccountEmissions(const std::string& account, Range range) override {
    // Each run's share of its duration inside the range (ShareInWindow, in
    // SQL); runs start at most kLongestRun before the range, which bounds
    // the index walk.
    constexpr int64_t kLongestRun = int64_t{400} * 24 * 3600 * 1000000;
    const int64_t from = range.from_us, to = range.to_us;
    auto rows = Query(
        "SELECT COALESCE(SUM(emissions_kg * CASE WHEN end_us > start_us THEN "
        "CAST((CASE WHEN end_us < ? THEN end_us ELSE ? END) - (CASE WHEN start_us > ? THEN start_us ELSE ? END) "
        "AS DOUBLE PRECISION) / CAST(end_us - start_us AS DOUBLE PRECISION) ELSE 1.0 END), 0), COUNT(*) "
        "FROM runs WHERE account = ? AND start_us < ? AND start_us >= ? "
        "AND (end_us > ? OR (end_us <= start_us AND start_us >= ?))",
        {to, to, from, from, account, to, from - kLongestRun, from, from});
    if (!rows.ok()) return rows.status();
    return std::make_pair((*rows)[0].Real(0), (*rows)[0].Int(1));
  }

  Status RevokeToken(const std::string& id) override {
    return Tx(true, [&](Connection& c) -> Status {
      auto r = c.Query("UPDATE tokens SET revoked_us = ? WHERE id = ? AND revoked_us = 0 RETURNING id", {NowUs(), id});
      if (!r.ok()) return r.status();
      return r->empty() ? Status::NotFound("no token " + id + " in force") : Status::Ok();
    });
  }

  Result<std::vector<Token>> ListTokens(const std::string& scope) override {
    return Many<Token>("SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE scope_id = ? ORDER BY created_us",
                       {scope}, ReadToken);
  }

 private:
  // Runs f in a transaction, retrying twice when the database was busy or
  // the connection was lost (nothing was committed then).
  template <typename F>
  Status Tx(bool write, F&& f, bool own_transaction = false) {
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto lease = pool_.Acquire();
      if (!lease.ok()) return lease.status();
      Connection& c = *lease.value();
      bool committing = false;
      if (own_transaction) {
        last = f(c);
      } else {
        last = c.Begin(write);
        if (last.ok()) last = f(c);
        if (last.ok()) {
          committing = true;
          last = c.Commit();
        }
        if (!last.ok()) c.Rollback();
      }
      // A commit that failed may have been applied (the connection went
      // away after the server committed): running f again could store it
      // twice. The caller answers 503, and idempotent senders resend.
      if (committing || last.code() != Status::Code::kUnavailable) return last;
    }
    return last;
  }

  Result<std::vector<Row>> Query(const std::string& sql, const std::vector<Value>& params) {
    Result<std::vector<Row>> out = std::vector<Row>{};
    Status s = Tx(false, [&](Connection& c) {
      out = c.Query(sql, params);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  template <typename T, typename Read>
  Result<std::vector<T>> Many(const std::string& sql, const std::vector<Value>& params, Read read) {
    auto rows = Query(sql, params);
    if (!rows.ok()) return rows.status();
    std::vector<T> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(read(r));
    return out;
  }

  template <typename T, typename Read>
  Result<T> One(const std::string& sql, const std::vector<Value>& params, Read read, const std::string& what) {
    auto rows = Many<T>(sql, params, read);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no " + what);
    return std::move(rows->front());
  }

  // The run's row, locked until commit on PostgreSQL (SQLite's BEGIN
  // IMMEDIATE already serialises writers), so that a record and a batch of
  // intervals for one run take turns.
  static Result<std::vector<Row>> LockRun(Connection& c, const std::string& run_id, const std::string& columns) {
    return c.Query("SELECT " + columns + " FROM runs WHERE id = ?" +
                       (c.dialect() == Dialect::kPostgres ? " FOR UPDATE" : ""),
                   {run_id});
  }

  static Result<std::string> ProjectOf(Connection& c, const std::string& experiment_id) {
    auto rows = c.Query("SELECT project_id FROM experiments WHERE id = ?", {experiment_id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no experiment " + experiment_id);
    return (*rows)[0].Text(0);
  }

  static Status Named(const Status& s, const std::string& what) {
    if (s.code() == Status::Code::kAlreadyExists) return Status::AlreadyExists(what + " already exists");
    if (s.code() == Status::Code::kInvalidArgument) return Status::NotFound(what + ": its parent does not exist");
    return s;
  }

  Pool pool_;
};

}  // namespace

const char* TokenKindName(TokenKind k) {
  switch (k) {
    case TokenKind::kProject: return "project";
    case TokenKind::kOrganization: return "organization";
    case TokenKind::kAdmin: return "admin";
  }
  return "project";
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, int pool_size) {
  // SQLite has one writer at a time: more connections only add waiting.
  const bool sqlite = url.rfind("sqlite:", 0) == 0;
  auto store = std::make_unique<SqlStore>(url, sqlite ? std::min(pool_size, 4) : pool_size);
  if (Status s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wattprint::store
