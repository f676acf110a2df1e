// The C API's tracker: assembly of a run from wp_options, as
// python/src/module.cpp assembles one from EmissionsTracker's arguments.
// See engine.h.
#include "capi/engine.h"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wattprint/fs.h"
#include "wattprint/report.h"
#include "wattprint/session.h"
#include "wattprint/sources.h"

namespace wattprint::capi {
namespace {

constexpr std::string_view kOrigin = "api wp_options_set";
constexpr std::array<std::string_view, 2> kOwnKeys = {"mpi_machine_scope", "detect_location"};

std::string Lookup(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return e.substr(name.size() + 1);
  }
  return "";
}

bool IsSet(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return true;
  }
  return false;
}

std::string Where(const std::string& key, const std::string& value) {
  return "wp_options_set(\"" + key + "\", \"" + value + "\")";
}

Status SetOwnKey(Settings* s, const std::string& key, const std::string& value) {
  if (key == "mpi_machine_scope") {
    if (value == "local_rank0") s->mpi_rule = MpiMachineRule::kLocalRankZero;
    else if (value == "every_rank") s->mpi_rule = MpiMachineRule::kEveryRank;
    else return Status::InvalidArgument(Where(key, value) + ": expected local_rank0 or every_rank");
    return Status::Ok();
  }
  if (value == "true" || value == "false") {
    s->detect_location = value == "true";
    return Status::Ok();
  }
  return Status::InvalidArgument(Where(key, value) + ": expected true or false");
}

LocationEnv LocationEnvOf(const std::vector<std::string>& env) {
  LocationEnv l;
  if (IsSet(env, "TZ")) l.tz = Lookup(env, "TZ");
  l.xdg_cache_home = Lookup(env, "XDG_CACHE_HOME");
  l.xdg_state_home = Lookup(env, "XDG_STATE_HOME");
  l.home = Lookup(env, "HOME");
  return l;
}

Result<Config> LoadFor(const Settings& s, const std::vector<std::string>& env) {
  ConfigInputs ci;
  ci.environment = env;
  char cwd[4096];
  ci.cwd = getcwd(cwd, sizeof cwd) != nullptr ? cwd : ".";
  ci.home = Lookup(env, "HOME");
  ci.xdg_config_home = Lookup(env, "XDG_CONFIG_HOME");
  Result<Config> loaded = LoadConfig(ci);
  if (!loaded.ok()) return loaded.status();
  Config cfg = std::move(loaded).value();
  // As flags: over the environment and the files.
  for (const auto& [key, value] : s.values) {
    Status st = ApplyConfigValue(&cfg, key, value, Where(key, value), std::string(kOrigin));
    if (!st.ok()) return st;
  }
  return cfg;
}

// The record's MPI tag and whether this tracker reads the node's sources.
bool PlaceInJob(const Settings& s, const Config& cfg, const std::vector<std::string>& env, RunMetadata* meta) {
  meta->mpi = MpiRankFromEnvironment(env);
  if (!meta->mpi) return true;
  meta->mpi->measures_node = MeasuresNode(*meta->mpi, cfg.scope, s.mpi_rule);
  return meta->mpi->measures_node;
}

}  // namespace

Status SetOption(Settings* s, const std::string& key, const std::string& value) {
  for (std::string_view own : kOwnKeys) {
    if (key == own) return SetOwnKey(s, key, value);
  }
  std::vector<std::string> names(kOwnKeys.begin(), kOwnKeys.end());
  bool known = false;
  for (const ConfigKey& k : ConfigKeys()) {
    names.emplace_back(k.key);
    known = known || key == k.key;
  }
  if (!known) {
    const std::string close = ClosestMatch(key, names);
    return Status::InvalidArgument(Where(key, value) + ": unknown key '" + key + "'" +
                                   (close.empty() ? "" : "; did you mean '" + close + "'?"));
  }
  Config scratch;  // the value is checked now, where the caller set it
  Status st = ApplyConfigValue(&scratch, key, value, Where(key, value), std::string(kOrigin));
  if (!st.ok()) return st;
  s->values.emplace_back(key, value);
  return Status::Ok();
}

Result<std::unique_ptr<Engine>> Engine::Make(const Settings& s, std::vector<std::string> env) {
  std::unique_ptr<Engine> e(new Engine());
  Result<Config> cfg = LoadFor(s, env);
  if (!cfg.ok()) return cfg.status();
  e->cfg_ = std::move(cfg).value();
  const LocationEnv lenv = LocationEnvOf(env);
  if (s.detect_location) e->where_ = ResolveLocation(LocationOptionsFor(e->cfg_, lenv), *PosixFileSystem());
  Result<IntensityChoice> intensity = ChooseIntensity(e->cfg_, e->where_);
  if (!intensity.ok()) return intensity.status();
  e->cache_dir_ = CacheDirFor(lenv);
  e->run_.meta = MetadataFor(e->cfg_);
  AddCloudPlacement(e->where_, &e->run_.meta);
  const bool measures = PlaceInJob(s, e->cfg_, env, &e->run_.meta);
  DiscoveredSources found;
  if (measures) {
    SourceOptions sopts = SourceOptionsFor(e->cfg_);
    if (IsSet(env, "CUDA_VISIBLE_DEVICES")) sopts.cuda_visible_devices = Lookup(env, "CUDA_VISIBLE_DEVICES");
    found = DiscoverSources(sopts);
  }
  e->run_.sources = found.reports;
  AddGpuMetadata(found.reports, &e->run_.meta);
  e->run_.scope = e->cfg_.scope;
  e->run_.intensity = std::move(intensity->chosen);
  e->run_.other_intensity = std::move(intensity->other);
  TrackerOptions topts = TrackerOptionsFor(e->cfg_);
  // Process scope: this process and every process it starts.
  if (e->cfg_.scope == Scope::kProcess) topts.tree_root = getpid();
  e->tracker_ = std::make_unique<Tracker>(std::move(topts), std::move(found.sources));
  return e;
}

Status Engine::Start() {
  Status st = tracker_->Start();
  if (!st.ok()) return st;
  if (cfg_.live_intensity != LiveSetting::kOff) {
    const Config cfg = cfg_;
    const Location where = where_;
    const std::string cache = cache_dir_;
    poller_ = std::make_unique<LivePoller>([cfg, where, cache] { return MakeLiveIntensity(cfg, where, cache); },
                                           LivePollPeriod(cfg));
    poller_->Start();
  }
  return Status::Ok();
}

void Engine::Snap() {
  run_.snapshot = tracker_->Snapshot();
  run_.wall_start = run_.snapshot.wall_start;
}

Status Engine::Stop() {
  Status st = tracker_->Stop();
  if (!st.ok()) return st;
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
  Snap();
  return Status::Ok();
}

Status Engine::Flush() {
  if (!tracker_->running()) return Status::InvalidArgument("the tracker is not running");
  run_.snapshot = tracker_->Flush();
  run_.wall_start = run_.snapshot.wall_start;
  return Status::Ok();
}

Status Engine::StartTask(const std::string& name) { return tracker_->StartTask(name); }

Status Engine::StopTask() {
  Result<TaskRecord> t = tracker_->StopTask();
  if (!t.ok()) return t.status();
  Snap();
  return Status::Ok();
}

Result<std::pair<size_t, size_t>> Engine::PointsOf(int slice) const {
  const size_t points = run_.snapshot.ledger ? run_.snapshot.ledger->num_points() : 0;
  if (points == 0) return Status::NotFound("no reading yet: call wp_tracker_stop or wp_tracker_flush first");
  if (slice == -1) return std::make_pair(size_t{0}, points - 1);
  if (slice < 0 || static_cast<size_t>(slice) >= run_.snapshot.tasks.size()) {
    return Status::InvalidArgument("no task " + std::to_string(slice) + " (" +
                                   std::to_string(run_.snapshot.tasks.size()) + " closed)");
  }
  const TaskRecord& t = run_.snapshot.tasks[static_cast<size_t>(slice)];
  return std::make_pair(t.from_point, t.to_point);
}

Result<const IntensityTimeline*> Engine::IntensityOf(Basis basis) const {
  if (basis == Basis::kChosen) return &run_.intensity;
  const bool chosen_is_marginal = cfg_.intensity_basis == IntensityBasis::kMarginal;
  if ((basis == Basis::kMarginal) == chosen_is_marginal) return &run_.intensity;
  if (run_.other_intensity) return &*run_.other_intensity;
  return Status::Unavailable(std::string("no ") + (basis == Basis::kMarginal ? "marginal" : "average") +
                             " intensity is known for this place");
}

Result<Figures> Engine::FiguresOf(int slice, Basis basis) const {
  Result<std::pair<size_t, size_t>> points = PointsOf(slice);
  if (!points.ok()) return points.status();
  Result<const IntensityTimeline*> intensity = IntensityOf(basis);
  if (!intensity.ok()) return intensity.status();
  if (*intensity == &run_.intensity) return ComputeFigures(run_, points->first, points->second);
  RunResult other = run_;  // the ledger is shared, not copied
  other.intensity = **intensity;
  return ComputeFigures(other, points->first, points->second);
}

Result<double> Engine::DurationS(int slice) const {
  Result<Figures> f = FiguresOf(slice, Basis::kChosen);
  if (!f.ok()) return f.status();
  return f->duration.count();
}

Status Engine::WriteCsv(int slice, const char* dir, const char* file) const {
  Result<std::pair<size_t, size_t>> points = PointsOf(slice);
  if (!points.ok()) return points.status();
  const CsvRow row =
      FormatCsvRow(MakeCsvRecord(run_, points->first, points->second, std::chrono::system_clock::now()));
  std::string written_to, note;
  return AppendCsvRow(dir != nullptr ? dir : cfg_.output_dir, file != nullptr ? file : cfg_.output_file, row,
                      &written_to, &note);
}

Status Engine::WriteJson(const char* path) const {
  const std::string to = path != nullptr ? path : cfg_.json;
  if (to.empty()) return Status::InvalidArgument("no path given and no `json` key configured");
  if (PointsOf(-1).ok()) return WriteJsonFile(to, run_);
  return PointsOf(-1).status();
}

Result<std::string> Engine::Json() const {
  if (!PointsOf(-1).ok()) return PointsOf(-1).status();
  return RunToJson(run_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace wattprint::capi
