// The end-of-run summary (golden file), the live status line, and the
// everyday equivalents.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "output_fixture.h"
#include "wattprint/report.h"

namespace wattprint {
namespace {

using testing::FixtureRun;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectGolden(const std::string& got, const std::string& name) {
  const std::string path = std::string(WATTPRINT_GOLDEN) + "/" + name;
  if (getenv("WATTPRINT_UPDATE_GOLDEN")) std::ofstream(path, std::ios::binary) << got;
  EXPECT_EQ(got, ReadAll(path)) << "regenerate with WATTPRINT_UPDATE_GOLDEN=1 after review";
}

TEST(Summary, GoldenMachineScope) { ExpectGolden(FormatSummary(FixtureRun()), "summary_machine.txt"); }

TEST(Summary, GoldenProcessScopeWorldAverageWithPue) {
  RunResult run = FixtureRun();
  run.scope = Scope::kProcess;
  run.meta.pue = 1.5;
  run.intensity = WorldAverageIntensity();
  run.sources.push_back(testing::FixtureProbe("perf_rapl", ProbeState::kDenied,
                                              "perf_event_paranoid is 2",
                                              "sudo sysctl kernel.perf_event_paranoid=0", {}));
  ExpectGolden(FormatSummary(run), "summary_process_default.txt");
}

// Manufacturing emissions: one line of their own, after the operational
// figures, which do not change; then what could not be counted.
TEST(Summary, GoldenEmbodiedApartFromTheOperationalFigures) {
  RunResult run = FixtureRun();
  run.meta.cpu_sockets = 2;
  run.meta.embodied_factors = BuiltinEmbodiedFactors();
  const std::string with = FormatSummary(run);
  ExpectGolden(with, "summary_embodied.txt");
  const size_t at = with.find("  embodied    ");
  ASSERT_NE(at, std::string::npos) << with;
  const size_t end = with.find("not counted: gpu-0: GPU model unknown\n", at);
  ASSERT_NE(end, std::string::npos) << with;
  std::string rest = with;
  rest.erase(at, end + std::string("not counted: gpu-0: GPU model unknown\n").size() - at);
  EXPECT_EQ(rest, FormatSummary(FixtureRun()));
  EXPECT_NE(with.find("(manufacturing, amortised over 4 years; not included above)"), std::string::npos) << with;
}

TEST(Summary, EmbodiedWithNothingCountedSaysWhy) {
  RunResult run = FixtureRun();
  run.scope = Scope::kProcess;
  run.meta.ram_total_bytes = 0;
  std::vector<EmbodiedFactor> gpus_only;
  for (const EmbodiedFactor& f : BuiltinEmbodiedFactors()) {
    if (f.kind == EmbodiedKind::kGpu) gpus_only.push_back(f);
  }
  run.meta.embodied_factors = gpus_only;
  EXPECT_NE(FormatSummary(run).find("  embodied    none counted: server: no server row in the table; cpu: socket "
                                    "count unknown (no \"physical id\" in /proc/cpuinfo); dram: memory size unknown "
                                    "(no MemTotal in /proc/meminfo); gpu-0: GPU model unknown\n"),
            std::string::npos)
      << FormatSummary(run);
}

TEST(Summary, SaysWhichScopeFeedsEmissions) {
  RunResult run = FixtureRun();
  const std::string s = FormatSummary(run);
  EXPECT_NE(s.find("machine 0.0011 kWh (3960 J)  <- feeds emissions"), std::string::npos) << s;
  EXPECT_NE(s.find("process 0.0002563 kWh (922.5 J)\n"), std::string::npos) << s;
}

TEST(Summary, WorldAverageIsSaidPlainly) {
  RunResult run = FixtureRun();
  run.intensity = WorldAverageIntensity();
  EXPECT_NE(FormatSummary(run).find(
                "location not configured: world average used; pass --country, --zone or --region"),
            std::string::npos);
}

TEST(Summary, FailedDetectionIsOneLineWithTheReasonAndTheFix) {
  RunResult run = FixtureRun();
  run.intensity = WorldAverageIntensity();
  run.intensity.provenance.location_step = "world average";
  run.intensity.provenance.resolution = "world average (location not found: time zone Etc/UTC names no country)";
  const std::string s = FormatSummary(run);
  EXPECT_NE(s.find("\n              location: world average (location not found: time zone Etc/UTC names "
                   "no country); pass --country, --zone or --region\n  equivalent"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("location not configured"), std::string::npos) << s;
}

TEST(Summary, UnavailableChannelIsNotZero) {
  const std::string s = FormatSummary(FixtureRun());
  EXPECT_NE(s.find("gpu         unavailable: NotFound: libnvidia-ml.so.1 not found"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("gpu         0"), std::string::npos);
}

TEST(Summary, IsCompact) {
  const std::string s = FormatSummary(FixtureRun());
  const auto lines = std::count(s.begin(), s.end(), '\n');
  EXPECT_GE(lines, 10);
  EXPECT_LE(lines, 16);
}

TEST(Summary, EstimatedKindNamesItsModel) {
  auto infos = testing::FixtureChannels();
  infos[0].method = Method::kEstimated;
  infos[0].type = ChannelType::kPower;
  infos[0].model = {{"name", "TDP x utilisation"}, {"tdp_w", "15"}};
  auto ledger = std::make_shared<Ledger>(infos);
  for (int i = 0; i < 2; ++i) {
    std::vector<Reading> r = {Reading::Of(7.5), Reading::Of(10.0 * i), Reading::Of(20)};
    ledger->Add(testing::FixedSteady() + std::chrono::seconds(i),
                testing::FixedWall() + std::chrono::seconds(i), r, testing::FixtureActivity(i));
  }
  RunResult run = FixtureRun();
  run.snapshot.ledger = ledger;
  const std::string s = FormatSummary(run);
  EXPECT_NE(s.find("cpu         2.083e-06 kWh (7.5 J)  estimated: TDP x utilisation"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("measured power"), std::string::npos) << s;  // the GPU now reads
}

TEST(LiveStatus, PowerEnergyCo2AndElapsed) {
  // Last interval: 1800 + 180 J over 1 s = 1980 W; total 3960 J; 0.0616 g.
  EXPECT_EQ(FormatLiveStatus(FixtureRun()), "1980.0 W  |  3960 J  |  0.0616 g CO2e  |  00:00:02");
}

TEST(LiveStatus, BeforeFirstReading) {
  RunResult run = FixtureRun();
  run.snapshot.ledger = std::make_shared<Ledger>(testing::FixtureChannels());
  EXPECT_EQ(FormatLiveStatus(run), "waiting for the first reading...");
}

TEST(Equivalents, PublishedFactors) {
  const auto eq = EverydayEquivalents(Energy::KilowattHours(187.0 / 365.0 * 3), Co2e::Grams(400));
  ASSERT_EQ(eq.size(), 5u);
  EXPECT_EQ(eq[0].key, "household_week");
  EXPECT_DOUBLE_EQ(eq[0].amount, 0.4 / (8350.0 / 52.0));  // a fraction of 160.58 kg
  EXPECT_NE(eq[0].source.find("160.58 kg/week"), std::string::npos);
  EXPECT_EQ(eq[1].key, "car_km");
  EXPECT_DOUBLE_EQ(eq[1].amount, 1.609344);  // 400 g = one mile
  EXPECT_EQ(eq[1].unit, "km driven by an average passenger car");
  EXPECT_NE(eq[1].source.find("EPA"), std::string::npos);
  EXPECT_NE(eq[1].source.find("2023"), std::string::npos);
  EXPECT_EQ(eq[2].key, "car_miles");
  EXPECT_DOUBLE_EQ(eq[2].amount, 1.0);
  EXPECT_EQ(eq[3].key, "tv_days");
  EXPECT_DOUBLE_EQ(eq[3].amount, 3.0);  // from the energy, not the mass
  EXPECT_NE(eq[3].source.find("187 kWh/year"), std::string::npos);
  EXPECT_EQ(eq[4].key, "phone_charges");
  EXPECT_DOUBLE_EQ(eq[4].amount, 400 / 8.22);
  EXPECT_NE(eq[4].source.find("8.22e-6"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
