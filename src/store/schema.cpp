// The schema, as numbered migrations. Each runs once, in order, inside the
// transaction that records its number in wattprint_schema; a database whose
// number is above the last one here was written by a newer wattprint and is
// refused (an older binary must never write a schema it does not know).
//
// The SQL is the subset SQLite and PostgreSQL share. Times are BIGINT
// microseconds since the epoch, booleans BIGINT 0/1, figures DOUBLE
// PRECISION. Runs carry their project and organisation so that totals and
// series read one indexed table, never a join over intervals.
#include "store/schema.h"

#include <iterator>
#include <string>

#include "wattprint/store.h"

namespace wattprint::store {

namespace {

constexpr const char* kMigration1 = R"sql(
CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_us BIGINT NOT NULL
);
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  is_public BIGINT NOT NULL DEFAULT 0,
  created_us BIGINT NOT NULL,
  UNIQUE (organization_id, name)
);
CREATE TABLE experiments (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_us BIGINT NOT NULL,
  on_cloud BIGINT NOT NULL DEFAULT 0,
  country_name TEXT NOT NULL DEFAULT '',
  country_iso_code TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  cloud_provider TEXT NOT NULL DEFAULT '',
  cloud_region TEXT NOT NULL DEFAULT ''
);
CREATE INDEX experiments_by_project ON experiments (project_id);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL REFERENCES experiments(id),
  project_id TEXT NOT NULL REFERENCES projects(id),
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  source TEXT NOT NULL,
  start_us BIGINT NOT NULL,
  end_us BIGINT NOT NULL,
  host TEXT NOT NULL DEFAULT '',
  os TEXT NOT NULL DEFAULT '',
  python_version TEXT NOT NULL DEFAULT '',
  tool_version TEXT NOT NULL DEFAULT '',
  cpu_model TEXT NOT NULL DEFAULT '',
  gpu_model TEXT NOT NULL DEFAULT '',
  tracking_mode TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  cpu_count BIGINT NOT NULL DEFAULT 0,
  gpu_count BIGINT NOT NULL DEFAULT 0,
  ram_total_gb DOUBLE PRECISION NOT NULL DEFAULT 0,
  longitude DOUBLE PRECISION,
  latitude DOUBLE PRECISION,
  cpu_kwh DOUBLE PRECISION NOT NULL DEFAULT 0,
  gpu_kwh DOUBLE PRECISION NOT NULL DEFAULT 0,
  ram_kwh DOUBLE PRECISION NOT NULL DEFAULT 0,
  energy_kwh DOUBLE PRECISION NOT NULL DEFAULT 0,
  emissions_kg DOUBLE PRECISION NOT NULL DEFAULT 0,
  duration_s DOUBLE PRECISION NOT NULL DEFAULT 0,
  water_l DOUBLE PRECISION NOT NULL DEFAULT 0,
  intensity_g_per_kwh DOUBLE PRECISION,
  intensity_source TEXT NOT NULL DEFAULT '',
  intensity_basis TEXT NOT NULL DEFAULT '',
  cluster TEXT NOT NULL DEFAULT '',
  job_id TEXT NOT NULL DEFAULT '',
  step TEXT NOT NULL DEFAULT '',
  node TEXT NOT NULL DEFAULT '',
  user_name TEXT NOT NULL DEFAULT '',
  account TEXT NOT NULL DEFAULT '',
  complete BIGINT NOT NULL DEFAULT 0,
  interval_count BIGINT NOT NULL DEFAULT 0,
  record_json TEXT NOT NULL DEFAULT '',
  created_us BIGINT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_us);
CREATE INDEX runs_by_project ON runs (project_id, start_us);
CREATE INDEX runs_by_organization ON runs (organization_id, start_us);
CREATE INDEX runs_by_job ON runs (cluster, job_id);
CREATE TABLE intervals (
  run_id TEXT NOT NULL REFERENCES runs(id),
  seq BIGINT NOT NULL,
  project_id TEXT NOT NULL,
  start_us BIGINT NOT NULL,
  end_us BIGINT NOT NULL,
  cpu_kwh DOUBLE PRECISION NOT NULL,
  gpu_kwh DOUBLE PRECISION NOT NULL,
  ram_kwh DOUBLE PRECISION NOT NULL,
  energy_kwh DOUBLE PRECISION NOT NULL,
  emissions_kg DOUBLE PRECISION NOT NULL,
  duration_s DOUBLE PRECISION NOT NULL,
  water_l DOUBLE PRECISION NOT NULL,
  cpu_power_w DOUBLE PRECISION NOT NULL,
  gpu_power_w DOUBLE PRECISION NOT NULL,
  ram_power_w DOUBLE PRECISION NOT NULL,
  cpu_utilization DOUBLE PRECISION,
  gpu_utilization DOUBLE PRECISION,
  ram_utilization DOUBLE PRECISION,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX intervals_by_project ON intervals (project_id, start_us);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  secret_sha256 TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  can_read BIGINT NOT NULL,
  can_write BIGINT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_us BIGINT NOT NULL,
  revoked_us BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_scope ON tokens (scope_id);
)sql";

// Version 2: what the dashboard shows of each run without reading its
// record (the method per device kind, the intensity's year, zone and
// country), and the orders its run tables sort by. Each order's index ends
// with start_us and id, the ties' order, so that a page deep in a sort of
// 10^5 runs is read from the index alone. Runs stored before it keep empty
// methods: their records are not re-read.
constexpr const char* kMigration2 = R"sql(
ALTER TABLE runs ADD COLUMN intensity_year BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN zone TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cpu_method TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN gpu_method TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN ram_method TEXT NOT NULL DEFAULT '';
DROP INDEX runs_by_project;
CREATE INDEX runs_by_project_start ON runs (project_id, start_us, id);
CREATE INDEX runs_by_project_duration ON runs (project_id, duration_s, start_us, id);
CREATE INDEX runs_by_project_energy ON runs (project_id, energy_kwh, start_us, id);
CREATE INDEX runs_by_project_emissions ON runs (project_id, emissions_kg, start_us, id);
CREATE INDEX runs_by_project_host ON runs (project_id, host, start_us, id);
)sql";

// Version 3: yearly CO2e budgets per Slurm account, the index that sums an
// account's runs over a year, and the job's partition.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE budgets (
  account TEXT NOT NULL,
  year BIGINT NOT NULL,
  kg DOUBLE PRECISION NOT NULL,
  updated_us BIGINT NOT NULL,
  PRIMARY KEY (account, year)
);
ALTER TABLE runs ADD COLUMN job_partition TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_account ON runs (account, start_us);
)sql";

// Version 4: each run's manufacturing (embodied) emissions, kg CO2e, from
// its record; NULL when unknown (CodeCarbon runs, records without them,
// runs stored before it), so that totals sum only the runs that know
// theirs. DOUBLE PRECISION like the other figures: SQLite gives it REAL
// affinity, and PostgreSQL's REAL would be a 4-byte float.
constexpr const char* kMigration4 = R"sql(
ALTER TABLE runs ADD COLUMN embodied_kg DOUBLE PRECISION;
)sql";

constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4};

}  // namespace

int SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Status Migrate(Connection& c) {
  if (Status s = c.Begin(true); !s.ok()) return s;
  auto fail = [&](Status s) {
    c.Rollback();
    return s;
  };
  // Two servers starting at once on one PostgreSQL: the second waits here
  // until the first has migrated (SQLite's BEGIN IMMEDIATE does the same).
  if (c.dialect() == Dialect::kPostgres) {
    if (auto r = c.Query("SELECT pg_advisory_xact_lock(7235001)", {}); !r.ok()) return fail(r.status());
  }
  if (Status s = c.Exec("CREATE TABLE IF NOT EXISTS wattprint_schema (version BIGINT NOT NULL)"); !s.ok()) {
    return fail(s);
  }
  auto rows = c.Query("SELECT MAX(version) FROM wattprint_schema", {});
  if (!rows.ok()) return fail(rows.status());
  const int64_t have = rows->empty() || (*rows)[0].IsNull(0) ? 0 : (*rows)[0].Int(0);
  if (have > SchemaVersion()) {
    c.Rollback();
    return Status::NotSupported("the database's schema is version " + std::to_string(have) +
                                ", written by a newer wattprint; this one knows up to version " +
                                std::to_string(SchemaVersion()) + ": upgrade wattprint");
  }
  for (int64_t v = have; v < SchemaVersion(); ++v) {
    if (Status s = c.Exec(kMigrations[v]); !s.ok()) return fail(s);
  }
  if (have < SchemaVersion()) {
    if (auto r = c.Query("DELETE FROM wattprint_schema", {}); !r.ok()) return fail(r.status());
    if (auto r = c.Query("INSERT INTO wattprint_schema (version) VALUES (?)", {int64_t{SchemaVersion()}}); !r.ok()) {
      return fail(r.status());
    }
  }
  return c.Commit();
}

}  // namespace wattprint::store
