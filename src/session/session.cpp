// Config -> the pieces of a run. See wattprint/session.h.
#include "wattprint/session.h"

#include "output/sysinfo.h"
#include "wattprint/intensity.h"

namespace wattprint {

SourceOptions SourceOptionsFor(const Config& cfg) {
  SourceOptions o;
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  if (cfg.cpu_power_w) o.cpu_power_override = Power::Watts(*cfg.cpu_power_w);
  return o;
}

TrackerOptions TrackerOptionsFor(const Config& cfg) {
  TrackerOptions o;
  o.interval = std::chrono::duration_cast<Duration>(Seconds(cfg.interval_s));
  o.roots.sysfs = cfg.sysfs_root;
  o.roots.procfs = cfg.procfs_root;
  return o;
}

Result<IntensityTimeline> ResolveIntensity(const Config& cfg) {
  IntensityTimeline t;
  if (cfg.country.empty()) {
    t = WorldAverageIntensity();
  } else {
    Result<IntensityTimeline> r = CountryIntensityTimeline(cfg.country);
    if (!r.ok()) {
      return Status::InvalidArgument(r.status().message() + " (set by " + cfg.OriginOf("country") + ")");
    }
    t = std::move(r).value();
  }
  // The built-in table holds country averages; the region is recorded, not
  // used to pick a different figure.
  if (!cfg.region.empty()) t.provenance.region = cfg.region;
  return t;
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
