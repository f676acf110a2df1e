// The three subcommands, and the assembly steps they share (session.cpp):
// configuration -> sources, tracker options, intensity, metadata, outputs.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "output/sysinfo.h"
#include "wattprint/config.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"
#include "wattprint/live_intensity.h"
#include "wattprint/location.h"
#include "wattprint/report.h"
#include "wattprint/session.h"
#include "wattprint/sources.h"
#include "wattprint/tracker.h"

namespace wattprint::cli {

// `wattprint run -- CMD...`: returns the command's exit code, 128+signal if
// it was killed, 126/127 if it could not be started, 2 on bad config.
int RunCommand(const Config& cfg, const std::vector<std::string>& command);
// Carbon-aware start: `run --wait-for-intensity-below G --max-wait DURATION`.
struct WaitOptions {
  std::optional<double> below_g_per_kwh;
  std::optional<Duration> max_wait;
  // `run --attach PID`: measure that running process's tree instead of
  // starting a command, until it exits or SIGINT/SIGTERM (the Slurm
  // plugin's measuring process).
  pid_t attach = 0;
};
int RunCommand(const Config& cfg, const std::vector<std::string>& command, const WaitOptions& wait);
// "90s", "30m", "2h", "1h30m", "45" (seconds); InvalidArgument otherwise.
Result<Duration> ParseDuration(std::string_view text);
// `wattprint job JOBID`: a cluster job over its nodes, from the collector.
struct JobOptions {
  std::string job_id, cluster;
  bool block = false;  // the short block for the end of a job's output
  bool json = false;
};
int JobCommand(const Config& cfg, const JobOptions& options);
// `wattprint budget set|status|check`: yearly CO2e budgets of Slurm
// accounts (docs/SLURM.md). check exits 0 to allow a job and 1 to refuse it.
struct BudgetOptions {
  std::string action;  // "set", "status" or "check"
  std::string account;
  int64_t year = 0;    // 0: the budget year now
  double kg = -1;
  std::string policy = "allow";  // check, when the collector cannot answer
  double cache_ttl_s = 30;       // check's cache of the collector's answer
  bool json = false;
};
int BudgetCommand(const Config& cfg, const BudgetOptions& options);
// `wattprint report FILES... | --project ID`: a carbon statement for a
// paper with its tables and plots (docs/REPORT.md); 0 when written, 2 for
// bad usage or input, 1 when the collector or the output fails.
struct ReportCliOptions {
  std::vector<std::string> inputs;  // JSON records and emissions.csv files
  std::string format = "md";        // md | html | tex
  std::string output;               // "" or "-": stdout (md and tex then have no plots)
  std::string title, date;          // date: shown as written, never the clock's
  int places = 5;
  // A selection from the collector: a project's runs, optionally of one
  // experiment, one Slurm job, and a time range (ISO 8601).
  std::string project, experiment, job, from, to;
};
int ReportCommand(const Config& cfg, const ReportCliOptions& options);
// `wattprint predict RECORD.json --tasks N`: the run's energy, CO2e and
// duration after N tasks, from the tasks the record holds (docs/PREDICT.md);
// 0 when printed, 2 for bad usage or a record without tasks.
struct PredictOptions {
  std::string record;
  int tasks = 0;
  double confidence = 0.9;
  bool json = false;
};
int PredictCommand(const Config& cfg, const PredictOptions& options);
// `wattprint monitor`: the whole machine until SIGINT/SIGTERM/SIGHUP.
int MonitorCommand(const Config& cfg);
// `wattprint doctor`: what wattprint can see, on stdout.
int DoctorCommand(const Config& cfg, const std::vector<std::string>& config_files);

// `wattprint intensity`: the configured location's intensity and provenance.
struct IntensityOptions {
  bool list = false;    // every zone and cloud region instead
  bool json = false;    // JSON on stdout
  std::string dataset;  // electricitymaps | ember | unfccc; empty = default
};
int IntensityCommand(const Config& cfg, const IntensityOptions& opt);

// `wattprint compare RUN | --energy-kwh X`.
inline constexpr int kLastRow = -1;  // CompareOptions::row when --row is not given
struct CompareOptions {
  std::string run;                  // emissions CSV or JSON record
  std::optional<double> energy_kwh;
  int row = kLastRow;               // CSV data row, 1-based
  int top = 5;                      // how many zones and cloud regions
  bool json = false;
};
int CompareCommand(const Config& cfg, const CompareOptions& opt);

// `wattprint upload [RECORD.json...]`: sends the spool, then each record
// (spooled first, so nothing is lost); 0 when everything is stored, 1 when
// something stays spooled or was refused.
int UploadCommand(const Config& cfg, const std::vector<std::string>& records);


SourceOptions MakeSourceOptions(const Config& cfg);
TrackerOptions MakeTrackerOptions(const Config& cfg);
// The intensity for a run: ExplicitIntensity (wattprint/session.h), else the
// location from cloud metadata or the time zone, else the world average
// (labelled as the default, never a specific place), in the configured basis
// (ChooseIntensity). `where`, when given, receives the location that was
// used; `other`, the other basis when known.
Result<IntensityTimeline> ResolveIntensity(const Config& cfg, Location* where = nullptr,
                                           std::optional<IntensityTimeline>* other = nullptr);

// Location and live intensity (live_setup.cpp), with this process's
// environment: CacheDirFor and LocationOptionsFor (wattprint/session.h).
std::string CacheDir();
LocationOptions MakeLocationOptions(const Config& cfg);

// Finds the location and polls the live provider on background threads
// while the command runs, so it never waits for them. Construct after the
// signals are blocked (the threads inherit the mask).
class BackgroundIntensity {
 public:
  // `given`: ExplicitIntensity(cfg), when the caller already looked it up.
  explicit BackgroundIntensity(const Config& cfg, std::optional<IntensityTimeline> given = std::nullopt);
  ~BackgroundIntensity();
  // Waits for the location (bounded by the metadata timeouts) and any
  // request in flight; InvalidArgument for a bad explicit location.
  Result<IntensityChoice> Finish();

 private:
  Config cfg_;
  std::optional<IntensityTimeline> given_;
  std::shared_future<Location> location_;
  std::unique_ptr<LivePoller> poller_;
};

// Metadata from the system plus the config's names and PUE.
RunMetadata MakeMetadata(const Config& cfg);

// The live status line: on a TTY stderr (TERM set and not "dumb") and
// without --quiet, FormatLiveStatus after every background sample, drawn on
// the terminal's last row, which a scrolling region keeps apart from the
// command's output (session.cpp).
class LiveStatus {
 public:
  // `base` is read on the sampler thread; it must outlive the tracker's run
  // and not change while the tracker runs.
  LiveStatus(const Config& cfg, const RunResult* base);
  // The TrackerOptions::on_sample callback (empty when disabled).
  std::function<void(const Ledger&)> Callback();
  // Erases the line and resets the scrolling region, if a line was drawn.
  // Call once the sampler has stopped.
  void Clear();

 private:
  std::string ReserveSequence(int rows);

  const RunResult* base_;
  bool enabled_ = false;
  std::atomic<int> rows_{0};  // the terminal height the region was set for; 0: none

};

// Appends the CSV row for points [from, to] (unless --no-save) and writes
// the JSON record (if --json). Failures are printed on stderr; returns
// false if any output could not be written.
bool SaveOutputs(const Config& cfg, const RunResult& run, size_t from, size_t to, bool with_json);
// Sends the run's record to the collector when one is configured, within
// collector_wait; says (even with --quiet) where it went when not stored.
void SendToCollector(const Config& cfg, const RunResult& run);

}  // namespace wattprint::cli
