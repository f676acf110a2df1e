// `wattprint report`: a carbon statement for a paper, with its evidence,
// from one or more runs (JSON records, emissions.csv rows, or runs read
// from the collector). BuildReport computes every figure once: totals, the
// ranges that estimated energy and the intensity's yearly spread give, the
// per-device breakdown, jobs across nodes, the counterfactual places, the
// everyday equivalents and the embodied share (kept apart from operational
// emissions). The renderers only format it: Markdown, one self-contained
// HTML file with inline SVG plots, and LaTeX with a BibTeX entry.
//
// Thread safety: value types and pure functions (the intensity spread reads
// the compiled-in grid tables, which are constant).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wattprint/report.h"
#include "wattprint/run_record.h"
#include "wattprint/status.h"

namespace wattprint {

// A figure and its range; low == high == value when it is exact.
struct Ranged {
  double value = 0, low = 0, high = 0;
  bool exact() const { return low == value && high == value; }
};

// Energy of one device kind in a run, in the run's scope.
struct ReportKind {
  std::string kind;     // "cpu", "dram", "gpu", "platform"
  std::string method;   // "measured_counter", "estimated", "mixed", ...
  std::string model;    // the estimation model, when estimated
  bool counted = true;  // false: a platform channel that includes the CPU
  Ranged kwh;           // no PUE
};

struct ReportTask {
  std::string name;
  double duration_s = 0, kwh = 0, co2e_kg = 0;
};

// Power per device kind over one run: mean watts per sampling interval.
struct PowerTrace {
  std::vector<double> t_s;                         // interval starts, s since the run began
  std::vector<double> t_end_s;                     // interval ends
  std::map<std::string, std::vector<double>> kind_w;  // per kind, parallel to t_s
};

// One run as the report sees it. From a CSV row only the CodeCarbon columns
// are known: `has_record` is false, and methods, bounds, samples and tasks
// are empty.
struct ReportRun {
  std::string id, label;  // run id; "project / experiment"
  std::string origin;     // "run.json", "emissions.csv row 3", "collector run ID"
  bool has_record = false;
  std::string start_iso;  // UTC, "2026-11-30T14:02:11Z"; "" when unknown
  double start_unix_s = 0;  // 0 when unknown
  std::string tool_version;  // wattprint's, from the record
  double duration_s = 0;
  std::string scope = "machine";
  std::optional<int> exit_code;
  // Hardware and place.
  std::string host, cpu_model, gpu_model, os;
  int cpu_count = 0, gpu_count = 0;
  double ram_gb = 0;
  std::string cloud_provider, cloud_region;
  // Slurm, when the run was a job's step on a node.
  std::string cluster, job_id, step_id, node, account, partition;
  double pue = 1;
  // Energy (PUE applied: what fed the emissions) and CO2e, with the ranges
  // of the estimated kinds; the intensity spread is applied in BuildReport.
  Ranged kwh;
  Ranged co2e_kg;
  std::vector<ReportKind> kinds;
  // Intensity: the mean over the run (co2e / energy) and its provenance.
  double g_per_kwh = 0;
  std::string zone, country_name, intensity_source, basis = "average", resolution;
  int intensity_year = 0;
  bool intensity_default = false;  // no location given: the world average
  bool intensity_live = false;     // more than one point: a live provider
  std::vector<ReportTask> tasks;
  PowerTrace power;
  std::optional<EmbodiedRecord> embodied;
};

// A run from its record; `origin` says where it was read.
ReportRun ReportRunFromRecord(const RunRecord& record, std::string origin);
// A run from an emissions.csv row (`header` names the fields, CodeCarbon's
// columns); InvalidArgument naming the column when a figure is missing or
// not a number.
Result<ReportRun> ReportRunFromCsv(const std::vector<std::string>& header,
                                   const std::vector<std::string>& fields, std::string origin);

// Several runs of one Slurm job (a step per node).
struct ReportJob {
  std::string cluster, job_id, account, partition;
  std::vector<std::string> nodes;
  int runs = 0;
  double duration_s = 0;  // the longest step
  Ranged kwh, co2e_kg;
};

struct ReportPlace {
  std::string name, label;
  double g_per_kwh = 0, co2e_kg = 0;
  double change = 0;  // co2e_kg / the report's - 1 (-0.9: 90 % less)
};

// The yearly spread of a zone's Electricity Maps averages.
struct IntensitySpread {
  double low = 0, high = 0;
  int first_year = 0, last_year = 0;
};
// Empty when the zone has fewer than two years (or is not a zone).
std::optional<IntensitySpread> ZoneYearSpread(const std::string& zone);

struct ReportOptions {
  std::string title = "Carbon footprint";
  int places = 5;  // how many cleanest zones and cloud regions
  // Shown in the report; "" = not dated (goldens). Never the time now by
  // default, so a report is reproducible from its inputs.
  std::string generated;
};

struct Report {
  ReportOptions options;
  std::vector<ReportRun> runs;
  std::vector<ReportJob> jobs;
  // Totals over the runs (PUE applied), and CO2e with both the energy's
  // and the intensity's ranges.
  Ranged kwh, co2e_kg;
  double duration_s = 0;
  bool all_measured = true;       // every counted kind of every run measured
  bool any_unknown_method = false;  // runs from CSV rows: method not recorded
  std::vector<std::string> intensity_notes;  // spread per zone, live, default
  std::vector<ReportKind> kinds;  // summed over the runs with a record, by kind
  std::vector<ReportPlace> zones, cloud_regions;
  std::vector<Equivalent> equivalents;
  // Embodied emissions, apart: the sum over the runs that have a figure.
  std::optional<double> embodied_kg;
  int embodied_runs = 0;
  std::vector<std::string> embodied_not_counted;
  std::string statement;  // the paragraph for the paper (plain text)
};

// InvalidArgument when there is no run.
Result<Report> BuildReport(std::vector<ReportRun> runs, ReportOptions options = {});

enum class ReportFormat { kMarkdown, kHtml, kLatex };
Result<ReportFormat> ParseReportFormat(std::string_view text);  // "md", "html", "tex"

// A rendered report: the main text and, for Markdown and LaTeX, the plots
// as separate SVG files that the text refers to as "plot_dir/NAME.svg";
// `files` maps those relative paths to their content. HTML carries its
// plots inline and has no file. LaTeX also gets "wattprint.bib".
struct RenderedReport {
  std::string text;
  std::map<std::string, std::string> files;
};
RenderedReport RenderReport(const Report& report, ReportFormat format, const std::string& plot_dir);

// The BibTeX entry for wattprint.
std::string WattprintBibtex();

}  // namespace wattprint
