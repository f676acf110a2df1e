// Grid intensity lookup (wattprint/grid.h, wattprint/intensity.h): every
// kind of location, names and codes, did-you-mean, year and data-set
// selection, the Ember fallback, and the cloud-region mapping. Expected
// values are read from the committed CSVs the tables are compiled from.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "support/grid_data_csv.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"

namespace wattprint {
namespace {

using testing::ByKey;
using testing::ReadDataCsv;

const auto& Zones() {
  static const auto z = ByKey(ReadDataCsv("intensity/zones.csv"), "zone");
  return z;
}
const auto& Countries() {
  static const auto c = ByKey(ReadDataCsv("intensity/countries.csv"), "iso3");
  return c;
}
double Csv(const std::string& text) { return std::stod(text); }
std::string LastYear() { return std::to_string(ElectricityMapsYears().back()); }

GridIntensity Must(const GridLocation& w, const GridSelection& s = {}) {
  Result<GridIntensity> r = LookupGridIntensity(w, s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : GridIntensity{};
}
GridLocation Zone(std::string z) { GridLocation w; w.zone = std::move(z); return w; }
GridLocation Country(std::string c) { GridLocation w; w.country = std::move(c); return w; }
GridLocation Region(std::string r, std::string c = "") {
  GridLocation w;
  w.region = std::move(r);
  w.country = std::move(c);
  return w;
}
GridLocation Cloud(std::string p, std::string r) {
  GridLocation w;
  w.cloud_provider = std::move(p);
  w.cloud_region = std::move(r);
  return w;
}

TEST(GridData, YearsAndSizes) {
  const std::vector<int> years = ElectricityMapsYears();
  ASSERT_EQ(years.front(), 2021);
  ASSERT_GE(years.size(), 5u);
  EXPECT_GE(Zones().size(), 350u);
  EXPECT_EQ(ListZones().size(), Zones().size());
  EXPECT_EQ(ListCloudRegions().size(), ReadDataCsv("cloud_regions.csv").size());
  EXPECT_EQ(GridDataPackage(), "@tgwf/co2 0.19.0");
}

TEST(GridLookup, EveryZoneGetsItsLatestElectricityMapsYear) {
  const std::string year = LastYear();
  for (const auto& [key, row] : Zones()) {
    const GridIntensity g = Must(Zone(key));
    EXPECT_EQ(g.g_per_kwh, Csv(row.at(year))) << key;
    EXPECT_EQ(g.year, ElectricityMapsYears().back()) << key;
    EXPECT_EQ(g.zone, key);
    EXPECT_EQ(g.zone_name, row.at("name"));
    EXPECT_EQ(g.dataset, GridDataset::kElectricityMaps);
    EXPECT_EQ(g.basis, "average");
    EXPECT_EQ(g.country_iso3, row.at("iso3")) << key;
  }
}

TEST(GridLookup, ZoneKeysAreCaseInsensitive) {
  const GridIntensity g = Must(Zone("se-se1"));
  EXPECT_EQ(g.zone, "SE-SE1");
  EXPECT_EQ(g.country_name, "Sweden");
  EXPECT_EQ(g.source, "Electricity Maps, " + LastYear() +
                          " yearly average (lifecycle), zone SE-SE1; ODbL; via @tgwf/co2 0.19.0");
}

TEST(GridLookup, CountryByIso2Iso3AndNames) {
  const double fr = Csv(Zones().at("FR").at(LastYear()));
  for (const char* name : {"FR", "fr", "FRA", "France", "FRANCE", " French Republic "}) {
    const GridIntensity g = Must(Country(name));
    EXPECT_EQ(g.g_per_kwh, fr) << name;
    EXPECT_EQ(g.zone, "FR") << name;
    EXPECT_EQ(g.country_iso3, "FRA") << name;
    EXPECT_EQ(g.country_iso2, "FR") << name;
  }
  EXPECT_EQ(Must(Country("United States of America")).zone, "US");
  EXPECT_EQ(Must(Country("Russia")).country_iso3, "RUS");  // Electricity Maps' name
}

TEST(GridLookup, YearSelection) {
  for (int y : ElectricityMapsYears()) {
    GridSelection s;
    s.year = y;
    const GridIntensity g = Must(Zone("IN-WE"), s);
    EXPECT_EQ(g.g_per_kwh, Csv(Zones().at("IN-WE").at(std::to_string(y))));
    EXPECT_EQ(g.year, y);
  }
  GridSelection old;
  old.year = 2019;
  Result<GridIntensity> r = LookupGridIntensity(Zone("IN-WE"), old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("years held: 2021-"), std::string::npos) << r.status().message();
}

TEST(GridLookup, CountryWithoutZoneFallsBackToEmber) {
  ASSERT_EQ(Zones().count("CL"), 0u);  // Chile only has CL-SEN
  const GridIntensity g = Must(Country("Chile"));
  EXPECT_EQ(g.dataset, GridDataset::kEmber);
  EXPECT_EQ(g.g_per_kwh, Csv(Countries().at("CHL").at("ember_g_per_kwh")));
  EXPECT_EQ(g.year, 0);
  EXPECT_EQ(g.zone, "CHL");
  EXPECT_EQ(g.basis, "average");
  EXPECT_NE(g.source.find("Ember"), std::string::npos);
  EXPECT_NE(g.source.find("CC BY-SA 4.0"), std::string::npos);
  // A year asks for Electricity Maps, which has no Chile-wide zone.
  GridSelection s;
  s.year = 2023;
  EXPECT_EQ(LookupGridIntensity(Country("Chile"), s).status().code(), Status::Code::kNotFound);
}

TEST(GridLookup, EmberAndMarginalAreSelectable) {
  GridSelection ember;
  ember.dataset = GridDataset::kEmber;
  EXPECT_EQ(Must(Country("FR"), ember).g_per_kwh, Csv(Countries().at("FRA").at("ember_g_per_kwh")));
  // A sub-national zone selects its country's Ember figure.
  EXPECT_EQ(Must(Zone("SE-SE1"), ember).g_per_kwh, Csv(Countries().at("SWE").at("ember_g_per_kwh")));

  GridSelection marginal;
  marginal.dataset = GridDataset::kUnfccc;
  const GridIntensity m = Must(Country("IND"), marginal);
  EXPECT_EQ(m.g_per_kwh, Csv(Countries().at("IND").at("unfccc_marginal_g_per_kwh")));
  EXPECT_EQ(m.basis, "marginal");
  EXPECT_EQ(m.year, 2021);
  EXPECT_EQ(m.dataset, GridDataset::kUnfccc);

  GridSelection both = marginal;
  both.year = 2022;
  EXPECT_EQ(LookupGridIntensity(Country("IND"), both).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(*ParseGridDataset("Ember"), GridDataset::kEmber);
  EXPECT_FALSE(ParseGridDataset("iea").ok());
}

TEST(GridLookup, SubNationalRegions) {
  struct Case {
    const char* region;
    const char* country;
    const char* zone;
  } cases[] = {
      {"California", "", "US-CAL-CISO"}, {"us-ca", "", "US-CAL-CISO"}, {"Texas", "US", "US-TEX-ERCO"},
      {"Quebec", "", "CA-QC"},           {"Québec", "", "CA-QC"},      {"Victoria", "AU", "AU-VIC"},
      {"New South Wales", "", "AU-NSW"}, {"Tokyo", "Japan", "JP-TK"},  {"Maharashtra", "", "IN-WE"},
      {"Australian Capital Territory", "", "AU-NSW"}, {"SE-SE1", "", "SE-SE1"},
  };
  for (const Case& c : cases) {
    const GridIntensity g = Must(Region(c.region, c.country));
    EXPECT_EQ(g.zone, c.zone) << c.region;
    EXPECT_EQ(g.g_per_kwh, Csv(Zones().at(c.zone).at(LastYear()))) << c.region;
  }
  const GridIntensity ca = Must(Region("California"));
  EXPECT_EQ(ca.region, "California (US-CA)");
  EXPECT_EQ(ca.country_iso3, "USA");
  // Restricted to the given country.
  Result<GridIntensity> r = LookupGridIntensity(Region("Texas", "Canada"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("in Canada"), std::string::npos) << r.status().message();
}

TEST(GridLookup, CloudRegions) {
  const GridIntensity g = Must(Cloud("aws", "ca-central-1"));
  EXPECT_EQ(g.zone, "CA-QC");
  EXPECT_EQ(g.country_iso3, "CAN");
  EXPECT_EQ(g.region, "aws ca-central-1 (Montreal, Canada)");
  EXPECT_EQ(Must(Cloud("GCP", "europe-west9")).zone, "FR");
  EXPECT_EQ(Must(Cloud("azure", "SwedenCentral")).zone, "SE-SE3");
  EXPECT_EQ(LookupGridIntensity(Cloud("ibm", "us-south")).status().code(), Status::Code::kInvalidArgument);
  GridLocation no_provider;
  no_provider.cloud_region = "eu-west-1";
  EXPECT_EQ(LookupGridIntensity(no_provider).status().code(), Status::Code::kInvalidArgument);
}

TEST(GridLookup, EveryCloudRegionMapsToAZoneInTheData) {
  size_t per_provider[3] = {0, 0, 0};
  for (const auto& row : ReadDataCsv("cloud_regions.csv")) {
    ASSERT_EQ(Zones().count(row.at("zone")), 1u) << row.at("provider") << " " << row.at("region");
    const GridIntensity g = Must(Cloud(row.at("provider"), row.at("region")));
    EXPECT_EQ(g.zone, row.at("zone"));
    EXPECT_EQ(g.g_per_kwh, Csv(Zones().at(row.at("zone")).at(LastYear())));
    const std::string p = row.at("provider");
    ++per_provider[p == "aws" ? 0 : p == "gcp" ? 1 : 2];
  }
  EXPECT_GE(per_provider[0], 30u);  // aws
  EXPECT_GE(per_provider[1], 40u);  // gcp
  EXPECT_GE(per_provider[2], 55u);  // azure
}

TEST(GridLookup, EverySubNationalMappingHitsAZone) {
  for (const auto& row : ReadDataCsv("intensity/regions.csv")) {
    EXPECT_EQ(Zones().count(row.at("zone")), 1u) << row.at("code");
    EXPECT_EQ(Must(Region(row.at("code"))).zone, row.at("zone")) << row.at("code");
  }
}

TEST(GridLookup, UnknownNamesSuggestTheClosest) {
  auto message = [](const GridLocation& w) { return LookupGridIntensity(w).status().message(); };
  EXPECT_NE(message(Country("Frnace")).find("did you mean FRA (France)?"), std::string::npos);
  EXPECT_NE(message(Zone("SE-SE5")).find("did you mean SE-SE"), std::string::npos);
  EXPECT_NE(message(Region("Californa")).find("did you mean US-CA (California)?"), std::string::npos);
  EXPECT_NE(message(Cloud("aws", "ca-central-2")).find("did you mean ca-central-1?"), std::string::npos);
  EXPECT_EQ(LookupGridIntensity(Country("Atlantis")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(LookupGridIntensity(Country("")).status().code(), Status::Code::kInvalidArgument);
}

TEST(GridLookup, ProvenanceIsFilledIn) {
  const GridIntensity g = Must(Region("Quebec"));
  const IntensityProvenance p = ToProvenance(g, "explicit --region");
  EXPECT_EQ(p.zone, "CA-QC");
  EXPECT_EQ(p.country_iso3, "CAN");
  EXPECT_EQ(p.country_name, "Canada");
  EXPECT_EQ(p.region, "Quebec (CA-QC)");
  EXPECT_EQ(p.source, g.source);
  EXPECT_EQ(p.year, ElectricityMapsYears().back());
  EXPECT_EQ(p.basis, "average");
  EXPECT_EQ(p.resolution, "explicit --region: region CA-QC (Quebec) -> zone CA-QC: ISO 3166-2 code is the zone key");
  EXPECT_FALSE(p.is_default);
  const IntensityTimeline t = ToTimeline(g, "x");
  ASSERT_EQ(t.points.size(), 1u);
  EXPECT_EQ(t.points[0].value.g_per_kwh(), g.g_per_kwh);
}

TEST(WorldAverage, IsEmbersWorldFigureMarkedAsDefault) {
  const auto aggregates = ByKey(ReadDataCsv("intensity/ember_aggregates.csv"), "key");
  const IntensityTimeline w = WorldAverageIntensity();
  EXPECT_EQ(w.points.at(0).value.g_per_kwh(), Csv(aggregates.at("WORLD").at("ember_g_per_kwh")));
  EXPECT_TRUE(w.provenance.is_default);
  EXPECT_EQ(w.provenance.zone, "WORLD");
  EXPECT_TRUE(w.provenance.country_iso3.empty());
  EXPECT_NE(w.provenance.source.find("Ember"), std::string::npos);
}

TEST(CountryIntensityTimeline, UsesTheDefaultDataSet) {
  Result<IntensityTimeline> t = CountryIntensityTimeline("DEU");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->points.at(0).value.g_per_kwh(), Csv(Zones().at("DE").at(LastYear())));
  EXPECT_EQ(t->provenance.resolution, "explicit --country: country DEU");
  EXPECT_FALSE(CountryIntensityTimeline("GER").ok());
}

}  // namespace
}  // namespace wattprint
