// The model's rows: column lists, what reads a Row into a struct and what
// writes a struct into values, for store.cpp. Kept together so that a
// column list and its reader cannot drift apart.
#pragma once

#include <string>
#include <vector>

#include "store/db.h"
#include "wattprint/store.h"

namespace wattprint::store {

inline constexpr const char* kOrgColumns = "id, name, description, created_us";
inline constexpr const char* kProjectColumns = "id, organization_id, name, description, is_public, created_us";
inline constexpr const char* kExperimentColumns =
    "id, project_id, name, description, created_us, on_cloud, country_name, country_iso_code, region, "
    "cloud_provider, cloud_region";
inline constexpr const char* kRunColumns =
    "id, experiment_id, source, start_us, end_us, host, os, python_version, tool_version, cpu_model, gpu_model, "
    "tracking_mode, region, provider, cpu_count, gpu_count, ram_total_gb, longitude, latitude, cpu_kwh, gpu_kwh, "
    "ram_kwh, energy_kwh, emissions_kg, duration_s, water_l, intensity_g_per_kwh, intensity_source, "
    "intensity_basis, cluster, job_id, step, node, user_name, account, complete, interval_count, intensity_year, "
    "zone, country, cpu_method, gpu_method, ram_method, job_partition, embodied_kg";
inline constexpr const char* kIntervalColumns =
    "seq, start_us, end_us, cpu_kwh, gpu_kwh, ram_kwh, energy_kwh, emissions_kg, duration_s, water_l, "
    "cpu_power_w, gpu_power_w, ram_power_w, cpu_utilization, gpu_utilization, ram_utilization";
inline constexpr const char* kInsertInterval =
    "INSERT INTO intervals (run_id, seq, project_id, start_us, end_us, cpu_kwh, gpu_kwh, ram_kwh, energy_kwh, "
    "emissions_kg, duration_s, water_l, cpu_power_w, gpu_power_w, ram_power_w, cpu_utilization, gpu_utilization, "
    "ram_utilization) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* kTotalsColumns =
    "COUNT(*), COALESCE(SUM(interval_count), 0), COALESCE(SUM(cpu_kwh), 0), COALESCE(SUM(gpu_kwh), 0), "
    "COALESCE(SUM(ram_kwh), 0), COALESCE(SUM(energy_kwh), 0), COALESCE(SUM(emissions_kg), 0), "
    "COALESCE(SUM(duration_s), 0), COALESCE(SUM(water_l), 0), COALESCE(MIN(start_us), 0), COALESCE(MAX(end_us), 0), "
    "COALESCE(SUM(duration_s * gpu_count), 0) / 3600.0, COALESCE(SUM(embodied_kg), 0), COUNT(embodied_kg)";
inline constexpr const char* kTokenColumns =
    "id, kind, scope_id, can_read, can_write, label, created_us, revoked_us";

Organization ReadOrganization(const Row& r);
Project ReadProject(const Row& r);
Experiment ReadExperiment(const Row& r);
Run ReadRun(const Row& r);  // kRunColumns, then record_json
Interval ReadInterval(const Row& r);
SeriesPoint ReadSeriesPoint(const Row& r);
Totals ReadTotals(const Row& r, size_t first);  // kTotalsColumns from column `first`
Token ReadToken(const Row& r);
Budget ReadBudget(const Row& r);  // account, year, kg, updated_us

std::vector<Value> IntervalValues(const std::string& run_id, const std::string& project_id, const Interval& iv);

// A new run row, under its experiment's project and organisation. NotFound
// when the experiment does not exist. A taken id is AlreadyExists; with
// if_absent, nothing is inserted and false is returned instead.
Result<bool> InsertRun(Connection& c, const Run& run, bool if_absent);
// Gives an existing run its final record: every figure and field from run.
Status CompleteRun(Connection& c, const Run& run);
// Adds to a run's figures and interval count, and moves its end to the last
// interval's.
Status AddToRun(Connection& c, const std::string& run_id, const Figures& sum, int64_t added,
                const std::vector<Interval>& intervals);

void Add(Figures& into, const Figures& f);
// Adds a node's totals to a job's: the span widens, the figures add up.
void Join(Totals& into, const Totals& t);

// "wpt_" then 64 hex digits of OpenSSL's CSPRNG: 256 bits.
Result<std::string> NewTokenSecret();
// SHA-256 of the secret, in hex. A token carries 256 random bits, so a fast
// hash suffices (a slow, salted one defends guessable passwords).
std::string SecretHash(const std::string& secret);

}  // namespace wattprint::store
