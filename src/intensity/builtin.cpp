// Built-in grid carbon intensity table (see wattprint/intensity.h).
//
// Yearly average lifecycle intensities of electricity generation in
// g CO2e/kWh for 2023, from Ember's Yearly Electricity Data as published by
// Our World in Data ("Carbon intensity of electricity generation", Ember
// 2024). Lifecycle figures include upstream methane, supply chain and
// manufacturing emissions (Ember methodology). This small table is a
// stand-in: the full zone database replaces it behind the same functions.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wattprint/intensity.h"

namespace wattprint {
namespace {

constexpr const char* kEmber2023 = "Ember (2024), Yearly Electricity Data, 2023 lifecycle average";

// Sorted by iso3 (a test checks it).
constexpr std::array<CountryIntensity, 38> kTable = {{
    {"ARG", "AR", "Argentina", 354, 2023, kEmber2023},
    {"AUS", "AU", "Australia", 549, 2023, kEmber2023},
    {"AUT", "AT", "Austria", 111, 2023, kEmber2023},
    {"BEL", "BE", "Belgium", 138, 2023, kEmber2023},
    {"BGR", "BG", "Bulgaria", 335, 2023, kEmber2023},
    {"BRA", "BR", "Brazil", 98, 2023, kEmber2023},
    {"CAN", "CA", "Canada", 170, 2023, kEmber2023},
    {"CHE", "CH", "Switzerland", 35, 2023, kEmber2023},
    {"CHL", "CL", "Chile", 291, 2023, kEmber2023},
    {"CHN", "CN", "China", 582, 2023, kEmber2023},
    {"COL", "CO", "Colombia", 260, 2023, kEmber2023},
    {"CRI", "CR", "Costa Rica", 53, 2023, kEmber2023},
    {"CZE", "CZ", "Czechia", 450, 2023, kEmber2023},
    {"DEU", "DE", "Germany", 381, 2023, kEmber2023},
    {"DNK", "DK", "Denmark", 152, 2023, kEmber2023},
    {"EGY", "EG", "Egypt", 570, 2023, kEmber2023},
    {"ESP", "ES", "Spain", 174, 2023, kEmber2023},
    {"EST", "EE", "Estonia", 417, 2023, kEmber2023},
    {"FIN", "FI", "Finland", 79, 2023, kEmber2023},
    {"FRA", "FR", "France", 56, 2023, kEmber2023},
    {"GBR", "GB", "United Kingdom", 238, 2023, kEmber2023},
    {"GRC", "GR", "Greece", 337, 2023, kEmber2023},
    {"HRV", "HR", "Croatia", 205, 2023, kEmber2023},
    {"HUN", "HU", "Hungary", 204, 2023, kEmber2023},
    {"IND", "IN", "India", 713, 2023, kEmber2023},
    {"IRL", "IE", "Ireland", 291, 2023, kEmber2023},
    {"IRN", "IR", "Iran", 655, 2023, kEmber2023},
    {"ITA", "IT", "Italy", 331, 2023, kEmber2023},
    {"JPN", "JP", "Japan", 485, 2023, kEmber2023},
    {"KOR", "KR", "South Korea", 432, 2023, kEmber2023},
    {"NLD", "NL", "Netherlands", 268, 2023, kEmber2023},
    {"NOR", "NO", "Norway", 30, 2023, kEmber2023},
    {"POL", "PL", "Poland", 662, 2023, kEmber2023},
    {"PRT", "PT", "Portugal", 165, 2023, kEmber2023},
    {"SGP", "SG", "Singapore", 471, 2023, kEmber2023},
    {"SWE", "SE", "Sweden", 41, 2023, kEmber2023},
    {"USA", "US", "United States", 369, 2023, kEmber2023},
    {"ZAF", "ZA", "South Africa", 708, 2023, kEmber2023},
}};

// World average 2023: Ember, Global Electricity Review 2024 / Yearly
// Electricity Data: 481 g CO2e/kWh.
constexpr double kWorldGramsPerKwh = 481;
constexpr int kWorldYear = 2023;

std::string Lower(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Edit distance (insert, delete, substitute), for did-you-mean.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

const CountryIntensity* Closest(const std::string& key) {
  const CountryIntensity* best = nullptr;
  size_t best_d = SIZE_MAX;
  for (const auto& row : kTable) {
    for (const char* cand : {row.iso3, row.iso2, row.name}) {
      size_t d = Distance(key, Lower(cand));
      if (d < best_d) {
        best_d = d;
        best = &row;
      }
    }
  }
  return best;
}

IntensityTimeline Single(double g_per_kwh, IntensityProvenance p) {
  IntensityTimeline t;
  // Valid from the epoch onwards: a yearly average applies at every instant.
  t.points.push_back(IntensityPoint{SystemTime{}, Intensity::GramsPerKwh(g_per_kwh)});
  t.provenance = std::move(p);
  return t;
}

}  // namespace

std::span<const CountryIntensity> BuiltinCountryTable() { return kTable; }

IntensityTimeline WorldAverageIntensity() {
  IntensityProvenance p;
  p.zone = "WORLD";
  p.source = "Ember (2024), Global Electricity Review, world average 2023";
  p.year = kWorldYear;
  p.basis = "average";
  p.resolution = "world average (location not configured)";
  p.is_default = true;
  return Single(kWorldGramsPerKwh, std::move(p));
}

Result<IntensityTimeline> CountryIntensityTimeline(std::string_view country) {
  const std::string key = Lower(country);
  for (const auto& row : kTable) {
    if (key == Lower(row.iso3) || key == Lower(row.iso2) || key == Lower(row.name)) {
      IntensityProvenance p;
      p.zone = row.iso3;
      p.country_iso3 = row.iso3;
      p.country_name = row.name;
      p.source = row.source;
      p.year = row.year;
      p.basis = "average";
      p.resolution = "explicit --country";
      return Single(row.g_per_kwh, std::move(p));
    }
  }
  const CountryIntensity* near = key.empty() ? nullptr : Closest(key);
  std::string hint = near ? fmt::format("; did you mean {} ({})?", near->iso3, near->name) : "";
  return Status::NotFound(fmt::format(
      "unknown country '{}' in the built-in intensity table (use an ISO 3166 code such as "
      "FRA or FR, or an English name){}",
      country, hint));
}

}  // namespace wattprint
