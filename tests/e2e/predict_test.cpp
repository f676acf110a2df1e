// End-to-end tests of `wattprint predict`: a record with tasks, as the
// library writes it (MakeRunRecord over a ledger of known readings, then
// the JSON writer), read by the real binary; its text and JSON; usage
// errors (exit 2, one line), among them a real `wattprint run` record,
// which has no tasks; the live forecast and the account's budget from fake
// servers on 127.0.0.1.
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"
#include "support/fake_http.h"
#include "wattprint/live_intensity.h"
#include "wattprint/run_record.h"

namespace wattprint::testing {
namespace {

using nlohmann::json;

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// Three epochs of 60 s, 62 s and 58 s; the CPU package counter moves
// 36 kJ, 39.6 kJ and 32.4 kJ (0.010, 0.011 and 0.009 kWh); 250 g/kWh;
// inside Slurm job 77 of account physics.
RunResult EpochRun() {
  ChannelInfo pkg;
  pkg.id = pkg.device_id = "powercap:package-0";
  pkg.kind = DeviceKind::kCpu;
  pkg.type = ChannelType::kEnergyCounter;
  pkg.wrap_range = Energy::Joules(262143.328850);
  auto ledger = std::make_shared<Ledger>(std::vector<ChannelInfo>{pkg});
  const SystemTime wall0 = SystemTime{} + std::chrono::seconds(1780272000);  // 2026-06-01T00:00Z
  const double joules[] = {1000, 37000, 76600, 109000};
  const int t_s[] = {0, 60, 122, 180};
  for (int i = 0; i < 4; ++i) {
    Reading r = Reading::Of(joules[i]);
    ledger->Add(SteadyTime{} + std::chrono::seconds(t_s[i]), wall0 + std::chrono::seconds(t_s[i]), {&r, 1},
                ActivitySnapshot{});
  }
  RunResult run;
  run.meta.run_id = "7d1c9a52-2f0e-4c55-9f0e-5a1b2c3d4e5f";
  run.meta.tool_version = "0.1.0";
  run.meta.cluster_job = ClusterJob{"hpc", "77", "0", "node1", "ada", "physics", "gpu"};
  run.snapshot.ledger = ledger;
  run.snapshot.wall_start = run.wall_start = wall0;
  for (size_t i = 0; i < 3; ++i) {
    run.snapshot.tasks.push_back({"epoch " + std::to_string(i + 1), i, i + 1, wall0 + std::chrono::seconds(t_s[i]),
                                  wall0 + std::chrono::seconds(t_s[i + 1])});
  }
  IntensityProvenance p;
  p.zone = "FRA";
  p.country_iso3 = "FRA";
  p.source = "test grid";
  run.intensity = IntensityTimeline::Constant(Intensity::GramsPerKwh(250), p);
  return run;
}

class PredictE2e : public ::testing::Test {
 protected:
  TempTree dir_;
  std::string record_;
  void SetUp() override {
    record_ = dir_.Path("run.json");
    dir_.Write("run.json", RunRecordToJson(MakeRunRecord(EpochRun())).dump(2));
  }
  BinaryResult Predict(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"predict", record_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunWattprint(args, dir_.root());
  }
};

TEST_F(PredictE2e, TextBlockFromTheRecordsTasks) {
  BinaryResult r = Predict({"--tasks", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // 0.030 kWh done + 27 x 0.010 kWh; 180 s + 27 x 60 s; 250 g/kWh.
  EXPECT_EQ(r.out.rfind("prediction for 30 tasks, after 3 done:\n  energy    300 Wh ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  CO2e      75.0 g "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  duration  30.0 min "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  to come   27 tasks: 270 Wh, 67.5 g CO2e, 27.0 min\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("90 % Student-t prediction interval (2 degrees of freedom) for the 27 tasks to come"),
            std::string::npos);
  EXPECT_NE(r.out.find("  basis     3 tasks: mean 1.00 min (sd 2.00 s) and 10.0 Wh (sd 1.00 Wh) per task\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  intensity for the remaining 27.0 min: current intensity of the run (test grid), 250 g/kWh\n"),
            std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos);
  EXPECT_EQ(r.out.find("budget"), std::string::npos);  // no collector configured: nothing said
}

TEST_F(PredictE2e, JsonWithExactFiguresAndTheChosenConfidence) {
  BinaryResult r = Predict({"--tasks", "30", "--json", "--confidence", "0.95"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["done_tasks"], 3);
  EXPECT_EQ(j["total_tasks"], 30);
  EXPECT_EQ(j["confidence"], 0.95);
  EXPECT_NEAR(j["energy_kwh"]["value"].get<double>(), 0.3, 1e-12);
  EXPECT_NEAR(j["emissions_kg"]["value"].get<double>(), 0.3 * 0.25, 1e-12);
  EXPECT_NEAR(j["duration_s"]["value"].get<double>(), 1800, 1e-9);
  // t(0.975, 2) = 4.303 (NIST/SEMATECH table); sd 0.001 kWh.
  const double half = 4.303 * 0.001 * std::sqrt(27 + 27.0 * 27 / 3);
  EXPECT_NEAR(j["energy_kwh"]["high"].get<double>() - 0.3, half, 1e-4);
  EXPECT_NEAR(0.3 - j["energy_kwh"]["low"].get<double>(), half, 1e-4);
  EXPECT_EQ(j["remaining"]["tasks"], 27);
  EXPECT_EQ(j["intensity"]["g_per_kwh"], 250.0);
  EXPECT_FALSE(j["intensity"]["forecast"].get<bool>());
  EXPECT_TRUE(j["budget"].is_null());
}

TEST_F(PredictE2e, UsageErrorsAreOneLineAndExitTwo) {
  const struct {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{"predict", "run.json"}, "wattprint: error: --tasks is required; run 'wattprint predict --help' for usage\n"},
      {{"predict", "missing.json", "--tasks", "5"},
       "wattprint: error: cannot read missing.json: No such file or directory\n"},
      {{"predict", "run.json", "--tasks", "2"},
       "wattprint: error: run.json: the total number of tasks (2) is below the 3 tasks already done\n"},
      {{"predict", "run.json", "--tasks", "0"},
       "wattprint: error: --tasks 0: give the run's total number of tasks (1 or more)\n"},
      {{"predict", "run.json", "--tasks", "5", "--confidence", "1.5"},
       "wattprint: error: --confidence 1.5: give a level between 0 and 1, e.g. 0.9\n"},
      {{"predict", "notes.txt", "--tasks", "5"},
       "wattprint: error: notes.txt: not JSON (give the record --json wrote)\n"},
      {{"predict", "other.json", "--tasks", "5"},
       "wattprint: error: other.json: not a wattprint JSON record: record.schema_version: missing\n"},
  };
  dir_.Write("notes.txt", "epoch 1: fine\n");
  dir_.Write("other.json", R"({"hello": "world"})");
  for (const auto& c : cases) {
    BinaryResult r = RunWattprint(c.args, dir_.root());
    EXPECT_EQ(r.exit_code, 2) << c.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
    if (c.err.find("schema_version") != std::string::npos) {
      EXPECT_EQ(r.err.rfind("wattprint: error: other.json: not a wattprint JSON record: ", 0), 0u) << r.err;
    } else {
      EXPECT_EQ(r.err, c.err);
    }
  }
}

// A record from a real `wattprint run` has no tasks: a clear usage error.
TEST_F(PredictE2e, ARealRunRecordWithoutTasks) {
  TempTree sys;
  WriteRaplTree(sys, 1000000, 2000000);
  BinaryResult run = RunWattprint({"run", "--sysfs-root", sys.Path("sys"), "--no-save", "--quiet", "--json",
                                   dir_.Path("plain.json"), "--", "true"},
                                  dir_.root());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  BinaryResult r = RunWattprint({"predict", "plain.json", "--tasks", "10"}, dir_.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "wattprint: error: plain.json: the record has no tasks (the Python tracker's start_task()/stop_task() "
            "mark them)\n");
}

// The UK forecast for the remaining time, and the account's budget, from
// fake servers; the prediction says which intensity it used.
TEST_F(PredictE2e, ForecastAndBudgetFromFakeServers) {
  FakeHttpServer uk, collector;
  std::string asked;
  uk.server().Get(R"(/intensity/([^/]+)/fw24h)", [&](const httplib::Request& req, httplib::Response& res) {
    asked = req.matches[1];
    Result<SystemTime> from = ParseIsoUtc(asked);
    json periods = json::array();
    for (int i = 0; from.ok() && i < 48; ++i) {
      const SystemTime a = *from + std::chrono::minutes(30 * i);
      periods.push_back({{"from", FormatIsoUtc(a)},
                         {"to", FormatIsoUtc(a + std::chrono::minutes(30))},
                         {"intensity", {{"forecast", 120}, {"actual", nullptr}, {"index", "low"}}}});
    }
    res.set_content(json{{"data", periods}}.dump(), "application/json");
  });
  std::string auth;
  collector.server().Get("/api/v1/budgets/physics", [&](const httplib::Request& req, httplib::Response& res) {
    auth = req.get_header_value("Authorization");
    res.set_content(R"({"account":"physics","year":2026,"budget_kg":1.0,"spent_kg":0.7,"remaining_kg":0.3,)"
                    R"("state":"ok"})",
                    "application/json");
  });
  uk.Start();
  collector.Start();
  BinaryResult r = Predict({"--tasks", "30", "--live-intensity", "uk", "--uk-intensity-url", uk.url(), "--collector",
                            collector.url(), "--collector-token", "secret"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(asked.size(), 17u) << asked;  // "2026-06-01T12:30Z": the half-hour now falls in
  EXPECT_EQ(auth, "Bearer secret");
  EXPECT_NE(r.out.find("  intensity for the remaining 27.0 min: UK Carbon Intensity API (national), forecast, mean "
                       "120 g/kWh\n"),
            std::string::npos) << r.out;
  // 7.5 g for the done tasks (0.030 kWh at 250 g/kWh) + 0.270 kWh at 120 g/kWh.
  EXPECT_NE(r.out.find("  CO2e      39.9 g "), std::string::npos) << r.out;
  // 39.9 g of the 300 g left.
  EXPECT_NE(r.out.find("  budget    the whole run would take 13 % of account physics's remaining 300 g CO2e for 2026\n"),
            std::string::npos) << r.out;

  // Nothing answers: the prediction still comes, with notes.
  uk.Stop();
  collector.Stop();
  BinaryResult down = Predict({"--tasks", "30", "--live-intensity", "uk", "--uk-intensity-url", uk.url(),
                               "--collector", collector.url(), "--json"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  const json j = json::parse(down.out);
  EXPECT_FALSE(j["intensity"]["forecast"].get<bool>());
  EXPECT_EQ(j["intensity"]["g_per_kwh"], 250.0);
  ASSERT_EQ(j["notes"].size(), 2u) << j.dump();
  EXPECT_EQ(j["notes"][0].get<std::string>().rfind("no intensity forecast: UK Carbon Intensity API: ", 0), 0u);
  EXPECT_EQ(j["notes"][1].get<std::string>().rfind("budget of account physics not checked: ", 0), 0u);
}

}  // namespace
}  // namespace wattprint::testing
