// Emissions: energy x grid intensity x PUE, interval by interval, so an
// intensity that varies over time is applied to the energy of the time it
// was valid. Every intensity carries its provenance.
//
// No I/O. Thread safety: value types and pure functions.
#pragma once

#include <string>
#include <vector>

#include "wattprint/ledger.h"
#include "wattprint/units.h"

namespace wattprint {

struct IntensityProvenance {
  std::string zone;           // grid zone key or ISO3 country code, e.g. "FRA"
  std::string country_iso3;   // empty for the world average
  std::string country_name;
  std::string region;
  std::string source;         // e.g. "Ember (2023), yearly country average"
  int year = 0;
  std::string basis = "average";  // "average" (lifecycle/mean) or "marginal"
  // How the location was found: "explicit --country", "world average
  // (location not configured)", ...
  std::string resolution;
  bool is_default = false;    // true when no location was given
  // Which location step found the place: "explicit", "cloud metadata",
  // "time zone", "world average"; empty when not resolved.
  std::string location_step;
  // Why a figure is not what was asked for, e.g. "live intensity
  // unavailable: UK Carbon Intensity API: timed out after 5000 ms; static
  // value used". Empty when nothing to say.
  std::string note;
  bool operator==(const IntensityProvenance&) const = default;
};

struct IntensityPoint {
  SystemTime from;  // valid from this instant until the next point
  Intensity value;
  bool operator==(const IntensityPoint&) const = default;
};

struct IntensityTimeline {
  std::vector<IntensityPoint> points;  // sorted by `from`; at least one
  IntensityProvenance provenance;
  // The intensity valid at `t` (the first point's value before it).
  Intensity At(SystemTime t) const;
  static IntensityTimeline Constant(Intensity value, IntensityProvenance p);
  bool operator==(const IntensityTimeline&) const = default;
};

struct EmissionsResult {
  Co2e total;
  Energy energy;                 // energy that fed the total, PUE applied
  std::vector<Co2e> per_interval;  // parallel to the intervals summed
};

// Which channels feed totals and emissions. A platform channel (psys, a
// board's module power) already contains the CPU packages, so it is counted
// only when no CPU channel exists; otherwise it is reported but not added.
std::vector<bool> CountedChannels(std::span<const ChannelInfo> channels);

// Sums intervals [from, to) of the ledger (point indexes) in `scope` over the
// counted channels, multiplying each interval's energy by the intensity
// valid at its midpoint and by pue (>= 1.0).
EmissionsResult ComputeEmissions(const Ledger& ledger, size_t from_point, size_t to_point,
                                 Scope scope, const IntensityTimeline& intensity, double pue);

}  // namespace wattprint
