// The collector's storage: organisations -> projects -> experiments -> runs
// -> intervals (a run's time series), cluster jobs joined from their runs,
// and API tokens. One interface over two engines: an embedded SQLite file
// and PostgreSQL (the URL picks; see OpenStore). The schema is versioned and
// migrated at open; a database written by a newer wattprint is refused.
//
// Every write is one transaction: it is stored whole or not at all. Energies
// are kWh, masses kg CO2e, powers W, times microseconds since the Unix epoch
// (UTC), durations seconds.
//
// Thread safety: a Store may be used from any number of threads at once; it
// keeps a pool of connections. Several processes may share one PostgreSQL
// database (the server keeps nothing that matters outside it), or one SQLite
// file on one machine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::store {

struct Organization {
  std::string id, name, description;
  int64_t created_us = 0;
};

struct Project {
  std::string id, organization_id, name, description;
  bool is_public = false;  // readable without a token
  int64_t created_us = 0;
};

struct Experiment {
  std::string id, project_id, name, description;
  int64_t created_us = 0;
  bool on_cloud = false;
  std::string country_name, country_iso_code, region, cloud_provider, cloud_region;
};

// What a run used: energies by device kind, emissions, and peak powers seen.
struct Figures {
  double cpu_kwh = 0, gpu_kwh = 0, ram_kwh = 0, energy_kwh = 0;  // energy_kwh: everything
  double emissions_kg = 0;
  double duration_s = 0;
  double water_l = 0;
};

// Where a run belongs on a cluster. Empty when it ran outside one.
struct ClusterJob {
  std::string cluster, job_id, step, node, user, account;
  std::string partition;
};

struct Run {
  std::string id, experiment_id;
  std::string source;  // "wattprint" (a record) or "codecarbon" (its client's deltas)
  int64_t start_us = 0, end_us = 0;
  std::string host, os, python_version, tool_version, cpu_model, gpu_model, tracking_mode, region, provider;
  int64_t cpu_count = 0, gpu_count = 0;
  double ram_total_gb = 0;
  std::optional<double> longitude, latitude;
  Figures figures;
  // The intensity the run's emissions used, and where it came from.
  std::optional<double> intensity_g_per_kwh;
  std::string intensity_source, intensity_basis;
  int64_t intensity_year = 0;    // 0: not recorded
  std::string zone, country;     // the grid zone and country of that intensity
  // How each device kind's energy was obtained: "measured_counter",
  // "measured_power", "estimated", "none"; empty when not recorded
  // (CodeCarbon runs, and runs stored before schema version 2).
  std::string cpu_method, gpu_method, ram_method;
  ClusterJob job;
  // Manufacturing emissions of its hardware, kg CO2e (the record's
  // embodied.kg): apart from figures.emissions_kg, never part of it.
  // nullopt: unknown (CodeCarbon runs, records without it, and runs stored
  // before schema version 4).
  std::optional<double> embodied_kg;
  // True once the run's own final total is stored (a wattprint record): then
  // its figures are exact, and later intervals do not change them.
  bool complete = false;
  int64_t interval_count = 0;
  std::string record_json;  // the full record, as sent; empty for CodeCarbon runs
};

// One interval of a run's time series: what was used between two times.
struct Interval {
  int64_t seq = 0;  // the sender's sequence number; unique within the run
  int64_t start_us = 0, end_us = 0;
  Figures figures;
  double cpu_power_w = 0, gpu_power_w = 0, ram_power_w = 0;
  std::optional<double> cpu_utilization, gpu_utilization, ram_utilization;  // percent
};

struct Totals {
  int64_t runs = 0;
  int64_t intervals = 0;
  Figures figures;
  double gpu_hours = 0;  // each run's duration times its GPU count, in hours
  int64_t first_us = 0, last_us = 0;  // span of the runs counted; 0 when none
  // Manufacturing emissions summed over the runs that know theirs
  // (embodied_runs of them), apart from figures.emissions_kg.
  double embodied_kg = 0;
  int64_t embodied_runs = 0;
};

// A time range [from_us, to_us); a run counts when it started in it.
struct Range {
  int64_t from_us = 0;
  int64_t to_us = INT64_MAX;
};

// Which runs a listing shows and in what order: one experiment's or one
// project's, started in the range, matching the text (a case-insensitive
// substring of the run id, host, job id, node, user or experiment name).
struct RunQuery {
  enum class Order { kStart, kDuration, kEnergy, kEmissions, kHost };
  std::string experiment_id, project_id;  // one of the two
  Range range;
  std::string text;
  Order order = Order::kStart;
  bool descending = true;
  int64_t limit = 100, offset = 0;
};

struct RunPage {
  std::vector<Run> runs;
  int64_t total = 0;  // runs matching the query, all pages
};

struct SeriesPoint {
  int64_t bucket_start_us = 0;
  Figures figures;
  int64_t intervals = 0;
};

struct JobNode {
  std::string node;
  int64_t runs = 0;
  Figures figures;
  int64_t first_us = 0, last_us = 0;
  double gpu_hours = 0;
};

// A cluster job joined from its runs: energy and emissions summed over every
// node and step, the duration the span from the first start to the last end.
struct Job {
  std::string cluster, job_id, user, account;
  std::string organization_id;  // of its runs (the first, should they differ)
  Totals totals;
  std::vector<JobNode> nodes;
  // Where the intensity came from (of the first node's runs, should they
  // differ), and the job's partition.
  std::string intensity_source, zone, intensity_basis, partition;
  int64_t intensity_year = 0;
};

// A yearly CO2e budget of a Slurm account (wattprint/budget.h): the year
// it starts in, and the kilograms it allows.
struct Budget {
  std::string account;
  int64_t year = 0;
  double kg = 0;
  int64_t updated_us = 0;
};

enum class TokenKind { kProject, kOrganization, kAdmin };

struct Token {
  std::string id;  // public id, for listing and revoking; not the secret
  TokenKind kind = TokenKind::kProject;
  std::string scope_id;  // the project or organisation; empty for admin
  bool can_read = false, can_write = false;
  std::string label;
  int64_t created_us = 0;
  int64_t revoked_us = 0;  // 0: in force
};

class Store {
 public:
  enum class Level { kOrganization, kProject, kExperiment, kRun };
  virtual ~Store() = default;

  // -- organisations, projects, experiments --------------------------------
  // AlreadyExists when the name is taken (organisations by name, projects
  // by name within their organisation).
  virtual Result<Organization> CreateOrganization(const std::string& name, const std::string& description) = 0;
  virtual Result<Organization> GetOrganization(const std::string& id) = 0;
  virtual Result<Organization> FindOrganization(const std::string& name) = 0;
  virtual Result<std::vector<Organization>> ListOrganizations() = 0;
  virtual Result<Project> CreateProject(const Project& p) = 0;
  virtual Result<Project> GetProject(const std::string& id) = 0;
  virtual Result<Project> FindProject(const std::string& organization_id, const std::string& name) = 0;
  virtual Result<std::vector<Project>> ListProjects(const std::string& organization_id) = 0;
  virtual Status SetProjectPublic(const std::string& id, bool is_public) = 0;
  virtual Result<Experiment> CreateExperiment(const Experiment& e) = 0;
  virtual Result<Experiment> GetExperiment(const std::string& id) = 0;
  virtual Result<std::vector<Experiment>> ListExperiments(const std::string& project_id) = 0;

  // -- runs -----------------------------------------------------------------
  // Stores a new run (CodeCarbon's POST /runs). AlreadyExists for a taken id.
  virtual Status CreateRun(const Run& run) = 0;
  // Stores a run's final record: creates the run, or completes one made by
  // AddIntervals/CreateRun, with its exact figures. Idempotent: the same
  // record twice is stored once; a different record for a complete run is
  // AlreadyExists; a run of another project (by its experiment) is
  // PermissionDenied. A run with no interval yet gets one (seq 0) spanning it,
  // so that series hold every run.
  virtual Status PutRunRecord(const Run& run) = 0;
  // Adds intervals to a run, each once by its seq; returns how many were
  // new. With add_to_figures, the new ones are added to the run's figures
  // unless the run is complete. An unknown run is created from `create`, in
  // the same transaction, or is NotFound when create is null.
  virtual Result<int64_t> AddIntervals(const std::string& run_id, const std::vector<Interval>& intervals,
                                       bool add_to_figures, const Run* create = nullptr) = 0;
  // Appends one interval after the run's last (CodeCarbon's POST /emissions,
  // which carries no sequence number) and adds it to the run's figures.
  virtual Status AppendInterval(const std::string& run_id, const Interval& interval) = 0;
  virtual Result<Run> GetRun(const std::string& id) = 0;
  // A page of the runs a query selects, in its order (ties by start, then
  // by id, in the same direction, so that pages never overlap), without
  // their record_json.
  virtual Result<RunPage> ListRuns(const RunQuery& query) = 0;
  virtual Result<std::vector<Interval>> RunSeries(const std::string& run_id) = 0;
  // The intervals of an organisation's or a project's runs summed into
  // buckets of bucket_us (aligned to the epoch; a week starts on Monday
  // 00:00 UTC), over the range. Other levels are InvalidArgument.
  virtual Result<std::vector<SeriesPoint>> SeriesOf(Level level, const std::string& id, int64_t bucket_us,
                                                    Range range) = 0;

  // -- totals and jobs -------------------------------------------------------
  virtual Result<Totals> TotalsOf(Level level, const std::string& id, Range range) = 0;
  // Each project of an organisation with its totals over the range, by name.
  virtual Result<std::vector<std::pair<Project, Totals>>> ProjectTotals(const std::string& organization_id,
                                                                        Range range) = 0;
  virtual Result<std::vector<Job>> ListJobs(const std::string& organization_id, Range range, int64_t limit,
                                            int64_t offset = 0) = 0;
  // A job from its runs; with a scope (kOrganization or kProject and its
  // id), only the runs inside it count, and a job with none there is
  // NotFound. An empty scope_id counts every run.
  virtual Result<Job> GetJob(const std::string& cluster, const std::string& job_id,
                             Level scope = Level::kOrganization, const std::string& scope_id = "") = 0;

  // -- budgets ---------------------------------------------------------------
  // Sets (or replaces) an account's budget for a year.
  virtual Status SetBudget(const Budget& budget) = 0;
  virtual Result<Budget> GetBudget(const std::string& account, int64_t year) = 0;  // NotFound when none
  virtual Result<std::vector<Budget>> ListBudgets(int64_t year) = 0;                // by account
  // The kg CO2e of the account's runs (every organisation's) inside the
  // range, each run's emissions split by the share of its duration there
  // (ShareInWindow), and how many runs counted.
  virtual Result<std::pair<double, int64_t>> AccountEmissions(const std::string& account, Range range) = 0;

  // -- tokens ----------------------------------------------------------------
  // Makes a token and returns it with its secret, which is never stored
  // (only its SHA-256) and cannot be shown again.
  virtual Result<std::pair<Token, std::string>> CreateToken(const Token& token) = 0;
  // The token whose secret this is; NotFound if none, PermissionDenied if
  // revoked.
  virtual Result<Token> CheckToken(const std::string& secret) = 0;
  virtual Status RevokeToken(const std::string& id) = 0;
  virtual Result<std::vector<Token>> ListTokens(const std::string& scope_id) = 0;
};

// Opens (and creates or migrates) the database at url: "sqlite:PATH" or a
// PostgreSQL URL ("postgresql://USER@HOST:PORT/DB", or "postgresql:" then a
// key=value conninfo). pool_size connections at most.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, int pool_size = 8);

// The schema version this build writes, and reads.
int SchemaVersion();

// A new random id (UUID version 4, from the kernel's random source).
std::string NewId();

const char* TokenKindName(TokenKind k);

}  // namespace wattprint::store
