// Built-in grid carbon intensity: a small table of yearly country averages
// and the world average, each with source and year. The full database of
// grid zones and cloud regions replaces this table behind the same calls.
//
// Thread safety: pure functions over constant data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wattprint/emissions.h"
#include "wattprint/status.h"

namespace wattprint {

struct CountryIntensity {
  const char* iso3;
  const char* iso2;
  const char* name;
  double g_per_kwh;
  int year;
  const char* source;
};

// The built-in rows, sorted by iso3.
std::span<const CountryIntensity> BuiltinCountryTable();
// The world average used when no location is configured.
IntensityTimeline WorldAverageIntensity();
// Looks up a country by ISO3, ISO2 or English name (case-insensitive).
// NotFound names the closest known code.
Result<IntensityTimeline> CountryIntensityTimeline(std::string_view country);

}  // namespace wattprint
