// Config -> the pieces of a run. See wattprint/session.h.
#include "wattprint/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "output/sysinfo.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"

namespace wattprint {

SourceOptions SourceOptionsFor(const Config& cfg) {
  SourceOptions o;
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  if (cfg.cpu_power_w) o.cpu_power_override = Power::Watts(*cfg.cpu_power_w);
  o.nvml_library = cfg.nvml_library;
  o.rocm_smi_library = cfg.rocm_smi_library;
  o.gpu_ids = cfg.gpu_selection;
  o.gpu_ids_text = cfg.gpu_ids;
  return o;
}

TrackerOptions TrackerOptionsFor(const Config& cfg) {
  TrackerOptions o;
  o.interval = std::chrono::duration_cast<Duration>(Seconds(cfg.interval_s));
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  return o;
}

GridLocation LocationOf(const Config& cfg) { return cfg.place; }

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

Result<IntensityTimeline> ConfiguredIntensity(const Config& cfg) {
  Result<std::optional<IntensityTimeline>> given = ExplicitIntensity(cfg);
  if (!given.ok()) return given.status();
  if (given->has_value()) return **given;
  return WorldAverageIntensity();  // stated as such, never a specific place
}

ClusterJob ClusterJobFor(const ClusterJob& given) {
  // The agent runs inside the job, so the job's own variables describe it;
  // a given value wins.
  auto pick = [](const std::string& v, const char* env) {
    if (!v.empty()) return v;
    const char* e = std::getenv(env);
    return std::string(e != nullptr ? e : "");
  };
  ClusterJob j{pick(given.cluster, "SLURM_CLUSTER_NAME"), pick(given.job_id, "SLURM_JOB_ID"),
               pick(given.step, "SLURM_STEP_ID"),         pick(given.node, "SLURMD_NODENAME"),
               pick(given.user, "SLURM_JOB_USER"),        pick(given.account, "SLURM_JOB_ACCOUNT"),
               pick(given.partition, "SLURM_JOB_PARTITION")};
  if (j.job_id.empty()) return {};
  return j;
}

UploadOptions UploadOptionsFor(const Config& cfg) {
  UploadOptions o;
  o.url = cfg.collector_url;
  o.token = cfg.collector_token;
  o.spool_dir = cfg.spool_dir.empty() ? DefaultSpoolDir() : cfg.spool_dir;
  o.wait = std::chrono::milliseconds(static_cast<int64_t>(cfg.collector_wait_s * 1000));
  return o;
}

RunMetadata MetadataFor(const Config& cfg) {
  SystemRoots roots;
  roots.sysfs = cfg.sysfs_root;
  roots.procfs = cfg.procfs_root;
  RunMetadata m = CollectMetadata(roots, *PosixFileSystem());
  m.project_name = cfg.project_name;
  m.experiment_id = cfg.experiment_id;
  m.experiment_name = cfg.experiment_name;
  m.pue = cfg.pue;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) m.host = host;
  m.cluster_job = ClusterJobFor(cfg.cluster_job);
  if (cfg.embodied) m.embodied_factors = cfg.embodied_factors;
  return m;
}

namespace {

IntensityTimeline WorldAverageBecause(const Location& loc, const std::string& why) {
  IntensityTimeline t = WorldAverageIntensity();
  t.provenance.location_step = ToString(loc.step);
  t.provenance.resolution = "world average (" + why + ")";
  return t;
}

}  // namespace

GridLocation GridOf(const Location& loc) { return loc.place; }

std::string CacheDirFor(const LocationEnv& env, std::string* note) {
  // XDG base directories must be absolute; a relative one is ignored.
  if (env.xdg_cache_home.starts_with("/")) return env.xdg_cache_home + "/wattprint";
  if (env.xdg_state_home.starts_with("/")) return env.xdg_state_home + "/wattprint";
  struct stat st {};
  if (!env.home.empty() && stat(env.home.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return env.home + "/.cache/wattprint";
  }
  if (note != nullptr) {
    *note = env.home.empty() ? "HOME is not set"
                             : "HOME (" + env.home + ") is not an existing directory";
    *note += "; running without the cache (set XDG_CACHE_HOME to keep one)";
  }
  return "";
}

LocationOptions LocationOptionsFor(const Config& cfg, const LocationEnv& env) {
  LocationOptions o;
  o.place = cfg.place;
  // The most specific explicit key names the origin, as the lookup uses it.
  for (const char* key : {"cloud_region", "zone", "region", "country"}) {
    const std::string v = ConfigValueText(cfg, key);
    if (v.empty()) continue;
    o.explicit_origin = fmt::format("{} {} ({})", key, v, cfg.OriginOf(key));
    break;
  }
  // An explicit figure needs no location: do not ask the network for one.
  o.cloud_metadata = cfg.cloud_metadata && !cfg.intensity_g_per_kwh;
  o.metadata.endpoint = cfg.metadata_endpoint;
  const std::string dir = CacheDirFor(env);
  if (!dir.empty()) o.metadata.cache_file = dir + "/cloud-metadata.json";
  o.time_zone.tz_env = env.tz;
  return o;
}

Result<IntensityTimeline> IntensityAt(const Config& cfg, const Location& loc) {
  // Step 1, explicit configuration (or an explicit --intensity figure),
  // looked up exactly as given; an unknown name is an error, never a guess.
  Result<std::optional<IntensityTimeline>> given = ExplicitIntensity(cfg);
  if (!given.ok()) return given.status();
  if (given->has_value()) {
    IntensityTimeline t = std::move(**given);
    t.provenance.location_step = ToString(LocationStep::kExplicit);
    return t;
  }
  if (loc.step == LocationStep::kWorldAverage) return WorldAverageBecause(loc, loc.detail);
  // Steps 2 and 3: a detected place; one the data cannot place falls back
  // to the world average, saying why.
  GridSelection which;
  which.year = cfg.intensity_year;
  Result<GridIntensity> g = LookupGridIntensity(GridOf(loc), which);
  if (!g.ok()) return WorldAverageBecause(loc, loc.detail + ": " + g.status().message());
  IntensityTimeline t = ToTimeline(*g, loc.detail);
  t.provenance.location_step = ToString(loc.step);
  return t;
}

void AddCloudPlacement(const Location& loc, RunMetadata* meta) {
  if (loc.place.cloud_provider.empty() && loc.place.cloud_region.empty()) return;
  meta->cloud_provider = loc.place.cloud_provider;
  meta->cloud_region = loc.place.cloud_region;
  meta->on_cloud = true;
}

Result<IntensityTimeline> MarginalIntensityAt(const Config& cfg, const Location& loc) {
  // UNFCCC operating-margin factors (2021) are per country.
  GridLocation where = GridOf(loc);
  if (loc.step == LocationStep::kExplicit || where.empty()) where = LocationOf(cfg);
  if (where.empty() && where.cloud_region.empty()) {
    return Status::NotFound("no marginal intensity without a location; give --country, --zone, "
                            "--region or --cloud-region, or use --intensity-basis average");
  }
  GridSelection which;
  which.dataset = GridDataset::kUnfccc;
  Result<GridIntensity> g = LookupGridIntensity(where, which);
  if (!g.ok()) {
    return Status::NotFound("no marginal intensity is known here: " + g.status().message() +
                            "; use --intensity-basis average");
  }
  IntensityTimeline t = ToTimeline(*g, loc.detail.empty() ? "explicit" : loc.detail);
  t.provenance.location_step = ToString(loc.step);
  return t;
}

std::shared_ptr<LiveIntensity> MakeLiveIntensity(const Config& cfg, const Location& loc,
                                                 const std::string& cache_dir) {
  if (cfg.live_intensity == LiveSetting::kOff) return nullptr;
  LiveOptions o;
  if (cfg.live_intensity == LiveSetting::kUk) {
    o.provider = LiveProvider::kUk;
    o.base_url = cfg.uk_intensity_url;
    o.uk_region = cfg.uk_region;
  } else {
    o.provider = LiveProvider::kElectricityMaps;
    o.base_url = cfg.electricitymaps_url;
    o.token = cfg.electricitymaps_token;
    // The Electricity Maps zone of the location, as the static lookup finds
    // it (a country without a zone of its own is asked for by its ISO2).
    o.zone = loc.place.zone;
    GridLocation where = GridOf(loc);
    if (loc.step == LocationStep::kExplicit) where = LocationOf(cfg);
    if (o.zone.empty() && (!where.empty() || !where.cloud_region.empty())) {
      Result<GridIntensity> g = LookupGridIntensity(where);
      if (g.ok()) o.zone = g->dataset == GridDataset::kElectricityMaps ? g->zone : g->country_iso2;
    }
    if (o.zone.empty() && loc.place.country.size() == 2) o.zone = loc.place.country;
  }
  o.cache_dir = cache_dir;
  o.cache_ttl = std::chrono::seconds(static_cast<long long>(cfg.live_cache_ttl_s));
  return std::make_shared<LiveIntensity>(o);
}

std::chrono::milliseconds LivePollPeriod(const Config& cfg) {
  return std::chrono::milliseconds(static_cast<long long>(std::max(1.0, cfg.live_cache_ttl_s) * 1000));
}

Result<IntensityChoice> ChooseIntensity(const Config& cfg, const Location& loc, const LiveSeries* live,
                                        std::optional<IntensityTimeline> average) {
  if (!average) {
    Result<IntensityTimeline> at = IntensityAt(cfg, loc);
    if (!at.ok()) return at.status();
    average = std::move(at).value();
  }
  IntensityTimeline avg = std::move(*average);
  const bool marginal_basis = cfg.intensity_basis == IntensityBasis::kMarginal;
  if (live != nullptr) {
    if (!marginal_basis) {
      avg = CombineLive(std::move(avg), *live);
    } else {
      avg.provenance.note = "live readings are averages; not used for the marginal basis";
    }
  }
  Result<IntensityTimeline> marginal = MarginalIntensityAt(cfg, loc);
  IntensityChoice out;
  out.location = loc;
  if (marginal_basis) {
    if (!marginal.ok()) return marginal.status();
    out.chosen = std::move(marginal).value();
    out.other = std::move(avg);
  } else {
    out.chosen = std::move(avg);
    if (marginal.ok()) out.other = std::move(marginal).value();
  }
  return out;
}

}  // namespace wattprint
