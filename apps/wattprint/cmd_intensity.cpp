// `wattprint intensity`: the grid intensity of the configured location with
// its full provenance, or (--list) every zone and cloud region.
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "options.h"
#include "wattprint/grid.h"

namespace wattprint::cli {
namespace {

using nlohmann::json;

json Nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json ProvenanceJson(double g, const IntensityProvenance& p, const std::string& dataset) {
  return {{"g_per_kwh", g},
          {"basis", p.basis},
          {"dataset", Nullable(dataset)},
          {"source", p.source},
          {"year", p.year > 0 ? json(p.year) : json(nullptr)},
          {"zone", Nullable(p.zone)},
          {"country_iso3", Nullable(p.country_iso3)},
          {"country_name", Nullable(p.country_name)},
          {"region", Nullable(p.region)},
          {"resolution", p.resolution},
          {"is_default", p.is_default}};
}

void PrintText(double g, const IntensityProvenance& p, const std::string& dataset) {
  auto line = [](const char* label, const std::string& v) {
    if (!v.empty()) fmt::print("{:<11}{}\n", label, v);
  };
  line("intensity", fmt::format("{} g CO2e/kWh", g));
  line("basis", p.basis == "marginal" ? "marginal (operating margin)" : "average (lifecycle)");
  line("dataset", dataset);
  line("source", p.source);
  line("year", p.year > 0 ? std::to_string(p.year) : "latest published (not recorded in the data)");
  line("zone", p.zone);
  if (!p.country_name.empty()) line("country", fmt::format("{} ({})", p.country_name, p.country_iso3));
  line("region", p.region);
  line("location", p.is_default ? "not configured: world average used; give --country, --region, --zone or "
                                  "--cloud-region"
                                : p.resolution);
}

int List(bool as_json) {
  const std::vector<GridZoneFigure> zones = ListZones();
  const std::vector<CloudRegionInfo> cloud = ListCloudRegions();
  auto zone_g = [&](const std::string& key) {
    for (const GridZoneFigure& z : zones) {
      if (z.zone == key) return z;
    }
    return GridZoneFigure{};
  };
  if (as_json) {
    json out = {{"package", GridDataPackage()}, {"zones", json::array()}, {"cloud_regions", json::array()}};
    for (const GridZoneFigure& z : zones) {
      out["zones"].push_back({{"zone", z.zone}, {"name", z.name}, {"country_iso3", Nullable(z.country_iso3)},
                              {"year", z.year}, {"g_per_kwh", z.g_per_kwh}});
    }
    for (const CloudRegionInfo& c : cloud) {
      const GridZoneFigure z = zone_g(c.zone);
      out["cloud_regions"].push_back({{"provider", c.provider}, {"region", c.region}, {"location", c.location},
                                      {"zone", c.zone}, {"mapping", c.mapping}, {"year", z.year},
                                      {"g_per_kwh", z.g_per_kwh}});
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("Grid zones (Electricity Maps, latest year; g CO2e/kWh), {}:\n", GridDataPackage());
  for (const GridZoneFigure& z : zones) fmt::print("  {:<14} {:>5} {} {}\n", z.zone, z.g_per_kwh, z.year, z.name);
  fmt::print("\nCloud regions:\n");
  for (const CloudRegionInfo& c : cloud) {
    const GridZoneFigure z = zone_g(c.zone);
    fmt::print("  {:<6} {:<24} {:<12} {:>5} {} {}\n", c.provider, c.region, c.zone, z.g_per_kwh, z.year, c.location);
  }
  return 0;
}

}  // namespace

int IntensityCommand(const Config& cfg, const IntensityOptions& opt) {
  if (opt.list) return List(opt.json);
  GridSelection which;
  which.year = cfg.intensity_year;
  if (!opt.dataset.empty()) {
    Result<GridDataset> d = ParseGridDataset(opt.dataset);
    if (!d.ok()) return UsageError(d.status().message());
    which.dataset = *d;
  }
  const GridLocation where = LocationOf(cfg);
  IntensityTimeline t;
  std::string dataset;
  if (cfg.intensity_g_per_kwh || (where.empty() && where.cloud_provider.empty())) {
    if (which.dataset && !cfg.intensity_g_per_kwh) {
      return UsageError("--dataset needs a location: give --country, --region, --zone or --cloud-region");
    }
    Result<IntensityTimeline> r = ResolveIntensity(cfg);
    if (!r.ok()) return UsageError(r.status().message());
    t = std::move(r).value();
    dataset = cfg.intensity_g_per_kwh ? "" : "ember";
  } else {
    Result<GridIntensity> g = LookupGridIntensity(where, which);
    if (!g.ok()) return UsageError(g.status().message());
    t = ToTimeline(*g, "explicit");
    dataset = ToString(g->dataset);
  }
  const double g = t.points.front().value.g_per_kwh();
  if (opt.json) {
    fmt::print("{}\n", ProvenanceJson(g, t.provenance, dataset).dump(2));
  } else {
    PrintText(g, t.provenance, dataset);
  }
  return 0;
}

}  // namespace wattprint::cli
