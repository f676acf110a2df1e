// A finished (or flushed) run, and the output formats built from it:
// the CodeCarbon-compatible emissions.csv row, the JSON record, and the
// human summary printed by `wattprint run`.
//
// Thread safety: value types and pure functions, except AppendCsvRow, which
// takes an exclusive flock on the file so concurrent writers never interleave.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wattprint/emissions.h"
#include "wattprint/ledger.h"
#include "wattprint/sources.h"
#include "wattprint/tracker.h"

namespace wattprint {

struct RunMetadata {
  std::string run_id;          // UUID v4
  std::string project_name = "codecarbon";
  std::string experiment_id = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1";
  std::string experiment_name;
  std::vector<std::string> command;  // for `run`: the tracked command line
  std::string os;              // e.g. "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36"
  std::string python_version;  // empty outside Python
  std::string tool_version;    // wattprint version, in the codecarbon_version column
  int cpu_count = 0;
  std::string cpu_model;
  unsigned long long ram_total_bytes = 0;
  int gpu_count = 0;
  std::string gpu_model;
  std::string cloud_provider;
  std::string cloud_region;
  bool on_cloud = false;
  std::optional<double> longitude;
  std::optional<double> latitude;
  double pue = 1.0;
  double wue = 0.0;
  // For `run`: where the process tree's CPU time came from, e.g.
  // "perf_event task-clock (inherited)" or "procfs walk (perf_event_open:
  // Permission denied)". Empty when no tree was tracked.
  std::string tree_cpu_source;
  std::optional<int> exit_code;  // for `run`
  std::optional<int> signal;     // for `run`, when the command was killed
};

// gpu_count and gpu_model from the GPU channels the sources contribute:
// one GPU per device id; the model groups equal names the way CodeCarbon
// writes them, "2 x NVIDIA H100 80GB HBM3" (", " between different ones).
void AddGpuMetadata(const std::vector<ProbeReport>& reports, RunMetadata* meta);

// What measuring cost: the CPU time and peak RSS of the wattprint process
// itself (getrusage RUSAGE_SELF: all its threads, not the tracked command),
// taken once the tracking has stopped, before the outputs are written.
struct SelfCost {
  double cpu_s = 0.0;
  long peak_rss_kib = 0;
};
// Reads SelfCost for this process; nullopt if getrusage fails.
std::optional<SelfCost> MeasureSelfCost();

struct RunResult {
  RunMetadata meta;
  TrackerSnapshot snapshot;  // ledger + tasks
  std::vector<ProbeReport> sources;
  Scope scope = Scope::kMachine;  // which scope feeds emissions
  IntensityTimeline intensity;
  // The other basis (marginal when `intensity` is the average, or the
  // reverse), when known: the JSON reports emissions under both.
  std::optional<IntensityTimeline> other_intensity;
  SystemTime wall_start;
  std::optional<SelfCost> self_cost;  // the CLI's own cost; absent elsewhere
};

// One CSV row covering polls [from, to] of the run's ledger.
struct CsvRow {
  std::vector<std::string> fields;  // in kCsvColumns order
};
extern const std::vector<std::string> kCsvColumns;

CsvRow MakeCsvRow(const RunResult& run, size_t from_point, size_t to_point,
                  SystemTime row_time);
// Appends a row to dir/file, creating dir and the header as needed. If the
// file exists with a different header it is left untouched and the row goes
// to a sibling file ("emissions.wattprint-1.csv", ...); *written_to says where.
Status AppendCsvRow(const std::string& dir, const std::string& file, const CsvRow& row,
                    std::string* written_to, std::string* note);

// The full JSON record: metadata, sources, channels with method, energy per
// channel/device/kind in both scopes, intensity with provenance, emissions in
// both scopes, tasks, events and the sample time series.
nlohmann::json RunToJson(const RunResult& run);
Status WriteJsonFile(const std::string& path, const RunResult& run);

// The multi-line summary printed on stderr at the end of `run`.
std::string FormatSummary(const RunResult& run);
// One-line live status: current power, energy so far, CO2e so far.
std::string FormatLiveStatus(const RunResult& run);

// Everyday equivalents of a mass of CO2e, each with the source of its factor.
struct Equivalent {
  double amount;
  std::string unit;    // "km driven by an average passenger car"
  std::string source;  // "US EPA Greenhouse Gas Equivalencies (2024): 400 g CO2/mile"
};
std::vector<Equivalent> EverydayEquivalents(Co2e mass);

}  // namespace wattprint
