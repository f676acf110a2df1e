// Grid carbon intensity for the run: the world average used when no
// location is configured, and the country shortcut. Both come from the data
// compiled into the library (wattprint/grid.h, docs/INTENSITY.md).
//
// Thread safety: pure functions over constant data.
#pragma once

#include <string_view>

#include "wattprint/emissions.h"
#include "wattprint/grid.h"
#include "wattprint/status.h"

namespace wattprint {

// Ember's WORLD figure, marked as the default (is_default = true).
IntensityTimeline WorldAverageIntensity();
// Looks up a country by ISO3, ISO2 or English name (case-insensitive) with
// the default data set (LookupGridIntensity). NotFound names the closest
// known country.
Result<IntensityTimeline> CountryIntensityTimeline(std::string_view country);

}  // namespace wattprint
