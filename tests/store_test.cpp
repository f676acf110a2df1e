// The Store's conformance suite: every test runs against both engines, an
// SQLite file and a real PostgreSQL 15 (support/pg_server.h), with the same
// assertions.
#include "wattprint/budget.h"
#include "wattprint/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "store/db.h"
#include "support/pg_server.h"

namespace wattprint::store {
namespace {

constexpr int64_t kHourUs = int64_t{3600} * 1000000;
// 2026-06-01T00:00:00Z
constexpr int64_t kT0 = int64_t{1780272000} * 1000000;

testing::PgServer* Postgres() {
  static std::unique_ptr<testing::PgServer> server = [] {
    std::string why;
    auto s = testing::PgServer::Start(&why);
    if (!s) ADD_FAILURE() << "PostgreSQL did not start: " << why;
    return s;
  }();
  return server.get();
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    const int id = n++;
    if (GetParam() == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() / ("wp-store-" + std::to_string(getpid()) + "-" + std::to_string(id));
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "c.db").string();
    } else {
      testing::PgServer* pg = Postgres();
      ASSERT_NE(pg, nullptr);
      auto admin = OpenPostgres(pg->conninfo());
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      const std::string db = "t" + std::to_string(getpid()) + "_" + std::to_string(id);
      ASSERT_TRUE((*admin)->Exec("CREATE DATABASE " + db).ok());
      std::string info = pg->conninfo();
      info.replace(info.find("dbname=wattprint"), 16, "dbname=" + db);
      url_ = "postgresql:" + info;
    }
    auto s = OpenStore(url_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // An organisation, a project and an experiment.
  Experiment MakeExperiment(const std::string& org_name = "lab") {
    auto org = store_->CreateOrganization(org_name, "");
    EXPECT_TRUE(org.ok()) << org.status().ToString();
    Project p;
    p.organization_id = org->id;
    p.name = "vision";
    auto project = store_->CreateProject(p);
    EXPECT_TRUE(project.ok()) << project.status().ToString();
    Experiment e;
    e.project_id = project->id;
    e.name = "default";
    auto exp = store_->CreateExperiment(e);
    EXPECT_TRUE(exp.ok()) << exp.status().ToString();
    return *exp;
  }

  static Interval Delta(int64_t end_us, double kwh, double kg, double seconds) {
    Interval iv;
    iv.end_us = end_us;
    iv.start_us = end_us - static_cast<int64_t>(seconds * 1e6);
    iv.figures.cpu_kwh = kwh / 4;
    iv.figures.ram_kwh = kwh * 3 / 4;
    iv.figures.energy_kwh = kwh;
    iv.figures.emissions_kg = kg;
    iv.figures.duration_s = seconds;
    return iv;
  }

  static store::Run NewRun(const Experiment& e, int64_t start_us) {
    store::Run r;
    r.id = NewId();
    r.experiment_id = e.id;
    r.source = "codecarbon";
    r.start_us = r.end_us = start_us;
    return r;
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, HierarchyAndNames) {
  const Experiment e = MakeExperiment();
  auto orgs = store_->ListOrganizations();
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 1u);
  EXPECT_EQ(orgs->front().name, "lab");
  EXPECT_EQ(store_->CreateOrganization("lab", "").status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(store_->FindOrganization("lab")->id, orgs->front().id);
  EXPECT_EQ(store_->FindOrganization("nope").status().code(), Status::Code::kNotFound);
  auto projects = store_->ListProjects(orgs->front().id);
  ASSERT_EQ(projects->size(), 1u);
  EXPECT_EQ(store_->GetExperiment(e.id)->project_id, projects->front().id);
  Project dup;
  dup.organization_id = orgs->front().id;
  dup.name = "vision";
  EXPECT_EQ(store_->CreateProject(dup).status().code(), Status::Code::kAlreadyExists);
  Project orphan;
  orphan.organization_id = "no-such-org";
  orphan.name = "x";
  EXPECT_EQ(store_->CreateProject(orphan).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(projects->front().is_public);
  ASSERT_TRUE(store_->SetProjectPublic(projects->front().id, true).ok());
  EXPECT_TRUE(store_->GetProject(projects->front().id)->is_public);
  EXPECT_EQ(store_->SetProjectPublic("nope", true).code(), Status::Code::kNotFound);
  // Text round-trips whole.
  auto odd = store_->CreateOrganization("Lab \"Ω\" 'quoted'; DROP TABLE runs", "d");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(store_->GetOrganization(odd->id)->name, "Lab \"Ω\" 'quoted'; DROP TABLE runs");
}

TEST_P(StoreTest, DeltasAddUpExactlyAndKeepTheirOrder) {
  const Experiment e = MakeExperiment();
  store::Run run = NewRun(e, kT0);
  ASSERT_TRUE(store_->CreateRun(run).ok());
  EXPECT_EQ(store_->CreateRun(run).code(), Status::Code::kAlreadyExists);
  double kwh = 0, kg = 0;
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(store_->AppendInterval(run.id, Delta(kT0 + i * 1000000, 0.1 * i, 0.01 * i, 1)).ok());
    kwh += 0.1 * i;
    kg += 0.01 * i;
  }
  auto got = store_->GetRun(run.id);
  ASSERT_TRUE(got.ok());
  EXPECT_DOUBLE_EQ(got->figures.energy_kwh, kwh);
  EXPECT_DOUBLE_EQ(got->figures.emissions_kg, kg);
  EXPECT_DOUBLE_EQ(got->figures.duration_s, 3);
  EXPECT_EQ(got->interval_count, 3);
  EXPECT_EQ(got->end_us, kT0 + 3000000);
  EXPECT_FALSE(got->complete);
  auto series = store_->RunSeries(run.id);
  ASSERT_EQ(series->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*series)[i].seq, i + 1);
  EXPECT_DOUBLE_EQ((*series)[2].figures.energy_kwh, 0.1 * 3);
  EXPECT_EQ(store_->AppendInterval("nope", Delta(kT0, 1, 1, 1)).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->GetRun("nope").status().code(), Status::Code::kNotFound);
}

TEST_P(StoreTest, RecordsAndIntervalsAreIdempotent) {
  const Experiment e = MakeExperiment();
  store::Run run = NewRun(e, kT0);
  run.source = "wattprint";
  ASSERT_TRUE(store_->CreateRun(run).ok());
  std::vector<Interval> batch = {Delta(kT0 + 1000000, 1, 0.5, 1), Delta(kT0 + 2000000, 2, 1, 1)};
  batch[0].seq = 1;
  batch[1].seq = 2;
  EXPECT_EQ(*store_->AddIntervals(run.id, batch, true), 2);
  EXPECT_EQ(*store_->AddIntervals(run.id, batch, true), 0);  // sent again
  EXPECT_DOUBLE_EQ(store_->GetRun(run.id)->figures.energy_kwh, 3);
  // The final record replaces the streamed sums with the exact total.
  run.figures = {1, 0, 2.5, 3.5, 1.75, 2.5, 0};
  run.complete = true;
  run.record_json = R"({"exact":true})";
  run.end_us = kT0 + 2500000;
  ASSERT_TRUE(store_->PutRunRecord(run).ok());
  ASSERT_TRUE(store_->PutRunRecord(run).ok());  // sent again: once
  auto got = store_->GetRun(run.id);
  EXPECT_TRUE(got->complete);
  EXPECT_DOUBLE_EQ(got->figures.energy_kwh, 3.5);
  EXPECT_EQ(got->record_json, R"({"exact":true})");
  EXPECT_EQ(got->interval_count, 2);
  // A late interval is kept in the series but does not change the total.
  std::vector<Interval> late = {Delta(kT0 + 2500000, 9, 9, 0.5)};
  late[0].seq = 3;
  EXPECT_EQ(*store_->AddIntervals(run.id, late, true), 1);
  EXPECT_DOUBLE_EQ(store_->GetRun(run.id)->figures.energy_kwh, 3.5);
  store::Run other = run;
  other.record_json = R"({"exact":false})";
  EXPECT_EQ(store_->PutRunRecord(other).code(), Status::Code::kAlreadyExists);
  // A record with no run before creates it.
  store::Run fresh = run;
  fresh.id = NewId();
  ASSERT_TRUE(store_->PutRunRecord(fresh).ok());
  EXPECT_DOUBLE_EQ(store_->GetRun(fresh.id)->figures.emissions_kg, 1.75);
  // It streamed nothing: one interval spans it, so series hold it.
  auto whole = store_->RunSeries(fresh.id);
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ(whole->front().seq, 0);
  EXPECT_DOUBLE_EQ(whole->front().figures.energy_kwh, 3.5);
  store::Run lost = NewRun(e, kT0);
  lost.experiment_id = "no-such-experiment";
  EXPECT_EQ(store_->PutRunRecord(lost).code(), Status::Code::kNotFound);
  // A record naming another project's open run does not touch it.
  Project other_project;
  other_project.organization_id = store_->GetProject(e.project_id)->organization_id;
  other_project.name = "other";
  Experiment oe;
  oe.project_id = store_->CreateProject(other_project)->id;
  oe.name = "x";
  store::Run open = NewRun(*store_->CreateExperiment(oe), kT0);
  ASSERT_TRUE(store_->CreateRun(open).ok());
  store::Run hijack = fresh;
  hijack.id = open.id;
  EXPECT_EQ(store_->PutRunRecord(hijack).code(), Status::Code::kPermissionDenied);
  EXPECT_FALSE(store_->GetRun(open.id)->complete);
  // A batch that creates its run does it in the same transaction.
  store::Run streamed = NewRun(e, kT0);
  std::vector<Interval> first = {Delta(kT0 + 1000000, 1, 0.5, 1)};
  first[0].seq = 1;
  EXPECT_EQ(store_->AddIntervals(streamed.id, first, true).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(*store_->AddIntervals(streamed.id, first, true, &streamed), 1);
  EXPECT_EQ(*store_->AddIntervals(streamed.id, first, true, &streamed), 0);
  EXPECT_DOUBLE_EQ(store_->GetRun(streamed.id)->figures.energy_kwh, 1);
}

TEST_P(StoreTest, TotalsAtEveryLevelAndOverARange) {
  const Experiment e = MakeExperiment();
  const std::string project = e.project_id;
  const std::string org = store_->GetProject(project)->organization_id;
  for (int i = 0; i < 4; ++i) {
    store::Run r = NewRun(e, kT0 + i * kHourUs);
    ASSERT_TRUE(store_->CreateRun(r).ok());
    ASSERT_TRUE(store_->AppendInterval(r.id, Delta(r.start_us + 1000000, 1.0 + i, 0.1, 1)).ok());
  }
  for (auto [level, id] : {std::pair{Store::Level::kOrganization, org}, {Store::Level::kProject, project},
                           {Store::Level::kExperiment, e.id}}) {
    auto t = store_->TotalsOf(level, id, {});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->runs, 4);
    EXPECT_EQ(t->intervals, 4);
    EXPECT_DOUBLE_EQ(t->figures.energy_kwh, 1 + 2 + 3 + 4);
    EXPECT_EQ(t->first_us, kT0);
    EXPECT_EQ(t->last_us, kT0 + 3 * kHourUs + 1000000);
  }
  auto middle = store_->TotalsOf(Store::Level::kProject, project, {kT0 + kHourUs, kT0 + 3 * kHourUs});
  EXPECT_EQ(middle->runs, 2);
  EXPECT_DOUBLE_EQ(middle->figures.energy_kwh, 2 + 3);
  auto none = store_->TotalsOf(Store::Level::kProject, "nope", {});
  EXPECT_EQ(none->runs, 0);
  EXPECT_EQ(none->figures.energy_kwh, 0);
  auto hourly = store_->SeriesOf(Store::Level::kProject, project, kHourUs, {});
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  ASSERT_EQ(hourly->size(), 4u);
  EXPECT_EQ((*hourly)[1].bucket_start_us, kT0 + kHourUs);
  EXPECT_DOUBLE_EQ((*hourly)[1].figures.energy_kwh, 2);
  auto daily = store_->SeriesOf(Store::Level::kProject, project, 24 * kHourUs, {});
  ASSERT_EQ(daily->size(), 1u);
  EXPECT_DOUBLE_EQ(daily->front().figures.energy_kwh, 10);
  // 2026-06-01 is a Monday: its week starts that day.
  auto weekly = store_->SeriesOf(Store::Level::kProject, project, 7 * 24 * kHourUs, {});
  ASSERT_EQ(weekly->size(), 1u);
  EXPECT_EQ(weekly->front().bucket_start_us, kT0);
  // The organisation's series holds the project's intervals.
  auto org_weekly = store_->SeriesOf(Store::Level::kOrganization, org, 7 * 24 * kHourUs, {});
  ASSERT_TRUE(org_weekly.ok()) << org_weekly.status().ToString();
  ASSERT_EQ(org_weekly->size(), 1u);
  EXPECT_DOUBLE_EQ(org_weekly->front().figures.energy_kwh, 10);
  EXPECT_EQ(store_->SeriesOf(Store::Level::kRun, "x", kHourUs, {}).status().code(),
            Status::Code::kInvalidArgument);
  RunQuery q;
  q.project_id = project;
  q.limit = 2;
  auto runs = store_->ListRuns(q);
  ASSERT_EQ(runs->runs.size(), 2u);
  EXPECT_EQ(runs->total, 4);
  EXPECT_EQ(runs->runs.front().start_us, kT0 + 3 * kHourUs);  // newest first
  q = {};
  q.experiment_id = e.id;
  q.offset = 3;
  EXPECT_EQ(store_->ListRuns(q)->runs.size(), 1u);
  auto per_project = store_->ProjectTotals(org, {});
  ASSERT_TRUE(per_project.ok()) << per_project.status().ToString();
  ASSERT_EQ(per_project->size(), 1u);
  EXPECT_EQ(per_project->front().first.id, project);
  EXPECT_EQ(per_project->front().second.runs, 4);
  EXPECT_DOUBLE_EQ(per_project->front().second.figures.energy_kwh, 10);
}

// The runs table of the dashboard: the server sorts, filters and pages, and
// the pages of one order never overlap nor miss a run.
TEST_P(StoreTest, RunListsSortFilterAndPage) {
  const Experiment e = MakeExperiment();
  Experiment other;
  other.project_id = e.project_id;
  other.name = "Ablation_50%";
  other = *store_->CreateExperiment(other);
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    store::Run r = NewRun(i % 5 == 0 ? other : e, kT0 + i * kHourUs);
    r.host = i % 2 ? "gpu-node" : "cpu-node";
    r.figures = {0, 0, 0, 1.0 + (i * 7) % 25, 0.01 * ((i * 11) % 25), 60.0 + i, 0};
    r.gpu_count = i % 3;
    r.end_us = r.start_us + 1000000;
    r.complete = true;
    r.record_json = "{}";
    r.cpu_method = "measured_counter";
    r.zone = "FR";
    r.intensity_year = 2025;
    ASSERT_TRUE(store_->PutRunRecord(r).ok());
    ids.push_back(r.id);
  }
  RunQuery q;
  q.project_id = e.project_id;
  q.order = RunQuery::Order::kEmissions;
  q.descending = false;
  q.limit = 10;
  std::vector<double> seen;
  std::set<std::string> distinct;
  for (q.offset = 0; q.offset < 30; q.offset += 10) {
    auto page = store_->ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->total, 25);
    for (const auto& r : page->runs) {
      seen.push_back(r.figures.emissions_kg);
      distinct.insert(r.id);
      EXPECT_EQ(r.cpu_method, "measured_counter");
      EXPECT_EQ(r.zone, "FR");
      EXPECT_EQ(r.intensity_year, 2025);
    }
  }
  EXPECT_EQ(distinct.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  // Text: a substring of the host, case-insensitive; of the experiment's
  // name, with LIKE's wildcards taken literally.
  q = {};
  q.project_id = e.project_id;
  q.text = "GPU-";
  EXPECT_EQ(store_->ListRuns(q)->total, 12);
  q.text = "n_50%";
  EXPECT_EQ(store_->ListRuns(q)->total, 5);
  q.text = "ablation_5";
  EXPECT_EQ(store_->ListRuns(q)->total, 5);
  q.text = "n%5";  // as a pattern it would match "n_5"; as text it is nowhere
  EXPECT_EQ(store_->ListRuns(q)->total, 0);
  q.text = ids[3].substr(0, 13);
  EXPECT_EQ(store_->ListRuns(q)->runs.front().id, ids[3]);
  // Duration, descending; ties by start.
  q = {};
  q.project_id = e.project_id;
  q.order = RunQuery::Order::kDuration;
  q.limit = 3;
  auto longest = store_->ListRuns(q);
  ASSERT_EQ(longest->runs.size(), 3u);
  EXPECT_DOUBLE_EQ(longest->runs[0].figures.duration_s, 84);
  EXPECT_DOUBLE_EQ(longest->runs[2].figures.duration_s, 82);
  // GPU hours: each run's duration times its GPU count.
  double gpu_hours = 0;
  for (int i = 0; i < 25; ++i) gpu_hours += (60.0 + i) * (i % 3) / 3600.0;
  EXPECT_NEAR(store_->TotalsOf(Store::Level::kProject, e.project_id, {})->gpu_hours, gpu_hours, 1e-12);
}

TEST_P(StoreTest, ClusterJobsJoinAcrossNodes) {
  const Experiment e = MakeExperiment();
  const std::string org = store_->GetProject(e.project_id)->organization_id;
  const char* nodes[] = {"n01", "n02", "n01"};
  for (int i = 0; i < 3; ++i) {
    store::Run r = NewRun(e, kT0 + i * 1000000);
    r.job = {"hpc", "4242", std::to_string(i), nodes[i], "ada", "physics", "gpu"};
    r.figures = {0, 0, 0, 1.5, 0.25, 10, 0};
    r.end_us = r.start_us + 10000000;
    r.complete = true;
    r.record_json = "{}";
    ASSERT_TRUE(store_->PutRunRecord(r).ok());
  }
  store::Run alone = NewRun(e, kT0);
  ASSERT_TRUE(store_->CreateRun(alone).ok());
  auto job = store_->GetJob("hpc", "4242");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  // Seen from its organisation or project, the same; from another, none.
  EXPECT_EQ(store_->GetJob("hpc", "4242", Store::Level::kOrganization, org)->totals.runs, 3);
  EXPECT_EQ(store_->GetJob("hpc", "4242", Store::Level::kProject, e.project_id)->totals.runs, 3);
  EXPECT_EQ(store_->GetJob("hpc", "4242", Store::Level::kOrganization, "elsewhere").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(job->totals.runs, 3);
  EXPECT_DOUBLE_EQ(job->totals.figures.energy_kwh, 4.5);
  EXPECT_DOUBLE_EQ(job->totals.figures.emissions_kg, 0.75);
  EXPECT_DOUBLE_EQ(job->totals.figures.duration_s, 12);  // the span, not the sum
  EXPECT_EQ(job->user, "ada");
  ASSERT_EQ(job->nodes.size(), 2u);
  EXPECT_EQ(job->nodes[0].node, "n01");
  EXPECT_EQ(job->nodes[0].runs, 2);
  EXPECT_DOUBLE_EQ(job->nodes[1].figures.energy_kwh, 1.5);
  auto jobs = store_->ListJobs(org, {}, 10);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().job_id, "4242");
  EXPECT_DOUBLE_EQ(jobs->front().totals.figures.duration_s, 12);  // the span there too
  EXPECT_TRUE(store_->ListJobs(org, {}, 10, 1)->empty());
  EXPECT_EQ(store_->GetJob("hpc", "1").status().code(), Status::Code::kNotFound);
}

TEST_P(StoreTest, BudgetsAndAnAccountsEmissionsSplitAcrossTheNewYear) {
  const Experiment e = MakeExperiment();
  const BudgetYear y2025 = BudgetYearOf(2025, 1).value();
  const BudgetYear y2026 = BudgetYearOf(2026, 1).value();
  constexpr int64_t kHour = int64_t{3600} * 1000000;
  auto add = [&](const std::string& account, int64_t start, int64_t end, double kg) {
    store::Run r = NewRun(e, start);
    r.end_us = end;
    r.job = {"hpc", NewId(), "0", "n01", "ada", account, "cpu"};
    r.figures.emissions_kg = kg;
    r.complete = true;
    r.record_json = "{}";
    ASSERT_TRUE(store_->PutRunRecord(r).ok());
  };
  add("physics", y2026.from_us - 3 * kHour, y2026.from_us + kHour, 4.0);  // 3/4 in 2025, 1/4 in 2026
  add("physics", y2026.from_us + 10 * kHour, y2026.from_us + 12 * kHour, 2.0);
  add("physics", y2026.from_us + 20 * kHour, y2026.from_us + 20 * kHour, 0.5);  // no duration: where it started
  add("physics", y2026.to_us - kHour, y2026.to_us + kHour, 1.0);           // half in 2026
  add("chemistry", y2026.from_us + kHour, y2026.from_us + 2 * kHour, 9.0);  // another account
  auto in2025 = store_->AccountEmissions("physics", {y2025.from_us, y2025.to_us});
  ASSERT_TRUE(in2025.ok()) << in2025.status().ToString();
  EXPECT_NEAR(in2025->first, 3.0, 1e-9);
  EXPECT_EQ(in2025->second, 1);
  auto in2026 = store_->AccountEmissions("physics", {y2026.from_us, y2026.to_us});
  ASSERT_TRUE(in2026.ok());
  EXPECT_NEAR(in2026->first, 1.0 + 2.0 + 0.5 + 0.5, 1e-9);
  EXPECT_EQ(in2026->second, 4);
  EXPECT_NEAR(store_->AccountEmissions("nobody", {y2026.from_us, y2026.to_us})->first, 0, 0);

  EXPECT_EQ(store_->GetBudget("physics", 2026).status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(store_->SetBudget({"physics", 2026, 500, 0}).ok());
  ASSERT_TRUE(store_->SetBudget({"chemistry", 2026, 20, 0}).ok());
  ASSERT_TRUE(store_->SetBudget({"physics", 2026, 250, 0}).ok());  // changed mid-year: replaced
  EXPECT_DOUBLE_EQ(store_->GetBudget("physics", 2026)->kg, 250);
  EXPECT_GT(store_->GetBudget("physics", 2026)->updated_us, 0);
  auto all = store_->ListBudgets(2026);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].account, "chemistry");
  EXPECT_TRUE(store_->ListBudgets(2025)->empty());
}

TEST_P(StoreTest, TokensAreCheckedByHashAndRevoked) {
  const Experiment e = MakeExperiment();
  Token t;
  t.kind = TokenKind::kProject;
  t.scope_id = e.project_id;
  t.can_write = true;
  auto made = store_->CreateToken(t);
  ASSERT_TRUE(made.ok());
  const std::string secret = made->second;
  EXPECT_EQ(secret.rfind("wpt_", 0), 0u);
  EXPECT_EQ(secret.size(), 4u + 64u);  // 256 bits
  auto checked = store_->CheckToken(secret);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(checked->id, made->first.id);
  EXPECT_TRUE(checked->can_write);
  EXPECT_FALSE(checked->can_read);
  EXPECT_EQ(store_->CheckToken(secret + "x").status().code(), Status::Code::kNotFound);
  EXPECT_NE(store_->CreateToken(t)->second, secret);
  // Only the hash is stored: the secret appears in no column.
  auto conn = OpenConnection(url_);
  ASSERT_TRUE(conn.ok());
  auto rows = (*conn)->Query("SELECT COUNT(*) FROM tokens WHERE secret_sha256 = ? OR id = ?", {secret, secret});
  EXPECT_EQ((*rows)[0].Int(0), 0);
  ASSERT_TRUE(store_->RevokeToken(made->first.id).ok());
  EXPECT_EQ(store_->CheckToken(secret).status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(store_->RevokeToken(made->first.id).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->ListTokens(e.project_id)->size(), 2u);
}

// Manufacturing emissions: a column of their own, NULL when unknown, and
// summed in totals apart from the operational emissions.
TEST_P(StoreTest, EmbodiedIsStoredAndSummedApartFromEmissions) {
  const Experiment e = MakeExperiment();
  const double embodied[] = {0.5, 0.25};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    store::Run r = NewRun(e, kT0 + i * kHourUs);
    r.source = "wattprint";
    r.end_us = r.start_us + 1000000;
    r.figures.energy_kwh = 1;
    r.figures.emissions_kg = 0.1;
    r.figures.duration_s = 1;
    r.embodied_kg = embodied[i];
    r.job = {"c1", "42", "0", "node" + std::to_string(i), "ada", "physics", "gpu"};
    r.complete = true;
    r.record_json = "{\"n\":" + std::to_string(i) + "}";
    ASSERT_TRUE(store_->PutRunRecord(r).ok());
    ids.push_back(r.id);
  }
  store::Run codecarbon = NewRun(e, kT0 + 2 * kHourUs);  // no embodied figure: NULL, not 0
  ASSERT_TRUE(store_->CreateRun(codecarbon).ok());
  ASSERT_TRUE(store_->AppendInterval(codecarbon.id, Delta(codecarbon.start_us + 1000000, 2, 0.2, 1)).ok());
  EXPECT_EQ(store_->GetRun(ids[0])->embodied_kg, 0.5);
  EXPECT_EQ(store_->GetRun(ids[1])->embodied_kg, 0.25);
  EXPECT_FALSE(store_->GetRun(codecarbon.id)->embodied_kg.has_value());
  RunQuery q;
  q.project_id = e.project_id;
  q.descending = false;
  auto page = store_->ListRuns(q);
  ASSERT_EQ(page->runs.size(), 3u);
  EXPECT_EQ(page->runs[0].embodied_kg, 0.5);
  EXPECT_FALSE(page->runs[2].embodied_kg.has_value());
  auto t = store_->TotalsOf(Store::Level::kProject, e.project_id, {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->runs, 3);
  EXPECT_DOUBLE_EQ(t->embodied_kg, 0.75);
  EXPECT_EQ(t->embodied_runs, 2);
  EXPECT_DOUBLE_EQ(t->figures.emissions_kg, 0.1 + 0.1 + 0.2);  // operational only
  auto later = store_->TotalsOf(Store::Level::kProject, e.project_id, {kT0 + kHourUs, INT64_MAX});
  EXPECT_DOUBLE_EQ(later->embodied_kg, 0.25);
  EXPECT_EQ(later->embodied_runs, 1);
  auto job = store_->GetJob("c1", "42");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_DOUBLE_EQ(job->totals.embodied_kg, 0.75);  // joined across its two nodes
  EXPECT_EQ(job->totals.embodied_runs, 2);
  auto jobs = store_->ListJobs(store_->GetProject(e.project_id)->organization_id, {}, 10);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_DOUBLE_EQ(jobs->front().totals.embodied_kg, 0.75);
  auto per_project = store_->ProjectTotals(store_->GetProject(e.project_id)->organization_id, {});
  EXPECT_DOUBLE_EQ(per_project->front().second.embodied_kg, 0.75);
}

// A database of schema version 3 gains the column, NULL for its runs.
TEST_P(StoreTest, VersionThreeDatabaseGainsTheEmbodiedColumn) {
  EXPECT_EQ(SchemaVersion(), 4);
  const Experiment e = MakeExperiment();
  store::Run old = NewRun(e, kT0);
  ASSERT_TRUE(store_->CreateRun(old).ok());
  store_.reset();
  {
    auto conn = OpenConnection(url_);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec("ALTER TABLE runs DROP COLUMN embodied_kg").ok());
    ASSERT_TRUE((*conn)->Query("UPDATE wattprint_schema SET version = ?", {int64_t{3}}).ok());
  }
  auto again = OpenStore(url_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  store_ = std::move(again.value());
  auto got = store_->GetRun(old.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->embodied_kg.has_value());
  store::Run fresh = NewRun(e, kT0 + 1);
  fresh.embodied_kg = 1.5;
  ASSERT_TRUE(store_->CreateRun(fresh).ok());
  EXPECT_EQ(store_->GetRun(fresh.id)->embodied_kg, 1.5);
  auto conn = OpenConnection(url_);
  auto v = (*conn)->Query("SELECT MAX(version) FROM wattprint_schema", {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0].Int(0), 4);
}

TEST_P(StoreTest, SchemaIsMigratedOnceAndANewerOneIsRefused) {
  MakeExperiment();
  store_.reset();
  auto again = OpenStore(url_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ListOrganizations()->size(), 1u);  // nothing lost, nothing redone
  again.value().reset();
  auto conn = OpenConnection(url_);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Query("UPDATE wattprint_schema SET version = ?", {int64_t{SchemaVersion() + 1}}).ok());
  conn.value().reset();
  auto refused = OpenStore(url_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(refused.status().message().find("newer wattprint"), std::string::npos) << refused.status().message();
}

TEST_P(StoreTest, ConcurrentWritersLoseNothing) {
  const Experiment e = MakeExperiment();
  store::Run run = NewRun(e, kT0);
  ASSERT_TRUE(store_->CreateRun(run).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!store_->AppendInterval(run.id, Delta(kT0 + (t * 25 + i) * 1000, 0.5, 0.25, 1)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  auto got = store_->GetRun(run.id);
  EXPECT_EQ(got->interval_count, 100);
  EXPECT_DOUBLE_EQ(got->figures.energy_kwh, 50);
  EXPECT_EQ(store_->RunSeries(run.id)->size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(OpenStore, BadUrlsSayWhat) {
  auto s = OpenStore("mysql://x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.status().message().find("mysql"), std::string::npos);  // a URL may hold a password
  EXPECT_FALSE(OpenStore("sqlite:").ok());
  EXPECT_FALSE(OpenStore("sqlite:/nonexistent-dir/x/c.db").ok());
}

}  // namespace
}  // namespace wattprint::store
