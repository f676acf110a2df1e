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
#include "util/text.h"
#include "options.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"
#include "wattprint/run_record.h"

namespace wattprint::cli {
namespace {

using nlohmann::json;

struct Baseline {
  double kwh = 0;    // energy that fed the emissions (PUE applied)
  double kg = 0;     // CO2e the run reported
  std::string what;  // "France (FRA), emissions.csv row 3"
};

// RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines.
std::vector<std::vector<std::string>> CsvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> out(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& field = out.back().back();
    if (quoted) {
      if (c != '"') field += c;
      else if (i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.back().emplace_back();
    } else if (c == '\n') {
      out.emplace_back(1);
    } else if (c != '\r') {
      field += c;
    }
  }
  while (!out.empty() && out.back().size() == 1 && out.back()[0].empty()) out.pop_back();
  return out;
}

Result<double> Number(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= 0) return v;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(
      fmt::format("{}: '{}' is not a non-negative number", what, text::Printable(text)));
}

Result<Baseline> FromCsv(const std::string& path, const std::string& text, int row) {
  const auto records = CsvRecords(text);
  if (records.size() < 2) return Status::InvalidArgument(path + ": no data row");
  const std::vector<std::string>& header = records[0];
  auto col = [&](std::string_view name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t energy = col("energy_consumed"), emissions = col("emissions");
  if (energy == header.size() || emissions == header.size()) {
    return Status::InvalidArgument(path + ": not an emissions CSV (no energy_consumed and emissions columns)");
  }
  const int rows = static_cast<int>(records.size()) - 1;
  if (row != kLastRow && (row < 1 || row > rows)) {
    return Status::InvalidArgument(fmt::format("{}: --row {} is out of range (1..{})", path, row, rows));
  }
  const int n = row == kLastRow ? rows : row;
  const std::vector<std::string>& r = records[n];
  auto field = [&](std::string_view name) {
    const size_t c = col(name);
    return c < r.size() ? r[c] : std::string();
  };
  Result<double> kwh = Number(field("energy_consumed"), fmt::format("{} row {} energy_consumed", path, n));
  if (!kwh.ok()) return kwh.status();
  Result<double> kg = Number(field("emissions"), fmt::format("{} row {} emissions", path, n));
  if (!kg.ok()) return kg.status();
  std::string where = field("country_name");
  if (!field("country_iso_code").empty()) where += fmt::format(" ({})", field("country_iso_code"));
  if (!field("cloud_region").empty()) where += fmt::format(", {} {}", field("cloud_provider"), field("cloud_region"));
  return Baseline{*kwh, *kg, fmt::format("{}{} row {}", where.empty() ? "" : where + ", ", path, n)};
}

// A JSON record is read with the library's typed reader (RunRecordFromJson),
// so a missing or mistyped field is a one-line error naming it.
Result<Baseline> FromJson(const std::string& path, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() quotes the bytes it read, raw; the offset says enough. The
    // parser stops on the byte after a broken UTF-8 sequence, so look for
    // the first one before where it stopped.
    for (size_t i = 0; i < text.size() && i < e.byte;) {
      const size_t n = text::Utf8SequenceLength(text, i);
      if (n == 0) return Status::InvalidArgument(fmt::format("{}: not JSON (invalid UTF-8 at byte {})", path, i + 1));
      i += n;
    }
    return Status::InvalidArgument(fmt::format("{}: not JSON (syntax error at byte {})", path, e.byte));
  }
  Result<RunRecord> r = RunRecordFromJson(j);
  if (!r.ok()) return Status::InvalidArgument(path + ": not a wattprint JSON record: " + r.status().message());
  const EmissionsRecord& e = r->emissions;
  const ScopeEmissionsRecord* scope = e.scope == Scope::kMachine ? &e.machine : (e.process ? &*e.process : nullptr);
  if (!e.chosen || scope == nullptr) {
    return Status::InvalidArgument(path + ": the record's " + ToString(e.scope) + " emissions are unknown");
  }
  const double kwh = scope->energy.kwh(), kg = e.chosen->kg();
  if (!(kwh >= 0) || !(kg >= 0) || !std::isfinite(kwh) || !std::isfinite(kg)) {
    return Status::InvalidArgument(path + ": energy and emissions must be non-negative numbers");
  }
  const IntensityProvenance& p = r->intensity.provenance;
  const std::string where = p.is_default ? "world average" : !p.country_name.empty() ? p.country_name : p.zone;
  return Baseline{kwh, kg, (where.empty() ? "" : where + ", ") + path};
}

Result<Baseline> LoadRun(const std::string& path, int row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  // A UTF-8 byte order mark (spreadsheets write one) is not part of the data.
  if (s.starts_with("\xef\xbb\xbf")) s.erase(0, 3);
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && s[first] == '{') {
    if (row != kLastRow) return Status::InvalidArgument("--row applies to CSV files, not JSON records");
    return FromJson(path, s);
  }
  return FromCsv(path, s, row);
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

struct Alternative {
  std::string key, label, zone;
  int year = 0;
  double g = 0;
};

void Lowest(std::vector<Alternative>* v, int top) {
  std::stable_sort(v->begin(), v->end(), [](const Alternative& a, const Alternative& b) { return a.g < b.g; });
  if (static_cast<int>(v->size()) > top) v->resize(top);
}

std::vector<Alternative> ZoneAlternatives(int top) {
  std::vector<Alternative> out;
  for (const GridZoneFigure& z : ListZones()) out.push_back({z.zone, z.name, z.zone, z.year, z.g_per_kwh});
  Lowest(&out, top);
  return out;
}

std::vector<Alternative> CloudAlternatives(int top) {
  const std::vector<GridZoneFigure> zones = ListZones();
  std::vector<Alternative> out;
  for (const CloudRegionInfo& c : ListCloudRegions()) {
    for (const GridZoneFigure& z : zones) {
      if (z.zone == c.zone) out.push_back({c.region, fmt::format("{}, {}", c.provider, c.location), c.zone, z.year,
                                           z.g_per_kwh});
    }
  }
  Lowest(&out, top);
  return out;
}

json AlternativesJson(const std::vector<Alternative>& alts, const Baseline& b) {
  json out = json::array();
  for (const Alternative& a : alts) {
    const double kg = b.kwh * a.g / 1000.0;
    out.push_back({{"name", a.key}, {"label", a.label}, {"zone", a.zone}, {"year", a.year},
                   {"g_per_kwh", a.g}, {"kg", kg}, {"kg_less", b.kg - kg}});
  }
  return out;
}

void PrintText(const Baseline& b, const std::vector<Alternative>& zones, const std::vector<Alternative>& cloud) {
  fmt::print("This run: {:.4g} kWh, {} CO2e ({})\n", b.kwh, Kg(b.kg), text::Printable(b.what));
  fmt::print("\nLowest-intensity grid zones (Electricity Maps, latest year, {}):\n", GridDataPackage());
  for (const Alternative& a : zones) {
    const double kg = b.kwh * a.g / 1000.0;
    fmt::print("  had this run in {} ({}, {} g CO2e/kWh in {}) it would have emitted {}, {}\n", a.key, a.label, a.g,
               a.year, Kg(kg), Difference(b.kg, kg));
  }
  fmt::print("\nLowest-intensity cloud regions:\n");
  for (const Alternative& a : cloud) {
    const double kg = b.kwh * a.g / 1000.0;
    fmt::print("  had this run in {} ({}; zone {}, {} g CO2e/kWh in {}) it would have emitted {}, {}\n", a.key,
               a.label, a.zone, a.g, a.year, Kg(kg), Difference(b.kg, kg));
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
  const std::vector<Alternative> zones = ZoneAlternatives(opt.top);
  const std::vector<Alternative> cloud = CloudAlternatives(opt.top);
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
