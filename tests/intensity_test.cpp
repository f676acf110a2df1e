// The built-in intensity table: lookups by ISO3, ISO2 and name, the world
// average default, provenance, and did-you-mean on unknown names.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "wattprint/intensity.h"

namespace wattprint {
namespace {

double G(const IntensityTimeline& t) { return t.points.at(0).value.g_per_kwh(); }

TEST(BuiltinTable, SortedUniqueAndPlausible) {
  auto table = BuiltinCountryTable();
  ASSERT_GE(table.size(), 30u);
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(std::string(table[i - 1].iso3), std::string(table[i].iso3));
  }
  for (const auto& row : table) {
    EXPECT_EQ(std::string(row.iso3).size(), 3u) << row.name;
    EXPECT_EQ(std::string(row.iso2).size(), 2u) << row.name;
    EXPECT_GT(row.g_per_kwh, 0) << row.name;
    EXPECT_LT(row.g_per_kwh, 1200) << row.name;
    EXPECT_EQ(row.year, 2023) << row.name;
    EXPECT_NE(std::string(row.source).find("Ember"), std::string::npos);
  }
}

TEST(BuiltinTable, CoversTheMainCountries) {
  for (const char* iso3 : {"FRA", "DEU", "GBR", "USA", "CAN", "CHN", "IND", "JPN", "AUS", "BRA",
                           "SWE", "NOR", "POL", "ZAF", "ESP", "ITA", "NLD", "IRL", "CHE", "KOR"}) {
    EXPECT_TRUE(CountryIntensityTimeline(iso3).ok()) << iso3;
  }
}

TEST(CountryLookup, Iso3Iso2AndNameCaseInsensitive) {
  for (const char* key : {"FRA", "fra", "FR", "fr", "France", "FRANCE", " france "}) {
    auto r = CountryIntensityTimeline(key);
    ASSERT_TRUE(r.ok()) << key;
    EXPECT_EQ(G(*r), 56) << key;
    EXPECT_EQ(r->provenance.country_iso3, "FRA");
  }
  EXPECT_EQ(G(*CountryIntensityTimeline("DEU")), 381);
  EXPECT_EQ(G(*CountryIntensityTimeline("pl")), 662);
  EXPECT_EQ(G(*CountryIntensityTimeline("United Kingdom")), 238);
}

TEST(CountryLookup, ProvenanceIsFilled) {
  auto r = CountryIntensityTimeline("SE");
  ASSERT_TRUE(r.ok());
  const IntensityProvenance& p = r->provenance;
  EXPECT_EQ(p.zone, "SWE");
  EXPECT_EQ(p.country_iso3, "SWE");
  EXPECT_EQ(p.country_name, "Sweden");
  EXPECT_EQ(p.year, 2023);
  EXPECT_EQ(p.basis, "average");
  EXPECT_EQ(p.resolution, "explicit --country");
  EXPECT_FALSE(p.is_default);
  EXPECT_NE(p.source.find("Ember"), std::string::npos);
  // A yearly average applies at every instant.
  EXPECT_EQ(r->At(SystemTime{} + std::chrono::hours(24 * 365 * 54)).g_per_kwh(), 41);
}

TEST(CountryLookup, UnknownSaysNotFoundWithDidYouMean) {
  auto r = CountryIntensityTimeline("Frnace");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("did you mean FRA (France)?"), std::string::npos)
      << r.status().message();
  auto g = CountryIntensityTimeline("GER");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("did you mean"), std::string::npos);
  EXPECT_FALSE(CountryIntensityTimeline("").ok());
}

TEST(WorldAverage, IsMarkedAsDefault) {
  IntensityTimeline w = WorldAverageIntensity();
  EXPECT_EQ(G(w), 481);
  EXPECT_TRUE(w.provenance.is_default);
  EXPECT_EQ(w.provenance.resolution, "world average (location not configured)");
  EXPECT_EQ(w.provenance.country_iso3, "");
  EXPECT_EQ(w.provenance.year, 2023);
  EXPECT_NE(w.provenance.source.find("Ember"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
