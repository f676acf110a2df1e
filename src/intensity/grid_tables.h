// The grid-intensity tables compiled into the library. CMake generates their
// definitions (grid_data.cpp in the build tree) from data/intensity/*.csv and
// data/cloud_regions.csv with scripts/intensity_tables_cpp.py, so the binary
// reads no data file at run time and starts without parsing anything: these
// are constant-initialised arrays, searched when a lookup asks.
//
// Private to src/intensity/. Thread safety: immutable data.
#pragma once

#include <cstdint>
#include <span>

namespace wattprint::grid_data {

// Electricity Maps years a zone row can hold; the generator refuses more.
inline constexpr int kMaxEmYears = 8;
// Marks a value the data set does not hold for that key.
inline constexpr double kAbsent = -1;

struct Zone {
  const char* key;    // Electricity Maps zone key, "US-CAL-CISO"
  const char* iso2;   // "" when the zone's country has no ISO code (XK)
  const char* iso3;
  const char* name;   // Electricity Maps display name
  double g[kMaxEmYears];  // g CO2e/kWh per year of Tables::em_years; kAbsent if missing
};

struct Country {
  const char* iso3;
  const char* iso2;
  const char* name;
  const char* aliases;  // '|'-separated names (ISO name, common and official names)
  double ember;         // g CO2e/kWh, Ember latest year; kAbsent if missing
  double unfccc;        // g CO2e/kWh, UNFCCC operating margin 2021; kAbsent if missing
};

struct Aggregate {
  const char* key;  // Ember region name: "WORLD", "EU", ...
  double ember;
};

struct Region {
  const char* code;     // ISO 3166-2, "US-CA"
  const char* name;
  const char* aliases;  // '|'-separated
  const char* zone;
  const char* basis;    // why this zone
};

struct CloudRegion {
  const char* provider;  // aws | gcp | azure
  const char* region;
  const char* location;
  const char* zone;
  const char* mapping;
};

struct Tables {
  std::span<const Zone> zones;            // sorted by key
  std::span<const Country> countries;     // sorted by iso3
  std::span<const Aggregate> aggregates;  // sorted by key
  std::span<const Region> regions;        // sorted by code
  std::span<const CloudRegion> cloud;     // in data/cloud_regions.csv order
  std::span<const int> em_years;          // ascending
  int unfccc_year;
  const char* package;                    // "@tgwf/co2 0.19.0"
};

const Tables& GetTables();

}  // namespace wattprint::grid_data
