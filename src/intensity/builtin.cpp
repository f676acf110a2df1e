// The world average and the country shortcut (see wattprint/intensity.h).
#include <string>

#include <fmt/format.h>

#include "intensity/grid_tables.h"
#include "wattprint/intensity.h"

namespace wattprint {

IntensityTimeline WorldAverageIntensity() {
  const auto& t = grid_data::GetTables();
  double world = grid_data::kAbsent;
  for (const grid_data::Aggregate& a : t.aggregates) {
    if (std::string_view(a.key) == "WORLD") world = a.ember;
  }
  // The generator refuses a package without Ember's WORLD figure.
  IntensityProvenance p;
  p.zone = "WORLD";
  p.source = fmt::format("Ember, yearly electricity data, latest year, world average (lifecycle); CC BY-SA 4.0; "
                         "via {}", t.package);
  p.year = 0;
  p.basis = "average";
  p.resolution = "world average (location not configured)";
  p.is_default = true;
  return IntensityTimeline::Constant(Intensity::GramsPerKwh(world), std::move(p));
}

Result<IntensityTimeline> CountryIntensityTimeline(std::string_view country) {
  GridLocation where;
  where.country = std::string(country);
  Result<GridIntensity> g = LookupGridIntensity(where);
  if (!g.ok()) return g.status();
  return ToTimeline(*g, "explicit --country");
}

}  // namespace wattprint
