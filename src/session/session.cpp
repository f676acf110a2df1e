// Config -> the pieces of a run. See wattprint/session.h.
#include "wattprint/session.h"

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
  o.gpu_ids = cfg.gpu_ids;
  return o;
}

TrackerOptions TrackerOptionsFor(const Config& cfg) {
  TrackerOptions o;
  o.interval = std::chrono::duration_cast<Duration>(Seconds(cfg.interval_s));
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  return o;
}

GridLocation LocationOf(const Config& cfg) {
  GridLocation where;
  where.country = cfg.country;
  where.region = cfg.region;
  where.zone = cfg.zone;
  where.cloud_provider = cfg.cloud_provider;
  where.cloud_region = cfg.cloud_region;
  return where;
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

Result<IntensityTimeline> ConfiguredIntensity(const Config& cfg) {
  Result<std::optional<IntensityTimeline>> given = ExplicitIntensity(cfg);
  if (!given.ok()) return given.status();
  if (given->has_value()) return **given;
  return WorldAverageIntensity();  // stated as such, never a specific place
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
  return m;
}

}  // namespace wattprint
