// Assembly of a run from a Config: the source options, tracker options,
// grid intensity and metadata that every front end (the CLI, the Python
// module) builds the same way. Keeping them here means `wattprint run` and
// `EmissionsTracker` can never disagree on how a setting is interpreted.
//
// Thread safety: pure functions of their inputs, except MetadataFor, which
// reads /proc (cpuinfo, meminfo) under cfg.procfs_root.
#pragma once

#include "wattprint/config.h"
#include <optional>

#include "wattprint/emissions.h"
#include "wattprint/grid.h"
#include "wattprint/live_intensity.h"
#include "wattprint/location.h"
#include "wattprint/report.h"
#include "wattprint/sources.h"
#include "wattprint/status.h"
#include "wattprint/tracker.h"
#include "wattprint/upload.h"

namespace wattprint {

// Roots and the CPU power override from the config.
SourceOptions SourceOptionsFor(const Config& cfg);
// Sampling period and roots from the config; no tree root, no callback.
TrackerOptions TrackerOptionsFor(const Config& cfg);
// The configured country's intensity, or the world average (labelled as the
// default). An unknown country is InvalidArgument naming where it was set
// (cfg.OriginOf("country")). The region is recorded in the provenance.
// The config's location keys as a grid lookup query.
GridLocation LocationOf(const Config& cfg);
// Step 1 of the location resolution: the explicitly configured location
// (--cloud-region > --zone > --region > --country) or an --intensity figure.
// Empty when nothing explicit is configured; errors name the flag, variable
// or file the bad value came from.
Result<std::optional<IntensityTimeline>> ExplicitIntensity(const Config& cfg);
// ExplicitIntensity, else the world average labelled as the default. (The
// CLI adds cloud metadata and time-zone detection between the two.)
Result<IntensityTimeline> ConfiguredIntensity(const Config& cfg);
// System facts (run id, OS, CPU, RAM, host name) plus the config's names,
// PUE and cluster job.
RunMetadata MetadataFor(const Config& cfg);
// The cluster job: each field as given, else from the job's SLURM_*
// variable; empty when there is no job id.
ClusterJob ClusterJobFor(const ClusterJob& given);
// The collector settings as upload.h takes them (the spool's default
// directory when none is set).
UploadOptions UploadOptionsFor(const Config& cfg);

// The process environment the location steps read; the front end fills it
// (the CLI from getenv, Python from os.environ), so this stays testable.
struct LocationEnv {
  std::optional<std::string> tz;  // TZ, when set
  std::string xdg_cache_home;     // XDG_CACHE_HOME
  std::string xdg_state_home;     // XDG_STATE_HOME
  std::string home;               // HOME
};
// $XDG_CACHE_HOME/wattprint, else $XDG_STATE_HOME/wattprint, else
// $HOME/.cache/wattprint when $HOME is an existing directory, else "": no
// disk cache, and *note (when given) says why. A missing home is never
// created: daemon users have HOME=/nonexistent. Reads the file system
// (one stat of $HOME).
std::string CacheDirFor(const LocationEnv& env, std::string* note = nullptr);
// LocationOptions for a config (wattprint/location.h): the explicit keys,
// the metadata step (off when an --intensity figure makes a place moot),
// its endpoint and cache file, and the time zone.
LocationOptions LocationOptionsFor(const Config& cfg, const LocationEnv& env);
// The static (yearly average) intensity of a resolved location: an explicit
// location exactly as configured (an unknown name is an error, never a
// guess); a detected one looked up, falling back to the world average and
// saying why when the data cannot place it. The provenance names the step.
Result<IntensityTimeline> IntensityAt(const Config& cfg, const Location& loc);
// The marginal intensity of a location (UNFCCC operating-margin factors,
// per country): the configured place for an explicit location, else the
// detected one. NotFound, saying what to do, when none is known.
Result<IntensityTimeline> MarginalIntensityAt(const Config& cfg, const Location& loc);
// The configured live provider for a location, asking for that location's
// Electricity Maps zone (or the country's ISO2); nullptr when live is off.
// `cache_dir` ("" = none) holds its readings.
std::shared_ptr<LiveIntensity> MakeLiveIntensity(const Config& cfg, const Location& loc,
                                                 const std::string& cache_dir);
// How often a run asks the live provider: once per cache lifetime, and at
// least a second apart.
std::chrono::milliseconds LivePollPeriod(const Config& cfg);

struct IntensityChoice {
  IntensityTimeline chosen;                // feeds emissions (cfg.intensity_basis)
  std::optional<IntensityTimeline> other;  // the other basis, when known
  Location location;                       // where the run was placed
};
// The one intensity path of every front end (the CLI's run and monitor,
// Python's trackers), so that the same settings give the same intensity,
// basis and provenance everywhere:
//  - the average is IntensityAt(cfg, loc), or `average` when the caller
//    already looked it up, combined with the live readings when there are
//    any (CombineLive);
//  - the marginal is MarginalIntensityAt (live readings are averages and
//    are not used for it; the provenance says so);
//  - cfg.intensity_basis picks which one feeds emissions; the other is kept
//    when known. A marginal basis with no marginal figure is an error.
Result<IntensityChoice> ChooseIntensity(const Config& cfg, const Location& loc, const LiveSeries* live = nullptr,
                                        std::optional<IntensityTimeline> average = std::nullopt);
// A resolved location as a grid lookup query (LocationOf's counterpart).
GridLocation GridOf(const Location& loc);
// The cloud fields of the run metadata (cloud_provider, cloud_region,
// on_cloud) from a configured or detected cloud location.
void AddCloudPlacement(const Location& loc, RunMetadata* meta);

}  // namespace wattprint
