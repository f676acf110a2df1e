// Grid carbon intensity by place: countries, Electricity Maps zones,
// sub-national regions and public cloud regions, from data compiled into
// the library (docs/INTENSITY.md says where each figure comes from).
//
// Three data sets are held:
//   - Electricity Maps yearly zone averages (lifecycle), one value per year;
//   - Ember yearly country averages (lifecycle, latest year per country);
//   - UNFCCC/IFI operating-margin factors (marginal) for 2021.
// By default a place gets the latest Electricity Maps year of its zone; a
// country without a zone gets Ember. The other sets are selectable.
//
// Thread safety: pure functions over constant data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/emissions.h"
#include "wattprint/place.h"
#include "wattprint/status.h"

namespace wattprint {

enum class GridDataset { kElectricityMaps, kEmber, kUnfccc };
// "electricitymaps", "ember", "unfccc".
const char* ToString(GridDataset d);
Result<GridDataset> ParseGridDataset(std::string_view text);

// Where to look. The most specific field given wins:
// cloud region > zone > region > country. Matching is case-insensitive.
// The lookup's query is a Place (wattprint/place.h).
using GridLocation = Place;

// Which figure to take. Unset = the default (see the file comment).
struct GridSelection {
  std::optional<GridDataset> dataset;
  std::optional<int> year;  // an Electricity Maps year
};

struct GridIntensity {
  double g_per_kwh = 0;  // g CO2e/kWh
  GridDataset dataset = GridDataset::kElectricityMaps;
  std::string basis;     // "average" (lifecycle) or "marginal"
  std::string source;    // data set, year, licence and the package it came from
  int year = 0;          // 0 = not recorded (Ember's latest year per country)
  std::string zone;      // zone key, or ISO3 for the country-level data sets
  std::string zone_name;
  std::string country_iso2, country_iso3, country_name;
  std::string region;    // the sub-national or cloud region asked for, if any
  std::string matched;   // how the place was found: "zone SE-SE1", "cloud region aws eu-west-1"
};

Result<GridIntensity> LookupGridIntensity(const GridLocation& where, const GridSelection& which = {});

// The provenance and single-point timeline of a looked-up figure;
// `resolution` says how the location was chosen ("explicit --zone").
IntensityProvenance ToProvenance(const GridIntensity& g, std::string resolution);
IntensityTimeline ToTimeline(const GridIntensity& g, std::string resolution);

// For listings and comparisons: every zone at its latest Electricity Maps year.
struct GridZoneFigure {
  std::string zone, name, country_iso3;
  int year = 0;
  double g_per_kwh = 0;
};
std::vector<GridZoneFigure> ListZones();

struct CloudRegionInfo {
  std::string provider, region, location, zone, mapping;
};
std::vector<CloudRegionInfo> ListCloudRegions();
// The lowest-intensity places, for "had this run there": grid zones at
// their latest Electricity Maps year, and cloud regions at their zone's.
// Ascending g CO2e/kWh, at most `top` (all when negative).
struct GridAlternative {
  std::string name;      // the zone key, or the cloud region ("eu-north-1")
  std::string label;     // the zone's name, or "aws, Stockholm, Sweden"
  std::string provider;  // cloud regions only: aws, gcp or azure
  std::string location;  // cloud regions only
  std::string zone;
  int year = 0;
  double g_per_kwh = 0;
};
std::vector<GridAlternative> LowestZones(int top);
// provider: "aws", "gcp" or "azure"; empty for all three.
std::vector<GridAlternative> LowestCloudRegions(const std::string& provider, int top);

// The Electricity Maps years held, ascending.
std::vector<int> ElectricityMapsYears();
// "@tgwf/co2 0.19.0": the package the data were derived from.
std::string GridDataPackage();

}  // namespace wattprint
