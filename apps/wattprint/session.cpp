// Assembly steps shared by run, monitor and doctor; see commands.h.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands.h"
#include "output/sysinfo.h"

namespace wattprint::cli {

SourceOptions MakeSourceOptions(const Config& cfg) {
  SourceOptions o;
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  if (cfg.cpu_power_w) o.cpu_power_override = Power::Watts(*cfg.cpu_power_w);
  o.nvml_library = cfg.nvml_library;
  o.rocm_smi_library = cfg.rocm_smi_library;
  o.gpu_ids = cfg.gpu_ids;
  // The CLI is the edge that reads the process environment; the probes get
  // the value, so they stay testable.
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) o.cuda_visible_devices = v;
  return o;
}

TrackerOptions MakeTrackerOptions(const Config& cfg) {
  TrackerOptions o;
  o.interval = std::chrono::duration_cast<Duration>(Seconds(cfg.interval_s));
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  return o;
}

namespace {

// Which keys name a location, most specific first, as ExplicitIntensity
// tries them; used to say where a bad value came from.
std::string LocationOrigins(const Config& cfg) {
  std::string out;
  for (const char* key : {"cloud_region", "cloud_provider", "zone", "region", "country", "intensity_year"}) {
    if (ConfigValueText(cfg, key).empty()) continue;
    out += (out.empty() ? "" : ", ") + std::string(key) + " from " + cfg.OriginOf(key);
  }
  return out;
}

std::string ResolutionLabel(const Config& cfg) {
  for (const char* key : {"cloud_region", "zone", "region", "country"}) {
    if (!ConfigValueText(cfg, key).empty()) {
      const std::string origin = cfg.OriginOf(key);
      return "explicit " + (origin.rfind("flag ", 0) == 0 ? origin.substr(5) : origin);
    }
  }
  return "explicit";
}

}  // namespace

Result<std::optional<IntensityTimeline>> ExplicitIntensity(const Config& cfg) {
  const GridLocation where = LocationOf(cfg);
  std::optional<GridIntensity> found;
  if (!where.empty() || !where.cloud_provider.empty()) {
    GridSelection which;
    which.year = cfg.intensity_year;
    Result<GridIntensity> g = LookupGridIntensity(where, which);
    if (!g.ok()) return Status::InvalidArgument(g.status().message() + " (" + LocationOrigins(cfg) + ")");
    found = std::move(g).value();
  } else if (cfg.intensity_year && !cfg.intensity_g_per_kwh) {
    return Status::InvalidArgument("intensity_year (" + cfg.OriginOf("intensity_year") +
                                   ") needs a location: give --country, --region, --zone or --cloud-region");
  }
  if (cfg.intensity_g_per_kwh) {
    // A user-supplied figure: keep the place (if any) for the record, but say
    // the value is the user's, not a data set's.
    IntensityProvenance p = found ? ToProvenance(*found, ResolutionLabel(cfg)) : IntensityProvenance{};
    p.source = "user-supplied (" + cfg.OriginOf("intensity") + ")";
    p.year = 0;
    p.basis = "average";
    if (!found) p.resolution = "explicit intensity (no location)";
    return std::optional<IntensityTimeline>(
        IntensityTimeline::Constant(Intensity::GramsPerKwh(*cfg.intensity_g_per_kwh), std::move(p)));
  }
  if (!found) return std::optional<IntensityTimeline>();
  return std::optional<IntensityTimeline>(ToTimeline(*found, ResolutionLabel(cfg)));
}

Result<IntensityTimeline> ResolveIntensity(const Config& cfg) {
  // Explicit > cloud metadata > time zone > world average (live_setup.cpp).
  const Location loc = ResolveLocation(MakeLocationOptions(cfg), *PosixFileSystem());
  return IntensityAt(cfg, loc);
}

RunMetadata MakeMetadata(const Config& cfg) {
  SystemRoots roots;
  roots.sysfs = cfg.sysfs_root;
  roots.procfs = cfg.procfs_root;
  RunMetadata m = CollectMetadata(roots, *PosixFileSystem());
  m.project_name = cfg.project_name;
  m.experiment_id = cfg.experiment_id;
  m.experiment_name = cfg.experiment_name;
  m.pue = cfg.pue;
  return m;
}

LiveStatus::LiveStatus(const Config& cfg, const RunResult* base)
    : base_(base), enabled_(!cfg.quiet && isatty(STDERR_FILENO) == 1) {}

std::function<void(const Ledger&)> LiveStatus::Callback() {
  if (!enabled_) return {};
  return [this](const Ledger& ledger) {
    RunResult now = *base_;
    // Borrow the tracker's ledger for the duration of this call (aliasing
    // constructor, no ownership): it is valid while the sampler holds it.
    now.snapshot.ledger = std::shared_ptr<const Ledger>(std::shared_ptr<const Ledger>(), &ledger);
    now.snapshot.running = true;
    const std::string line = "\r" + FormatLiveStatus(now) + "\x1b[K";
    if (write(STDERR_FILENO, line.data(), line.size()) > 0) printed_ = true;
  };
}

void LiveStatus::Clear() {
  if (!printed_.exchange(false)) return;
  constexpr char kErase[] = "\r\x1b[K";
  if (write(STDERR_FILENO, kErase, sizeof kErase - 1) < 0) return;
}

bool SaveOutputs(const Config& cfg, const RunResult& run, size_t from, size_t to, bool with_json) {
  bool ok = true;
  if (cfg.save_to_file) {
    const CsvRow row = MakeCsvRow(run, from, to, std::chrono::system_clock::now());
    std::string written_to, note;
    Status st = AppendCsvRow(cfg.output_dir, cfg.output_file, row, &written_to, &note);
    if (!st.ok()) {
      std::fprintf(stderr, "wattprint: error: cannot write the CSV row: %s\n", st.ToString().c_str());
      ok = false;
    } else if (!note.empty() && !cfg.quiet) {
      std::fprintf(stderr, "wattprint: note: %s\n", note.c_str());
    }
  }
  if (with_json && !cfg.json.empty()) {
    Status st = WriteJsonFile(cfg.json, run);
    if (!st.ok()) {
      std::fprintf(stderr, "wattprint: error: cannot write %s: %s\n", cfg.json.c_str(),
                   st.ToString().c_str());
      ok = false;
    }
  }
  return ok;
}

}  // namespace wattprint::cli
