// `wattprint compare RUN`: what a finished run's energy would have emitted
// in the lowest-intensity grid zones and cloud regions. RUN is an
// emissions.csv (CodeCarbon columns; last row or --row N) or a JSON record;
// --energy-kwh X replaces it.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "compare_input.h"
#include "util/text.h"
#include "options.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"
#include "wattprint/run_record.h"

namespace wattprint::cli {
namespace {

using nlohmann::json;

Result<Baseline> LoadRun(const std::string& path, int row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseRun(path, text.str(), row);
}

Result<Baseline> FromEnergy(const Config& cfg, double kwh) {
  Result<IntensityTimeline> t = ResolveIntensity(cfg);
  if (!t.ok()) return t.status();
  const IntensityProvenance& p = t->provenance;
  const double g = t->points.front().value.g_per_kwh();
  const std::string where = p.is_default ? "world average"
                            : p.country_name.empty() ? p.zone
                                                     : fmt::format("{} ({})", p.country_name, p.country_iso3);
  return Baseline{kwh, kwh * g / 1000.0, fmt::format("{} at {} g CO2e/kWh", where, g)};
}

std::string Kg(double kg) { return std::isfinite(kg) ? fmt::format("{:.3g} kg", kg) : std::string("an unbounded amount"); }

std::string Difference(double base_kg, double alt_kg) {
  const double d = base_kg - alt_kg;
  if (d > 0) return Kg(d) + " less";
  if (d < 0) return Kg(-d) + " more";
  return "the same";
}

json AlternativesJson(const std::vector<GridAlternative>& alts, const Baseline& b) {
  json out = json::array();
  for (const GridAlternative& a : alts) {
    const double kg = b.kwh * a.g_per_kwh / 1000.0;
    out.push_back({{"name", a.name}, {"label", a.label}, {"zone", a.zone}, {"year", a.year},
                   {"g_per_kwh", a.g_per_kwh}, {"kg", kg}, {"kg_less", b.kg - kg}});
  }
  return out;
}

void PrintText(const Baseline& b, const std::vector<GridAlternative>& zones,
               const std::vector<GridAlternative>& cloud) {
  fmt::print("This run: {:.4g} kWh, {} CO2e ({})\n", b.kwh, Kg(b.kg), text::Printable(b.what));
  fmt::print("\nLowest-intensity grid zones (Electricity Maps, latest year, {}):\n", GridDataPackage());
  for (const GridAlternative& a : zones) {
    const double kg = b.kwh * a.g_per_kwh / 1000.0;
    fmt::print("  had this run in {} ({}, {} g CO2e/kWh in {}) it would have emitted {}, {}\n", a.name, a.label,
               a.g_per_kwh, a.year, Kg(kg), Difference(b.kg, kg));
  }
  fmt::print("\nLowest-intensity cloud regions:\n");
  for (const GridAlternative& a : cloud) {
    const double kg = b.kwh * a.g_per_kwh / 1000.0;
    fmt::print("  had this run in {} ({}; zone {}, {} g CO2e/kWh in {}) it would have emitted {}, {}\n", a.name,
               a.label, a.zone, a.g_per_kwh, a.year, Kg(kg), Difference(b.kg, kg));
  }
}

}  // namespace

int CompareCommand(const Config& cfg, const CompareOptions& opt) {
  if (opt.run.empty() == !opt.energy_kwh) {
    return UsageError("give either a run (its CSV or JSON file) or --energy-kwh X");
  }
  if (opt.top < 1) return UsageError("--top must be at least 1");
  if (opt.energy_kwh && (*opt.energy_kwh < 0 || !std::isfinite(*opt.energy_kwh))) {
    return UsageError("--energy-kwh must be a non-negative number");
  }
  Result<Baseline> base = opt.energy_kwh ? FromEnergy(cfg, *opt.energy_kwh) : LoadRun(opt.run, opt.row);
  if (!base.ok()) return UsageError(base.status().message());
  const std::vector<GridAlternative> zones = LowestZones(opt.top);
  const std::vector<GridAlternative> cloud = LowestCloudRegions("", opt.top);
  if (opt.json) {
    const json out = {{"run", {{"energy_kwh", base->kwh}, {"kg", base->kg}, {"what", base->what}}},
                      {"package", GridDataPackage()},
                      {"zones", AlternativesJson(zones, *base)},
                      {"cloud_regions", AlternativesJson(cloud, *base)}};
    fmt::print("{}\n", out.dump(2, ' ', false, json::error_handler_t::replace));
    return 0;
  }
  PrintText(*base, zones, cloud);
  return 0;
}

}  // namespace wattprint::cli
