// The library session (wattprint/session.h): config -> intensity, location
// options and cache placement, the pieces the CLI and Python share.
#include "wattprint/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_tree.h"

namespace wattprint {
namespace {

using ::testing::HasSubstr;
using testing::TempTree;

Config With(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Config c;
  for (const auto& [k, v] : kv) {
    Status st = ApplyConfigValue(&c, k, v, "test", "test");
    EXPECT_TRUE(st.ok()) << k << ": " << st.ToString();
  }
  return c;
}

TEST(Session, AverageBasisKeepsTheMarginalAsTheOther) {
  const Config cfg = With({{"country", "FRA"}});
  Result<IntensityChoice> c = ChooseIntensity(cfg, Location{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chosen.provenance.basis, "average");
  EXPECT_EQ(c->chosen.provenance.location_step, "explicit");
  ASSERT_TRUE(c->other.has_value());
  EXPECT_EQ(c->other->provenance.basis, "marginal");
  EXPECT_GT(c->other->points[0].value.g_per_kwh(), c->chosen.points[0].value.g_per_kwh());
}

TEST(Session, MarginalBasisFeedsEmissionsAndKeepsTheAverage) {
  const Config cfg = With({{"country", "FRA"}, {"intensity_basis", "marginal"}});
  EXPECT_EQ(cfg.intensity_basis, IntensityBasis::kMarginal);
  Result<IntensityChoice> c = ChooseIntensity(cfg, Location{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chosen.provenance.basis, "marginal");
  ASSERT_TRUE(c->other.has_value());
  EXPECT_EQ(c->other->provenance.basis, "average");
}

TEST(Session, MarginalWithoutALocationIsAnErrorNotAGuess) {
  const Config cfg = With({{"intensity_basis", "marginal"}});
  Result<IntensityChoice> c = ChooseIntensity(cfg, Location{});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no marginal intensity without a location"));
}

TEST(Session, DetectedTimeZoneCountryGetsItsMarginalToo) {
  Location loc;
  loc.step = LocationStep::kTimeZone;
  loc.place.country = "FR";
  loc.detail = "time zone Europe/Paris";
  const Config cfg = With({{"intensity_basis", "marginal"}});
  Result<IntensityChoice> c = ChooseIntensity(cfg, loc);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chosen.provenance.basis, "marginal");
  EXPECT_EQ(c->chosen.provenance.location_step, "time zone");
}

TEST(Session, LiveReadingsJoinTheAverageOnlyOnTheAverageBasis) {
  LiveSeries live;
  live.source = "UK Carbon Intensity API (test)";
  live.points = {{std::chrono::system_clock::now(), Intensity::GramsPerKwh(42)}};
  live.readings = 1;
  Result<IntensityChoice> avg = ChooseIntensity(With({{"country", "GBR"}}), Location{}, &live);
  ASSERT_TRUE(avg.ok());
  EXPECT_EQ(avg->chosen.points.back().value.g_per_kwh(), 42);
  Result<IntensityChoice> marg =
      ChooseIntensity(With({{"country", "GBR"}, {"intensity_basis", "marginal"}}), Location{}, &live);
  ASSERT_TRUE(marg.ok());
  EXPECT_EQ(marg->chosen.provenance.basis, "marginal");
  ASSERT_TRUE(marg->other.has_value());
  EXPECT_THAT(marg->other->provenance.note, HasSubstr("not used for the marginal basis"));
}

TEST(Session, LiveProviderAsksForTheLocationsZone) {
  Config cfg = With({{"live_intensity", "electricitymaps"}, {"zone", "SE-SE1"}});
  Location loc;
  loc.step = LocationStep::kExplicit;
  std::shared_ptr<LiveIntensity> live = MakeLiveIntensity(cfg, loc, "");
  ASSERT_TRUE(live);
  EXPECT_EQ(MakeLiveIntensity(With({}), loc, ""), nullptr);  // off by default
  EXPECT_EQ(LivePollPeriod(With({{"live_cache_ttl", "0"}})), std::chrono::seconds(1));
}

TEST(Session, BadEnumValuesAreOneLineErrors) {
  Config c;
  Status st = ApplyConfigValue(&c, "intensity_basis", "marginl", "WATTPRINT_INTENSITY_BASIS=marginl", "env");
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("intensity_basis must be 'average' or 'marginal'"));
  st = ApplyConfigValue(&c, "live_intensity", "yes", "--live-intensity yes", "flag");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(ConfigValueText(c, "live_intensity"), "off");
}

TEST(Session, CacheDirNeverCreatesAMissingHome) {
  TempTree t;
  LocationEnv env;
  env.home = t.Path("nonexistent");
  std::string note;
  EXPECT_EQ(CacheDirFor(env, &note), "");
  EXPECT_THAT(note, HasSubstr("is not an existing directory"));
  env.home = t.root();
  EXPECT_EQ(CacheDirFor(env), t.root() + "/.cache/wattprint");
  env.xdg_state_home = "/state";
  EXPECT_EQ(CacheDirFor(env), "/state/wattprint");
  env.xdg_cache_home = "relative/ignored";
  EXPECT_EQ(CacheDirFor(env), "/state/wattprint");
  env.xdg_cache_home = "/cache";
  EXPECT_EQ(CacheDirFor(env), "/cache/wattprint");
}

TEST(Session, AnIntensityFigureTurnsTheMetadataProbeOff) {
  LocationEnv env;
  EXPECT_TRUE(LocationOptionsFor(With({}), env).cloud_metadata);
  EXPECT_FALSE(LocationOptionsFor(With({{"intensity", "123"}}), env).cloud_metadata);
  EXPECT_FALSE(LocationOptionsFor(With({{"cloud_metadata", "false"}}), env).cloud_metadata);
}

}  // namespace
}  // namespace wattprint
