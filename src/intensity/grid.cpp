// Grid intensity lookup over the compiled-in tables (see wattprint/grid.h
// and src/intensity/grid_tables.h). Two steps: find the place (zone and/or
// country), then select the figure of the requested data set and year.
#include "wattprint/grid.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "intensity/grid_tables.h"
#include "wattprint/config.h"

namespace wattprint {
namespace {

using grid_data::CloudRegion;
using grid_data::Country;
using grid_data::GetTables;
using grid_data::Region;
using grid_data::Zone;

// ASCII base letters of U+00C0..U+00FF (UTF-8 0xC3 0x80..0xBF), so
// "Québec" and "Zürich" match names stored without accents.
constexpr std::string_view kLatin1Fold = "aaaaaaaceeeeiiiidnooooo*ouuuuytsaaaaaaaceeeeiiiidnooooo/ouuuuyty";
static_assert(kLatin1Fold.size() == 64);

// Trimmed, ASCII-lower-cased, Latin-1 accents folded: the matching key.
std::string Lower(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (c == 0xC3 && next >= 0x80 && next <= 0xBF) {
      out += kLatin1Fold[next - 0x80];
      ++i;
    } else {
      out += static_cast<char>(std::tolower(c));
    }
  }
  return out;
}

// Calls f(alias) for each '|'-separated name.
template <typename F>
void ForEachAlias(const char* aliases, F f) {
  std::string_view rest(aliases);
  while (!rest.empty()) {
    const size_t bar = rest.find('|');
    f(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
}

bool AliasMatch(const char* aliases, const std::string& lower_key) {
  bool hit = false;
  ForEachAlias(aliases, [&](std::string_view a) { hit = hit || Lower(a) == lower_key; });
  return hit;
}

// Candidates as (lower-case spelling, what to show); "; did you mean X?" or "".
using Candidates = std::vector<std::pair<std::string, std::string>>;
std::string Hint(const std::string& lower_word, const Candidates& cands) {
  std::vector<std::string> words;
  words.reserve(cands.size());
  for (const auto& c : cands) words.push_back(c.first);
  const std::string best = ClosestMatch(lower_word, words);
  for (const auto& c : cands) {
    if (c.first == best && !best.empty()) return "; did you mean " + c.second + "?";
  }
  return "";
}

const Zone* FindZone(const std::string& lower_key) {
  for (const Zone& z : GetTables().zones) {
    if (Lower(z.key) == lower_key) return &z;
  }
  return nullptr;
}

const Country* CountryByIso2(std::string_view iso2) {
  if (iso2.empty()) return nullptr;
  for (const Country& c : GetTables().countries) {
    if (iso2 == c.iso2) return &c;
  }
  return nullptr;
}

const Country* FindCountry(const std::string& k) {
  for (const Country& c : GetTables().countries) {
    if (k == Lower(c.iso3) || k == Lower(c.iso2) || AliasMatch(c.aliases, k)) return &c;
  }
  return nullptr;
}

struct ResolvedPlace {
  const Zone* zone = nullptr;        // null: no Electricity Maps zone
  const Country* country = nullptr;  // null: zone outside ISO 3166 (XK)
  std::string region;
  std::string matched;
  std::string Describe() const {
    if (!region.empty()) return region;
    if (zone) return std::string("zone ") + zone->key;
    return country ? fmt::format("{} ({})", country->name, country->iso3) : "?";
  }
};

Result<ResolvedPlace> FromZone(const std::string& zone) {
  const std::string k = Lower(zone);
  const Zone* z = FindZone(k);
  if (z == nullptr) {
    Candidates cands;
    for (const Zone& row : GetTables().zones) cands.emplace_back(Lower(row.key), row.key);
    return Status::NotFound(fmt::format("unknown grid zone '{}'{} (wattprint intensity --list shows all)",
                                        zone, Hint(k, cands)));
  }
  return ResolvedPlace{z, CountryByIso2(z->iso2), "", std::string("zone ") + z->key};
}

Result<ResolvedPlace> FromCountry(const std::string& country) {
  const std::string k = Lower(country);
  const Country* c = k.empty() ? nullptr : FindCountry(k);
  if (c == nullptr) {
    Candidates cands;
    for (const Country& row : GetTables().countries) {
      const std::string show = fmt::format("{} ({})", row.iso3, row.name);
      cands.emplace_back(Lower(row.iso3), show);
      ForEachAlias(row.aliases, [&](std::string_view a) { cands.emplace_back(Lower(a), show); });
    }
    return Status::NotFound(fmt::format(
        "unknown country '{}' (use an ISO 3166 code such as FRA or FR, or an English name){}", country,
        Hint(k, cands)));
  }
  return ResolvedPlace{FindZone(Lower(c->iso2)), c, "", fmt::format("country {}", c->iso3)};
}

Result<ResolvedPlace> FromRegion(const std::string& region, const std::string& country) {
  const Country* within = nullptr;
  if (!country.empty()) {
    Result<ResolvedPlace> c = FromCountry(country);
    if (!c.ok()) return c.status();
    within = c->country;
  }
  const std::string k = Lower(region);
  const std::string prefix = within ? std::string(within->iso2) + "-" : "";
  std::vector<const Region*> hits;
  Candidates cands;
  for (const Region& r : GetTables().regions) {
    if (std::string_view(r.code).substr(0, prefix.size()) != prefix) continue;
    if (Lower(r.code) == k || AliasMatch(r.aliases, k)) hits.push_back(&r);
    const std::string show = fmt::format("{} ({})", r.code, r.name);
    cands.emplace_back(Lower(r.code), show);
    ForEachAlias(r.aliases, [&](std::string_view a) { cands.emplace_back(Lower(a), show); });
  }
  if (hits.size() > 1) {
    return Status::InvalidArgument(fmt::format("region '{}' is ambiguous ({} and {}); give the country too",
                                               region, hits[0]->code, hits[1]->code));
  }
  if (hits.empty()) {
    // A zone key given as a region ("SE-SE1") is as good as --zone.
    if (within == nullptr && FindZone(k) != nullptr) return FromZone(region);
    return Status::NotFound(fmt::format("unknown region '{}'{}{}", region,
                                        within ? fmt::format(" in {}", within->name) : "", Hint(k, cands)));
  }
  const Region& r = *hits[0];
  const std::string code(r.code);
  return ResolvedPlace{FindZone(Lower(r.zone)), CountryByIso2(code.substr(0, 2)), fmt::format("{} ({})", r.name, code),
               fmt::format("region {} ({}) -> zone {}: {}", code, r.name, r.zone, r.basis)};
}

Result<ResolvedPlace> FromCloud(const std::string& provider, const std::string& region) {
  const std::string p = Lower(provider);
  if (p != "aws" && p != "gcp" && p != "azure") {
    return Status::InvalidArgument(fmt::format("cloud provider '{}' is not aws, gcp or azure", provider));
  }
  const std::string k = Lower(region);
  Candidates cands;
  for (const CloudRegion& c : GetTables().cloud) {
    if (p != c.provider) continue;
    if (Lower(c.region) == k) {
      return ResolvedPlace{FindZone(Lower(c.zone)), nullptr, fmt::format("{} {} ({})", c.provider, c.region, c.location),
                   fmt::format("cloud region {} {} ({}) -> zone {}: {}", c.provider, c.region, c.location, c.zone,
                               c.mapping)};
    }
    cands.emplace_back(Lower(c.region), c.region);
  }
  return Status::NotFound(fmt::format("unknown {} region '{}'{}", p, region, Hint(k, cands)));
}

Result<ResolvedPlace> Resolve(const GridLocation& w) {
  Result<ResolvedPlace> place = Status::InvalidArgument("no location given");
  if (!w.cloud_region.empty() || !w.cloud_provider.empty()) {
    if (w.cloud_region.empty() || w.cloud_provider.empty()) {
      return Status::InvalidArgument("a cloud region needs both the provider (aws, gcp, azure) and the region name");
    }
    place = FromCloud(w.cloud_provider, w.cloud_region);
  } else if (!w.zone.empty()) {
    place = FromZone(w.zone);
  } else if (!w.region.empty()) {
    place = FromRegion(w.region, w.country);
  } else if (!w.country.empty()) {
    place = FromCountry(w.country);
  }
  if (!place.ok()) return place;
  ResolvedPlace out = *place;
  if (out.country == nullptr && out.zone) out.country = CountryByIso2(out.zone->iso2);
  return out;
}

std::string Via() { return std::string("via ") + GetTables().package; }

Result<GridIntensity> ElectricityMaps(const ResolvedPlace& p, std::optional<int> year) {
  if (p.zone == nullptr) {
    return Status::NotFound(fmt::format("{} has no Electricity Maps zone; its Ember country average is the "
                                        "default (drop the year), or give a zone", p.Describe()));
  }
  const auto years = GetTables().em_years;
  int idx = -1;
  for (size_t i = 0; i < years.size(); ++i) {
    const bool present = p.zone->g[i] != grid_data::kAbsent;
    if (present && (!year || *year == years[i])) idx = static_cast<int>(i);
  }
  if (idx < 0) {
    return Status::NotFound(fmt::format("no Electricity Maps figure for zone {} in {} (years held: {}-{})",
                                        p.zone->key, year ? *year : 0, years.front(), years.back()));
  }
  GridIntensity g;
  g.g_per_kwh = p.zone->g[idx];
  g.dataset = GridDataset::kElectricityMaps;
  g.basis = "average";
  g.year = years[idx];
  g.zone = p.zone->key;
  g.zone_name = p.zone->name;
  g.source = fmt::format("Electricity Maps, {} yearly average (lifecycle), zone {}; ODbL; {}", g.year, g.zone, Via());
  return g;
}

Result<GridIntensity> CountryFigure(const ResolvedPlace& p, GridDataset d) {
  const bool ember = d == GridDataset::kEmber;
  const double v = p.country ? (ember ? p.country->ember : p.country->unfccc) : grid_data::kAbsent;
  if (v == grid_data::kAbsent) {
    return Status::NotFound(fmt::format("no {} figure for {}", ember ? "Ember average" : "UNFCCC marginal",
                                        p.country ? p.country->name : p.Describe()));
  }
  GridIntensity g;
  g.g_per_kwh = v;
  g.dataset = d;
  g.basis = ember ? "average" : "marginal";
  g.year = ember ? 0 : GetTables().unfccc_year;
  g.zone = p.country->iso3;
  g.zone_name = p.country->name;
  g.source = ember ? fmt::format("Ember, yearly electricity data, latest year, {} country average (lifecycle); "
                                 "CC BY-SA 4.0; {}", g.zone, Via())
                   : fmt::format("UNFCCC/IFI harmonised grid factors {}, operating margin, {}; CC BY-SA 4.0; {}",
                                 g.year, g.zone, Via());
  return g;
}

Result<GridIntensity> Select(const ResolvedPlace& p, const GridSelection& which) {
  if (which.year && which.dataset && *which.dataset != GridDataset::kElectricityMaps) {
    return Status::InvalidArgument("an intensity year selects an Electricity Maps year; Ember and UNFCCC hold one "
                                   "figure per country");
  }
  if (which.dataset == GridDataset::kElectricityMaps || which.year) return ElectricityMaps(p, which.year);
  if (which.dataset) return CountryFigure(p, *which.dataset);
  if (p.zone) return ElectricityMaps(p, std::nullopt);
  Result<GridIntensity> ember = CountryFigure(p, GridDataset::kEmber);
  if (ember.ok()) return ember;
  return Status::NotFound(fmt::format("no average intensity for {} in Electricity Maps or Ember; the UNFCCC "
                                      "marginal factor is selectable (dataset unfccc)", p.Describe()));
}

}  // namespace

const char* ToString(GridDataset d) {
  switch (d) {
    case GridDataset::kElectricityMaps: return "electricitymaps";
    case GridDataset::kEmber: return "ember";
    case GridDataset::kUnfccc: return "unfccc";
  }
  return "?";
}

Result<GridDataset> ParseGridDataset(std::string_view text) {
  const std::string t = Lower(text);
  for (GridDataset d : {GridDataset::kElectricityMaps, GridDataset::kEmber, GridDataset::kUnfccc}) {
    if (t == ToString(d)) return d;
  }
  return Status::InvalidArgument(
      fmt::format("unknown intensity data set '{}' (use electricitymaps, ember or unfccc)", text));
}

Result<GridIntensity> LookupGridIntensity(const GridLocation& where, const GridSelection& which) {
  Result<ResolvedPlace> place = Resolve(where);
  if (!place.ok()) return place.status();
  Result<GridIntensity> g = Select(*place, which);
  if (!g.ok()) return g;
  GridIntensity out = std::move(g).value();
  if (place->country) {
    out.country_iso2 = place->country->iso2;
    out.country_iso3 = place->country->iso3;
    out.country_name = place->country->name;
  }
  out.region = place->region;
  out.matched = place->matched;
  return out;
}

IntensityProvenance ToProvenance(const GridIntensity& g, std::string resolution) {
  IntensityProvenance p;
  p.zone = g.zone;
  p.country_iso3 = g.country_iso3;
  p.country_name = g.country_name;
  p.region = g.region;
  p.source = g.source;
  p.year = g.year;
  p.basis = g.basis;
  p.resolution = g.matched.empty() ? std::move(resolution) : resolution + ": " + g.matched;
  p.is_default = false;
  return p;
}

IntensityTimeline ToTimeline(const GridIntensity& g, std::string resolution) {
  return IntensityTimeline::Constant(Intensity::GramsPerKwh(g.g_per_kwh), ToProvenance(g, std::move(resolution)));
}

std::vector<GridZoneFigure> ListZones() {
  std::vector<GridZoneFigure> out;
  const auto years = GetTables().em_years;
  for (const Zone& z : GetTables().zones) {
    for (size_t i = years.size(); i-- > 0;) {
      if (z.g[i] == grid_data::kAbsent) continue;
      out.push_back({z.key, z.name, z.iso3, years[i], z.g[i]});
      break;
    }
  }
  return out;
}

std::vector<CloudRegionInfo> ListCloudRegions() {
  std::vector<CloudRegionInfo> out;
  for (const CloudRegion& c : GetTables().cloud) out.push_back({c.provider, c.region, c.location, c.zone, c.mapping});
  return out;
}

std::vector<int> ElectricityMapsYears() {
  const auto y = GetTables().em_years;
  return {y.begin(), y.end()};
}

std::string GridDataPackage() { return GetTables().package; }

}  // namespace wattprint

namespace wattprint {

namespace {

void KeepLowest(std::vector<GridAlternative>* v, int top) {
  std::stable_sort(v->begin(), v->end(),
                   [](const GridAlternative& a, const GridAlternative& b) { return a.g_per_kwh < b.g_per_kwh; });
  if (top >= 0 && v->size() > static_cast<size_t>(top)) v->resize(static_cast<size_t>(top));
}

}  // namespace

std::vector<GridAlternative> LowestZones(int top) {
  std::vector<GridAlternative> out;
  for (const GridZoneFigure& z : ListZones()) out.push_back({z.zone, z.name, "", "", z.zone, z.year, z.g_per_kwh});
  KeepLowest(&out, top);
  return out;
}

std::vector<GridAlternative> LowestCloudRegions(const std::string& provider, int top) {
  const std::vector<GridZoneFigure> zones = ListZones();
  std::vector<GridAlternative> out;
  for (const CloudRegionInfo& c : ListCloudRegions()) {
    if (!provider.empty() && c.provider != provider) continue;
    for (const GridZoneFigure& z : zones) {
      if (z.zone != c.zone) continue;
      out.push_back({c.region, c.provider + ", " + c.location, c.provider, c.location, c.zone, z.year, z.g_per_kwh});
    }
  }
  KeepLowest(&out, top);
  return out;
}

}  // namespace wattprint
