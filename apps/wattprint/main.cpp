// The `wattprint` command: parse the command line, load the layered
// configuration, and hand over to run, monitor or doctor. Usage and
// configuration errors print one line on stderr and exit 2.
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "options.h"

namespace {

using wattprint::ConfigKey;
using wattprint::ConfigKeys;
using wattprint::cli::UsageError;

// CLI11 type names shown in --help.
const char* TypeName(std::string_view key) {
  if (key == "interval" || key == "save_interval") return "SECONDS";
  if (key == "cpu_power") return "W";
  if (key == "pue") return "RATIO";
  if (key == "intensity") return "G";
  if (key == "intensity_year") return "YEAR";
  if (key == "cloud_provider") return "aws|gcp|azure";
  if (key == "cloud_region" || key == "region" || key == "zone") return "NAME";
  if (key == "scope") return "machine|process";
  if (key == "output_dir" || key == "sysfs_root" || key == "procfs_root") return "DIR";
  if (key == "json" || key == "nvml_library" || key == "rocm_smi_library") return "FILE";
  if (key == "gpu_ids") return "IDS";
  if (key == "prometheus") return "HOST:PORT";
  if (key == "pushgateway") return "URL";
  if (key == "pushgateway_job") return "NAME";
  if (key == "pushgateway_interval") return "SECONDS";
  if (key == "attribute") return "none|cgroups";
  if (key == "cgroup_depth") return "N";
  if (key == "cgroup_parents") return "PATHS";
  if (key == "live_cache_ttl") return "SECONDS";
  if (key == "uk_region") return "ID";
  if (key == "metadata_endpoint" || key == "electricitymaps_url" || key == "uk_intensity_url") return "URL";
  if (key == "live_intensity") return "off|electricitymaps|uk";
  if (key == "intensity_basis") return "average|marginal";
  if (key == "output_file") return "NAME";
  return "TEXT";
}

// The flags one subcommand registered, and where CLI11 stores their values.
class SharedFlags {
 public:
  // Registers a flag for every key in ConfigKeys(); save_interval only when
  // `with_save_interval` (monitor).
  void Register(CLI::App* cmd, bool with_save_interval);
  // Registers flags for only these keys (commands that take a location).
  void RegisterKeys(CLI::App* cmd, std::span<const std::string_view> keys);
  // The flags actually given, as (key, raw value) for LoadConfig.
  std::vector<std::pair<std::string, std::string>> Given() const;

 private:
  struct Entry {
    std::string key;
    CLI::Option* option = nullptr;
    bool is_bool = false;
  };
  void Add(CLI::App* cmd, const ConfigKey& k);
  std::vector<Entry> entries_;
  std::map<std::string, std::string> values_;  // key -> raw text (node-stable)
  std::map<std::string, bool> bools_;
};

void SharedFlags::Add(CLI::App* cmd, const ConfigKey& k) {
  const std::string key = k.key;
  Entry e{key, nullptr, k.type == ConfigKey::Type::kBool};
  if (e.is_bool) {
    e.option = cmd->add_flag(k.flag, bools_[key], k.help);
  } else {
    e.option = cmd->add_option(k.flag, values_[key], k.help)->type_name(TypeName(key));
  }
  entries_.push_back(std::move(e));
}

void SharedFlags::Register(CLI::App* cmd, bool with_save_interval) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (std::string_view(k.key) == "save_interval" && !with_save_interval) continue;
    // The collector server's keys: its own binary's flags (apps/collector).
    if (std::string_view(k.key) == "db" || std::string_view(k.key) == "listen") continue;
    const std::string_view key = k.key;
    const bool monitor_only = key == "prometheus" || key == "attribute" || key == "cgroup_depth" || key == "cgroup_parents";
    if (monitor_only && !with_save_interval) continue;  // monitor's alone
    if (key.starts_with("pushgateway") && with_save_interval) continue;  // run's alone
    Add(cmd, k);
  }
}

void SharedFlags::RegisterKeys(CLI::App* cmd, std::span<const std::string_view> keys) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (std::find(keys.begin(), keys.end(), std::string_view(k.key)) != keys.end()) Add(cmd, k);
  }
}

std::vector<std::pair<std::string, std::string>> SharedFlags::Given() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : entries_) {
    if (e.option->count() == 0) continue;
    if (e.is_bool) {
      // --quiet sets quiet; --no-save and the other --no-* flags clear theirs.
      bool negative = false;
      for (const ConfigKey& k : ConfigKeys()) {
        if (e.key == k.key) negative = std::string_view(k.flag).rfind("--no-", 0) == 0;
      }
      out.emplace_back(e.key, e.key == "save_to_file" || negative ? "false" : "true");
    } else {
      out.emplace_back(e.key, values_.at(e.key));
    }
  }
  return out;
}

// CLI11's message, plus where to look for the right spelling.
// An unknown option before `--` reaches CLI11 as an extra positional: say
// "unknown option --bogus", not "not expected: -- --bogus".
int ParseFailure(const CLI::ParseError& e, const std::string& command) {
  std::string msg = e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  constexpr std::string_view kExtras = "The following arguments were not expected: ";
  if (msg.starts_with(kExtras)) {
    std::string rest = msg.substr(kExtras.size());
    if (rest.starts_with("-- ")) rest.erase(0, 3);
    const std::string first = rest.substr(0, rest.find(' '));
    if (first.starts_with("-")) msg = "unknown option " + first;
  }
  return UsageError(msg + "; run 'wattprint " + command + "--help' for usage");
}

// The subcommand named on the command line: the first argument that is not
// an option. Only that subcommand's flags are registered (each costs CLI11
// an allocation-heavy Option), the others are listed by name for --help.
std::string_view Invoked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') return argv[i];
  }
  return {};
}

constexpr const char* kCommands[] = {"run",    "monitor", "doctor", "intensity", "compare",
                                     "upload", "job",     "budget", "report",    "predict", "serve", "admin"};

// `serve` and `admin` are wattprint-collector's, installed beside this
// binary: it links libpq, libsqlite3 and libssl, which `run` must not load.
int RunCollector(char** argv) {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string path = "wattprint-collector";
  if (n > 0) {
    self[n] = '\0';
    std::string dir(self);
    path = dir.substr(0, dir.rfind('/') + 1) + "wattprint-collector";
  }
  execv(path.c_str(), argv);
  std::fprintf(stderr, "wattprint: error: cannot run %s: %s (it is installed with wattprint)\n", path.c_str(),
               std::strerror(errno));
  return 1;
}

// Every subcommand, its flags and where CLI11 stores their values. Only the
// invoked subcommand gets its flags; the others are listed for --help.
// Not copyable: CLI11 holds pointers into it.
struct Commands {
  Commands() = default;
  Commands(const Commands&) = delete;
  Commands& operator=(const Commands&) = delete;

  void Add(CLI::App& app, std::string_view invoked) {
    run = app.add_subcommand("run", "Run a command and report its energy and emissions");
    if (invoked == "run") AddRunFlags();
    monitor = app.add_subcommand("monitor", "Track the whole machine until interrupted (Ctrl-C)");
    if (invoked == "monitor") monitor_flags.Register(monitor, true);
    doctor = app.add_subcommand("doctor", "Show which energy sources work here and how to fix the others");
    if (invoked == "doctor") doctor_flags.Register(doctor, false);
    intensity = app.add_subcommand(
        "intensity", "Show the grid carbon intensity of a location and where the figure comes from");
    if (invoked == "intensity") AddIntensityFlags();
    compare = app.add_subcommand(
        "compare", "Show what a finished run would have emitted in the lowest-intensity zones and cloud regions");
    if (invoked == "compare") AddCompareFlags();
    upload = app.add_subcommand(
        "upload", "Send the spooled records, and these JSON records or emissions.csv files, to the collector");
    if (invoked == "upload") AddUploadFlags();
    job = app.add_subcommand("job", "Show a cluster job's energy and CO2e over its nodes, from the collector");
    if (invoked == "job") AddJobFlags();
    budget = app.add_subcommand("budget", "Set and show the yearly CO2e budgets of Slurm accounts; check one");
    if (invoked == "budget") AddBudgetFlags();
    report = app.add_subcommand("report", "Write a carbon statement for a paper, with tables and plots, from runs");
    if (invoked == "report") AddReportFlags();
    predict = app.add_subcommand("predict", "Predict a run's energy, CO2e and duration after N tasks from its first ones");
    if (invoked == "predict") AddPredictFlags();
    // Listed for --help only: main() hands them to wattprint-collector.
    app.add_subcommand("serve", "Serve the collector that gathers every run of an organisation (docs/COLLECTOR.md)");
    app.add_subcommand("admin", "Create and list the collector's organisations, projects and tokens");
  }

  // "run " etc. for the parsed subcommand, "" for none.
  std::string ParsedName() const {
    for (CLI::App* s : {run, monitor, doctor, intensity, compare, upload, job, budget, report, predict}) {
      if (s->parsed()) return s->get_name() + " ";
    }
    return "";
  }

  const SharedFlags& ParsedFlags() const {
    return run->parsed()         ? run_flags
           : monitor->parsed()   ? monitor_flags
           : intensity->parsed() ? intensity_flags
           : compare->parsed()   ? compare_flags
           : upload->parsed()    ? upload_flags
           : job->parsed()       ? job_flags
           : budget->parsed()    ? budget_flags
           : report->parsed()    ? report_flags
           : predict->parsed()   ? predict_flags
                                 : doctor_flags;
  }

  // Runs the parsed subcommand; returns the process exit code.
  int Dispatch(const wattprint::Config& cfg, const std::vector<std::string>& files) const {
    if (run->parsed()) {
      wattprint::cli::WaitOptions wait;
      wait.attach = attach_pid;
      if (attach_pid > 0 && !command.empty()) return UsageError("give a command or --attach PID, not both");
      if (attach_pid == 0 && command.empty()) return UsageError("command is required (or --attach PID); run 'wattprint run --help' for usage");
      if (wait_opt != nullptr && wait_opt->count() > 0) {
        wattprint::Result<wattprint::Duration> d = wattprint::cli::ParseDuration(max_wait);
        if (!d.ok()) return UsageError("--max-wait " + max_wait + ": " + d.status().message());
        wait.below_g_per_kwh = wait_below;
        wait.max_wait = *d;
      }
      const int code = wattprint::cli::RunCommand(cfg, command, wait);
      // Everything is written and closed: skip the static destructors (CLI11's
      // validators, the locale) that would only delay handing back the code.
      std::fflush(nullptr);
      std::_Exit(code);
    }
    if (monitor->parsed()) return wattprint::cli::MonitorCommand(cfg);
    if (intensity->parsed()) return wattprint::cli::IntensityCommand(cfg, intensity_opt);
    if (compare->parsed()) return wattprint::cli::CompareCommand(cfg, compare_opt);
    if (upload->parsed()) return wattprint::cli::UploadCommand(cfg, upload_files);
    if (job->parsed()) return wattprint::cli::JobCommand(cfg, job_opt);
    if (report->parsed()) return wattprint::cli::ReportCommand(cfg, report_opt);
    if (predict->parsed()) return wattprint::cli::PredictCommand(cfg, predict_opt);
    if (budget->parsed()) {
      wattprint::cli::BudgetOptions o = budget_opt;
      o.action = budget_set->parsed() ? "set" : budget_check->parsed() ? "check" : "status";
      return wattprint::cli::BudgetCommand(cfg, o);
    }
    return wattprint::cli::DoctorCommand(cfg, files);
  }

 private:
  // Location keys shared by intensity and compare.
  static constexpr std::string_view kLocationKeys[] = {
      "country", "region", "zone", "cloud_provider", "cloud_region", "intensity", "intensity_year"};

  void AddRunFlags() {
    run_flags.Register(run, false);
    run->add_option("command", command, "Run this command with its arguments (put it after --)");
    run->add_option("--attach", attach_pid,
                    "Measure the running process PID and its children instead, until it exits or SIGINT/SIGTERM")
        ->type_name("PID")
        ->check(CLI::Range(1, 1 << 30));
    wait_opt = run->add_option("--wait-for-intensity-below", wait_below,
                               "Start CMD once the live grid intensity is below G g CO2e/kWh")
                   ->type_name("G")
                   ->check(CLI::Range(0.001, 10000.0).description(""));
    CLI::Option* max_wait_opt =
        run->add_option("--max-wait", max_wait, "Wait at most DURATION (90s, 30m, 2h) for low intensity")
            ->type_name("DURATION");
    wait_opt->needs(max_wait_opt);
    max_wait_opt->needs(wait_opt);
  }

  void AddIntensityFlags() {
    intensity_flags.RegisterKeys(intensity, kLocationKeys);
    intensity->add_flag("--list", intensity_opt.list, "List every grid zone and cloud region instead");
    intensity->add_flag("--json", intensity_opt.json, "Print JSON instead of text");
    intensity->add_option("--dataset", intensity_opt.dataset,
                          "Use this data set instead of the default (electricitymaps, ember or unfccc)")
        ->type_name("NAME");
  }

  void AddCompareFlags() {
    compare_flags.RegisterKeys(compare, kLocationKeys);
    compare->add_option("run", compare_opt.run, "Read the run from this emissions CSV or JSON record");
    compare->add_option("--energy-kwh", compare_opt.energy_kwh, "Compare this energy in kWh instead of a run")
        ->type_name("KWH");
    compare->add_option("--row", compare_opt.row, "Use this data row of the CSV (1 = first; default: last)")
        ->type_name("N");
    compare->add_option("--top", compare_opt.top, "Show this many zones and cloud regions (default 5)")
        ->type_name("N");
    compare->add_flag("--json", compare_opt.json, "Print JSON instead of text");
  }

  void AddUploadFlags() {
    static constexpr std::string_view kKeys[] = {"collector_url", "collector_token", "spool_dir", "collector_wait"};
    upload_flags.RegisterKeys(upload, kKeys);
    upload->add_option("files", upload_files, "Also send these JSON records (what --json wrote) and the runs of these emissions.csv files");
  }

  static constexpr std::string_view kCollectorKeys[] = {"collector_url", "collector_token"};

  void AddJobFlags() {
    static constexpr std::string_view kKeys[] = {"collector_url", "collector_token", "cluster"};
    job_flags.RegisterKeys(job, kKeys);
    job->add_option("job", job_opt.job_id, "Show this job id")->required();
    job->add_flag("--block", job_opt.block, "Print the short block that ends a job's output instead");
    job->add_flag("--json", job_opt.json, "Print the collector's JSON instead");
  }

  void AddReportFlags() {
    report_flags.RegisterKeys(report, kCollectorKeys);
    report->add_option("inputs", report_opt.inputs, "Report these JSON records (what --json wrote) and emissions.csv files");
    report->add_option("--format", report_opt.format, "Write md (default), html (one file, plots inline) or tex")
        ->type_name("md|html|tex");
    report->add_option("-o,--output", report_opt.output,
                       "Write to FILE, and the plots (and wattprint.bib for tex) into FILE's stem + _files/")
        ->type_name("FILE");
    report->add_option("--title", report_opt.title, "Title the report (default: Carbon footprint)");
    report->add_option("--date", report_opt.date, "Date the report with TEXT (default: undated)")->type_name("TEXT");
    report->add_option("--places", report_opt.places, "Show this many cleanest zones and cloud regions (default 5)")
        ->type_name("N")
        ->check(CLI::Range(1, 50));
    report->add_option("--project", report_opt.project, "Read the runs of this collector project")->type_name("ID");
    report->add_option("--experiment", report_opt.experiment, "Only its runs of this experiment")->type_name("ID");
    report->add_option("--job", report_opt.job, "Only the runs of this Slurm job id")->type_name("JOBID");
    report->add_option("--from", report_opt.from, "Only runs from this time (ISO 8601)")->type_name("TIME");
    report->add_option("--to", report_opt.to, "Only runs until this time (ISO 8601)")->type_name("TIME");
  }

  void AddPredictFlags() {
    static constexpr std::string_view kKeys[] = {
        "collector_url", "collector_token", "live_intensity", "electricitymaps_token", "electricitymaps_url",
        "uk_intensity_url", "uk_region", "live_cache_ttl", "country", "region", "zone"};
    predict_flags.RegisterKeys(predict, kKeys);
    predict->add_option("record", predict_opt.record, "Predict from the tasks of this JSON record (what --json wrote)")
        ->required();
    predict->add_option("--tasks", predict_opt.tasks, "Predict the whole run of N tasks (epochs)")
        ->type_name("N")
        ->required();
    predict->add_option("--confidence", predict_opt.confidence, "Give intervals at this level (default 0.9)")
        ->type_name("LEVEL");
    predict->add_flag("--json", predict_opt.json, "Print JSON instead of text");
  }

  void AddBudgetFlags() {
    budget_flags.RegisterKeys(budget, kCollectorKeys);
    budget->require_subcommand(1);
    budget_set = budget->add_subcommand("set", "Set an account's CO2e budget for a year (needs the admin token)");
    budget_set->add_option("account", budget_opt.account, "Set this Slurm account's budget")->required();
    budget_set->add_option("--year", budget_opt.year, "For this budget year (the year it starts in)")
        ->type_name("YEAR")
        ->required();
    budget_set->add_option("--kg", budget_opt.kg, "Allow this many kg CO2e in the year")->type_name("KG")->required();
    budget_status = budget->add_subcommand("status", "Show spent, left, the share of the year gone and a projection");
    budget_status->add_option("account", budget_opt.account, "Show only this account");
    budget_status->add_option("--year", budget_opt.year, "For this year (default: this year)")->type_name("YEAR");
    budget_status->add_flag("--json", budget_opt.json, "Print the collector's JSON instead");
    budget_check = budget->add_subcommand(
        "check", "Say whether a job of ACCOUNT may start: exit 0 (a warning line at 80 and 95 %) or 1 (over budget)");
    budget_check->add_option("account", budget_opt.account, "Check this Slurm account")->required();
    budget_check->add_option("--policy", budget_opt.policy,
                             "When the collector cannot answer: allow (with a warning) or refuse (default allow)")
        ->type_name("allow|refuse");
    for (CLI::App* sub : {budget_set, budget_status}) sub->fallthrough();
    budget_check->fallthrough();
    budget_check->add_option("--cache-ttl", budget_opt.cache_ttl_s,
                             "Reuse the collector's answer for SECONDS (default 30; 0: always ask)")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.0, 3600.0));
  }

  CLI::App* report = nullptr;
  CLI::App* predict = nullptr;
  SharedFlags predict_flags;
  wattprint::cli::PredictOptions predict_opt;
  SharedFlags report_flags;
  wattprint::cli::ReportCliOptions report_opt;
  CLI::App* job = nullptr;
  CLI::App* budget = nullptr;
  CLI::App* budget_set = nullptr;
  CLI::App* budget_status = nullptr;
  CLI::App* budget_check = nullptr;
  SharedFlags job_flags, budget_flags;
  wattprint::cli::JobOptions job_opt;
  wattprint::cli::BudgetOptions budget_opt;
  CLI::App* run = nullptr;
  CLI::App* monitor = nullptr;
  CLI::App* doctor = nullptr;
  CLI::App* intensity = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* upload = nullptr;
  SharedFlags run_flags, monitor_flags, doctor_flags, intensity_flags, compare_flags, upload_flags;
  std::vector<std::string> upload_files;
  std::vector<std::string> command;
  int attach_pid = 0;
  double wait_below = 0;
  std::string max_wait;
  CLI::Option* wait_opt = nullptr;
  wattprint::cli::IntensityOptions intensity_opt;
  wattprint::cli::CompareOptions compare_opt;
};

}  // namespace

// `run --attach` is stopped with SIGINT, and may be at once (a Slurm step
// that ends in milliseconds): the stop signals are held from the first
// instruction, so that the record is still written; run's signalfd reads
// them once it is ready.
void HoldStopSignalsWhenAttaching(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") return;
    if (a == "--attach" || a.starts_with("--attach=")) {
      sigset_t set;
      sigemptyset(&set);
      for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      return;
    }
  }
}

int main(int argc, char** argv) {
  HoldStopSignalsWhenAttaching(argc, argv);
  CLI::App app{"Measure the energy and CO2e of a command or of the whole machine.", "wattprint"};
  app.set_version_flag("--version", "wattprint " WATTPRINT_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: run returns the command's code (128+N if killed by signal N, 127 if\n"
             "not found, 126 if not executable); 2 means a usage or configuration error.");

  const std::string_view invoked = Invoked(argc, argv);
  if (invoked == "serve" || invoked == "admin") return RunCollector(argv);
  const std::vector<std::string> names(std::begin(kCommands), std::end(kCommands));
  if (!invoked.empty() && std::find(names.begin(), names.end(), invoked) == names.end()) {
    const std::string near = wattprint::ClosestMatch(invoked, names);
    return UsageError("unknown command '" + std::string(invoked) + "'" +
                      (near.empty() ? "" : "; did you mean '" + near + "'?") +
                      " (commands: run, monitor, doctor, intensity, compare, upload, job, budget, report, predict, serve, admin)");
  }
  Commands commands;
  commands.Add(app, invoked);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return ParseFailure(e, commands.ParsedName());
  }
  std::vector<std::string> files;
  wattprint::Result<wattprint::Config> cfg =
      wattprint::cli::ResolveConfig(commands.ParsedFlags().Given(), &files);
  if (!cfg.ok()) return UsageError(cfg.status().message());
  try {
    return commands.Dispatch(*cfg, files);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprint: error: %s\n", e.what());
    return 1;
  }
}
