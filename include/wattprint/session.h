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
#include "wattprint/report.h"
#include "wattprint/sources.h"
#include "wattprint/status.h"
#include "wattprint/tracker.h"

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
// System facts (run id, OS, CPU, RAM) plus the config's names and PUE.
RunMetadata MetadataFor(const Config& cfg);

}  // namespace wattprint
