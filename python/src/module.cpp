// wattprint._native: the library's tracker, configuration and CSV row, for
// the Python package (python/wattprint). This file only assembles library
// pieces; all measuring is done by wattprint::Tracker's native sampler
// thread, and the GIL is released whenever a call may wait on it.
//
// Errors: invalid settings raise ValueError at construction (the Python
// layer turns nothing into a silent default); a failure while tracking
// raises RuntimeError, which the Python layer logs instead of propagating.
//
// Thread safety: every method may be called from any Python thread. The
// Tracker is internally synchronised; `mu_` guards the RunResult the rows
// are built from.
#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "wattprint/config.h"
#include "wattprint/fs.h"
#include "wattprint/location.h"
#include "wattprint/predict.h"
#include "wattprint/report.h"
#include "wattprint/session.h"
#include "wattprint/sources.h"
#include "wattprint/tracker.h"
#include "wattprint/upload.h"

namespace py = pybind11;

namespace wattprint::python {
namespace {

// (key, value, where, origin): one setting from the Python layer, e.g.
// ("pue", "1.2", "CODECARBON_PUE=1.2", "env CODECARBON_PUE").
using Override = std::tuple<std::string, std::string, std::string, std::string>;
using Fields = std::vector<std::string>;  // a CSV row in kCsvColumns order
// A row as typed values (None, float, int, str; pybind11 converts the
// variant) and as the CSV text the library writes.
using Row = std::pair<std::vector<CsvValue>, Fields>;

struct Inputs {
  std::vector<std::string> environment;
  std::string cwd;
  std::string home;
  std::string xdg_config_home;
  std::vector<Override> overrides;  // applied over the WATTPRINT_* layers
  std::vector<Override> defaults;   // applied only to keys no layer set
  std::optional<double> ram_power_w;
  std::string python_version;
  std::string cloud_provider;
  std::string cloud_region;
  // EmissionsTracker: find the location as the CLI does (cloud metadata,
  // time zone) when none is configured. OfflineEmissionsTracker: never.
  bool detect_location = false;
};

// The variables the location steps read, from the interpreter's os.environ.
LocationEnv EnvOf(const Inputs& in) {
  LocationEnv env;
  for (const std::string& e : in.environment) {
    const std::string_view v(e);
    if (v.starts_with("TZ=")) env.tz = e.substr(3);
    if (v.starts_with("XDG_CACHE_HOME=")) env.xdg_cache_home = e.substr(15);
    if (v.starts_with("XDG_STATE_HOME=")) env.xdg_state_home = e.substr(15);
  }
  env.home = in.home;
  return env;
}

[[noreturn]] void Fail(const Status& st) {
  if (st.code() == Status::Code::kInvalidArgument || st.code() == Status::Code::kNotFound) {
    throw py::value_error(st.message());
  }
  throw std::runtime_error(st.ToString());
}

Config BuildConfig(const Inputs& in) {
  ConfigInputs ci;
  ci.environment = in.environment;
  ci.cwd = in.cwd;
  ci.home = in.home;
  ci.xdg_config_home = in.xdg_config_home;
  Result<Config> loaded = LoadConfig(ci);
  if (!loaded.ok()) Fail(loaded.status());
  Config cfg = std::move(loaded).value();
  for (const auto& [key, value, where, origin] : in.overrides) {
    Status st = ApplyConfigValue(&cfg, key, value, where, origin);
    if (!st.ok()) throw py::value_error(st.message());
  }
  for (const auto& [key, value, where, origin] : in.defaults) {
    if (cfg.origins.count(key) != 0) continue;
    Status st = ApplyConfigValue(&cfg, key, value, where, origin);
    if (!st.ok()) throw py::value_error(st.message());
  }
  return cfg;
}

class NativeTracker {
 public:
  explicit NativeTracker(const Inputs& in) : cfg_(BuildConfig(in)) {
    // Explicit > cloud metadata (cached a day) > time zone > world average.
    // OfflineEmissionsTracker: the configured place only (a default
    // Location resolves to it, or to the world average).
    Location where;
    if (in.detect_location) where = ResolveLocation(LocationOptionsFor(cfg_, EnvOf(in)), *PosixFileSystem());
    // The library's one intensity path, as the CLI's (wattprint/session.h):
    // same basis, same live provider, same provenance.
    Result<IntensityChoice> intensity = ChooseIntensity(cfg_, where);
    if (!intensity.ok()) throw py::value_error(intensity.status().message());
    where_ = where;
    cache_dir_ = CacheDirFor(EnvOf(in));
    SourceOptions sopts = SourceOptionsFor(cfg_);
    if (in.ram_power_w) sopts.ram_power_override = Power::Watts(*in.ram_power_w);
    // As the CLI does: NVIDIA devices follow CUDA_VISIBLE_DEVICES unless
    // gpu_ids names them.
    constexpr std::string_view kCuda = "CUDA_VISIBLE_DEVICES=";
    for (const std::string& e : in.environment) {
      if (std::string_view(e).starts_with(kCuda)) sopts.cuda_visible_devices = e.substr(kCuda.size());
    }
    DiscoveredSources found = DiscoverSources(sopts);
    run_.meta = MetadataFor(cfg_);
    run_.meta.python_version = in.python_version;
    run_.meta.cloud_provider = in.cloud_provider;
    run_.meta.cloud_region = in.cloud_region;
    run_.meta.on_cloud = !in.cloud_provider.empty();
    AddCloudPlacement(where, &run_.meta);  // a detected cloud
    run_.sources = found.reports;
    AddGpuMetadata(found.reports, &run_.meta);
    run_.scope = cfg_.scope;
    run_.intensity = std::move(intensity->chosen);
    run_.other_intensity = std::move(intensity->other);
    TrackerOptions topts = TrackerOptionsFor(cfg_);
    // Process scope follows this interpreter and every process it starts.
    if (cfg_.scope == Scope::kProcess) topts.tree_root = getpid();
    tracker_ = std::make_unique<Tracker>(std::move(topts), std::move(found.sources));
  }

  ~NativeTracker() {
    // After fork the sampler thread does not exist in the child and the
    // tracker's mutex may be held by a thread that is gone: leak both.
    if (abandoned_) {
      (void)tracker_.release();
      (void)poller_.release();
      (void)mu_.release();
    }
  }

  void Start() {
    std::lock_guard<std::mutex> l(*mu_);
    Status st = tracker_->Start();
    if (!st.ok()) Fail(st);
    if (cfg_.live_intensity != LiveSetting::kOff) {
      const Config cfg = cfg_;
      const Location where = where_;
      const std::string cache = cache_dir_;
      poller_ = std::make_unique<LivePoller>([cfg, where, cache] { return MakeLiveIntensity(cfg, where, cache); },
                                             LivePollPeriod(cfg));
      poller_->Start();
    }
  }

  std::string IntensityNote() {
    std::lock_guard<std::mutex> l(*mu_);
    const IntensityProvenance& p = run_.intensity.provenance;
    const double g = run_.intensity.points.empty() ? 0.0 : run_.intensity.points.front().value.g_per_kwh();
    std::string where = p.is_default ? "world average" : !p.country_name.empty() ? p.country_name : p.zone;
    if (!p.region.empty()) where += ", " + p.region;
    std::string text = fmt::format("{:.4g} g CO2e/kWh ({}), {}{}, {} basis; location: {}", g, where, p.source,
                                   p.year > 0 ? fmt::format(" {}", p.year) : "", p.basis, p.resolution);
    if (!p.note.empty()) text += "; " + p.note;
    return text;
  }

  bool LocationIsDefault() {
    std::lock_guard<std::mutex> l(*mu_);
    return run_.intensity.provenance.is_default;
  }

  py::dict Hardware() {
    std::lock_guard<std::mutex> l(*mu_);
    py::dict d;
    d["ram_total_size"] = static_cast<double>(run_.meta.ram_total_bytes) / (1024.0 * 1024.0 * 1024.0);
    d["cpu_count"] = run_.meta.cpu_count;
    d["cpu_model"] = run_.meta.cpu_model;
    d["gpu_count"] = run_.meta.gpu_count;
    d["gpu_model"] = run_.meta.gpu_model;
    return d;
  }

  Row Stop() {
    std::lock_guard<std::mutex> l(*mu_);
    Status st = tracker_->Stop();
    if (!st.ok()) Fail(st);
    if (poller_) {
      // The live readings of the run, combined as the CLI combines them.
      const LiveSeries live = poller_->Stop();
      poller_.reset();
      Result<IntensityChoice> c = ChooseIntensity(cfg_, where_, &live);
      if (c.ok()) {
        run_.intensity = std::move(c->chosen);
        run_.other_intensity = std::move(c->other);
      }
    }
    run_.snapshot = tracker_->Snapshot();
    return WholeRunLocked();
  }

  // A row for everything since start, without stopping.
  Row Flush() {
    std::lock_guard<std::mutex> l(*mu_);
    if (!tracker_->running()) throw std::runtime_error("the tracker is not running");
    run_.snapshot = tracker_->Flush();
    return WholeRunLocked();
  }

  void StartTask(const std::string& name) {
    std::lock_guard<std::mutex> l(*mu_);
    Status st = tracker_->StartTask(name);
    if (!st.ok()) Fail(st);
  }

  // The task's name and its row (the slice between its two readings).
  std::pair<std::string, Row> StopTask() {
    std::lock_guard<std::mutex> l(*mu_);
    Result<TaskRecord> t = tracker_->StopTask();
    if (!t.ok()) Fail(t.status());
    run_.snapshot = tracker_->Snapshot();
    return {t->name, RowLocked(t->from_point, t->to_point)};
  }

  // Appends a row to output_dir/output_file; returns (path, note).
  std::pair<std::string, std::string> AppendRow(const std::string& dir, const std::string& file,
                                                const Fields& fields) const {
    std::string written_to, note;
    Status st = AppendCsvRow(dir, file, CsvRow{fields}, &written_to, &note);
    if (!st.ok()) Fail(st);
    return {written_to, note};
  }

  // The full JSON record of the last stop/flush (see docs/OUTPUTS.md).
  std::string Json() const {
    std::lock_guard<std::mutex> l(*mu_);
    return RunToJson(run_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  // (name, state, reason, fix) of every source probed.
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> Sources() const {
    std::vector<std::tuple<std::string, std::string, std::string, std::string>> out;
    for (const ProbeReport& r : run_.sources) out.emplace_back(r.name, ToString(r.state), r.reason, r.fix);
    return out;
  }

  // Sources that saw a device they could not measure: (name, reason). Its
  // kind's energy is then unknown (None), never a measured 0.
  std::vector<std::pair<std::string, std::string>> Unmeasured() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const ProbeReport& r : run_.sources) {
      if (!r.unmeasured.empty()) out.emplace_back(r.name, r.reason);
    }
    return out;
  }

  // The prediction for a run of `total` tasks from the finished ones
  // (wattprint/predict.h), as (JSON text, text). With live intensity on,
  // the done tasks' CO2e uses the readings so far and the forecast (asked
  // within forecast_timeout_s) the remaining time's. `budget_status`: the
  // collector's HTTP status for GET /api/v1/budgets/ACCOUNT with its body;
  // 0: it could not be asked (budget_note says why); -1: not asked.
  std::pair<std::string, std::string> Predict(int total, double confidence, long budget_status,
                                              const std::string& account, const std::string& budget_body,
                                              const std::string& budget_note, double forecast_timeout_s) {
    RunResult run;
    std::optional<LiveSeries> live;
    std::shared_ptr<LiveIntensity> forecaster;
    {
      std::lock_guard<std::mutex> l(*mu_);
      run = run_;
      if (poller_) live = poller_->Current();
      if (cfg_.live_intensity != LiveSetting::kOff && !forecaster_) {
        forecaster_ = MakeLiveIntensity(cfg_, where_, cache_dir_);
      }
      forecaster = forecaster_;
    }
    if (live && !live->points.empty()) {
      Result<IntensityChoice> c = ChooseIntensity(cfg_, where_, &*live);
      if (c.ok()) run.intensity = std::move(c->chosen);
    }
    run.wall_start = run.snapshot.wall_start;
    Result<PredictionInput> in = PredictionInputFromRun(run, total, confidence);
    if (!in.ok()) Fail(in.status());
    const Result<Prediction> first = wattprint::Predict(*in);
    if (first.ok() && forecaster && first->done_tasks < first->total_tasks) {
      const Seconds span = first->remaining_duration.value;
      const SystemTime now = std::chrono::system_clock::now();
      const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(forecast_timeout_s * 1000));
      ApplyForecast(&in.value(), forecaster->Forecast(now, span, timeout), now, span);
    }
    Result<Prediction> p = wattprint::Predict(*in);
    if (!p.ok()) Fail(p.status());
    if (budget_status == 0) ApplyBudgetFailure(&p.value(), account, budget_note);
    if (budget_status > 0) {
      ApplyBudgetAnswer(&p.value(), account, budget_status, nlohmann::json::parse(budget_body, nullptr, false));
    }
    return {PredictionToJson(*p).dump(), FormatPrediction(*p)};
  }

  bool Running() const { return tracker_->running(); }
  const std::string& IntervalNote() const { return tracker_->interval_note(); }
  void Abandon() { abandoned_ = true; }
  const Config& config() const { return cfg_; }
  const RunMetadata& meta() const { return run_.meta; }

 private:
  Row WholeRunLocked() {
    run_.wall_start = run_.snapshot.wall_start;
    const size_t points = run_.snapshot.ledger->num_points();
    return RowLocked(0, points == 0 ? 0 : points - 1);
  }

  Row RowLocked(size_t from, size_t to) {
    run_.wall_start = run_.snapshot.wall_start;
    CsvRecord record = MakeCsvRecord(run_, from, to, std::chrono::system_clock::now());
    Fields text = FormatCsvRow(record).fields;
    return {std::move(record.values), std::move(text)};
  }

  Config cfg_;
  Location where_;
  std::string cache_dir_;
  std::unique_ptr<LivePoller> poller_;
  // Asks the live provider for forecasts (predict()); made on first use.
  std::shared_ptr<LiveIntensity> forecaster_;
  RunResult run_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::unique_ptr<Tracker> tracker_;
  bool abandoned_ = false;
};

}  // namespace
}  // namespace wattprint::python

PYBIND11_MODULE(_native, m) {
  using namespace wattprint;
  using namespace wattprint::python;
  m.doc() = "wattprint's native tracker (see wattprint.EmissionsTracker)";
  m.attr("CSV_COLUMNS") = kCsvColumns;
  // The message ApplyConfigValue gives for one value on its own ("" when it
  // is accepted), so the Python layer can log a bad one and go on.
  m.def("check_value", [](const std::string& key, const std::string& value, const std::string& where) {
    Config c;
    Status st = ApplyConfigValue(&c, key, value, where, "check");
    return st.ok() ? std::string() : st.message();
  });

  // save_to_api to wattprint's collector: the run's record, spooled first
  // and sent within wait_s (wattprint/upload.h). Returns "" when stored, else
  // a note saying where it is; raises when it could not even be spooled.
  m.def(
      "deliver_record",
      [](const std::string& url, const std::string& token, const std::string& spool_dir, double wait_s,
         const std::string& record) {
        const nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
        if (j.is_discarded() || !j.contains("metadata") || !j["metadata"].contains("run_id")) {
          throw std::invalid_argument("not a wattprint record");
        }
        UploadOptions o;
        o.url = url;
        o.token = token;
        o.spool_dir = spool_dir.empty() ? DefaultSpoolDir() : spool_dir;
        o.wait = std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
        Result<std::string> note = DeliverRecord(o, j["metadata"]["run_id"].get<std::string>(), record);
        if (!note.ok()) throw std::runtime_error(note.status().message());
        return *note;
      },
      py::call_guard<py::gil_scoped_release>());

  py::class_<Inputs>(m, "Inputs")
      .def(py::init<>())
      .def_readwrite("environment", &Inputs::environment)
      .def_readwrite("cwd", &Inputs::cwd)
      .def_readwrite("home", &Inputs::home)
      .def_readwrite("xdg_config_home", &Inputs::xdg_config_home)
      .def_readwrite("overrides", &Inputs::overrides)
      .def_readwrite("defaults", &Inputs::defaults)
      .def_readwrite("ram_power_w", &Inputs::ram_power_w)
      .def_readwrite("python_version", &Inputs::python_version)
      .def_readwrite("cloud_provider", &Inputs::cloud_provider)
      .def_readwrite("cloud_region", &Inputs::cloud_region)
      .def_readwrite("detect_location", &Inputs::detect_location);

  using Release = py::call_guard<py::gil_scoped_release>;
  py::class_<NativeTracker>(m, "NativeTracker")
      // Released: the location step may wait on the metadata service (bounded,
      // 300 ms), and other Python threads (a test server, say) run meanwhile.
      .def(py::init<const Inputs&>(), Release())
      .def("start", &NativeTracker::Start, Release())
      .def("stop", &NativeTracker::Stop, Release())
      .def("flush", &NativeTracker::Flush, Release())
      .def("start_task", &NativeTracker::StartTask, Release())
      .def("stop_task", &NativeTracker::StopTask, Release())
      .def("append_row", &NativeTracker::AppendRow, Release())
      .def("json", &NativeTracker::Json, Release())
      .def("predict", &NativeTracker::Predict, Release())
      .def("sources", &NativeTracker::Sources)
      .def("unmeasured", &NativeTracker::Unmeasured)
      .def("abandon", &NativeTracker::Abandon)
      .def_property_readonly("running", &NativeTracker::Running)
      .def_property_readonly("run_id", [](const NativeTracker& t) { return t.meta().run_id; })
      .def_property_readonly("project_name", [](const NativeTracker& t) { return t.config().project_name; })
      .def_property_readonly("experiment_id", [](const NativeTracker& t) { return t.config().experiment_id; })
      .def_property_readonly("experiment_name",
                             [](const NativeTracker& t) { return t.config().experiment_name; })
      .def_property_readonly("output_dir", [](const NativeTracker& t) { return t.config().output_dir; })
      .def_property_readonly("output_file", [](const NativeTracker& t) { return t.config().output_file; })
      .def_property_readonly("save_to_file", [](const NativeTracker& t) { return t.config().save_to_file; })
      .def_property_readonly("interval_s", [](const NativeTracker& t) { return t.config().interval_s; })
      .def_property_readonly("interval_note", &NativeTracker::IntervalNote)
      .def_property_readonly("pue", [](const NativeTracker& t) { return t.config().pue; })
      // The collector (wattprint's layers: WATTPRINT_COLLECTOR_URL,
      // wattprint.toml) and the run's Slurm account, for predict()'s budget.
      .def_property_readonly("collector_url", [](const NativeTracker& t) { return t.config().collector_url; })
      .def_property_readonly("collector_token", [](const NativeTracker& t) { return t.config().collector_token; })
      .def_property_readonly("cluster_account", [](const NativeTracker& t) { return t.meta().cluster_job.account; })
      .def_property_readonly("tracking_mode",
                             [](const NativeTracker& t) { return std::string(ToString(t.config().scope)); })
      .def("origin_of", [](const NativeTracker& t, const std::string& key) { return t.config().OriginOf(key); })
      // One line on the intensity: value, zone, source, year, basis, and how
      // the location was found (the log's "location and intensity" line).
      .def_property_readonly("intensity_note", &NativeTracker::IntensityNote)
      .def_property_readonly("location_is_default", &NativeTracker::LocationIsDefault)
      // The machine as the row describes it, for get_detected_hardware().
      .def("hardware", &NativeTracker::Hardware);
}
