// Footprint prediction: Student's t against the published table, exact
// totals and intervals with one, two and many tasks, the one-task
// fallback, short runs (no duration, no energy) without NaN, bad input,
// estimate bounds, the remaining-time intensity (current or forecast),
// budgets, and the inputs read from a record and from a live run.
#include "wattprint/predict.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "wattprint/ledger.h"
#include "wattprint/run_record.h"

namespace wattprint {
namespace {

using nlohmann::json;

TaskSample Task(double kwh, double kg, double s) {
  TaskSample t;
  t.energy = Energy::KilowattHours(kwh);
  t.co2e = Co2e::Kilograms(kg);
  t.duration = Seconds(s);
  return t;
}

PredictionInput Input(std::vector<TaskSample> tasks, int total, double confidence = 0.9) {
  PredictionInput in;
  in.tasks = std::move(tasks);
  in.total_tasks = total;
  in.confidence = confidence;
  return in;
}

Prediction MustPredict(const PredictionInput& in) {
  Result<Prediction> p = Predict(in);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : Prediction{};
}

double SampleSd(const std::vector<double>& xs) {
  double mean = 0;
  for (double x : xs) mean += x / static_cast<double>(xs.size());
  double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(xs.size() - 1));
}

// Upper critical values of Student's t, NIST/SEMATECH e-Handbook of
// Statistical Methods, table 1.3.6.7.2 (four decimals).
TEST(StudentT, MatchesThePublishedTable) {
  const struct {
    double p;
    int dof;
    double t;
  } table[] = {{0.95, 1, 6.314},  {0.95, 2, 2.920},  {0.95, 5, 2.015},  {0.975, 10, 2.228},
               {0.995, 30, 2.750}, {0.90, 3, 1.638}, {0.99, 100, 2.364}, {0.999, 4, 7.173}};
  for (const auto& row : table) {
    EXPECT_NEAR(StudentTQuantile(row.p, row.dof), row.t, 6e-4) << row.p << " " << row.dof;
    EXPECT_NEAR(StudentTQuantile(1 - row.p, row.dof), -row.t, 6e-4);
  }
  EXPECT_DOUBLE_EQ(StudentTQuantile(0.5, 7), 0.0);
  EXPECT_TRUE(std::isnan(StudentTQuantile(1.0, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.9, 0)));
}

// One task shows no spread: the tasks to come get +-25 % each, stated.
TEST(Predict, OneTaskUsesTheStatedFallback) {
  const Prediction p = MustPredict(Input({Task(0.010, 0.002, 60)}, 5));
  EXPECT_EQ(p.done_tasks, 1);
  EXPECT_EQ(p.total_tasks, 5);
  EXPECT_DOUBLE_EQ(p.energy.value.kwh(), 0.050);
  EXPECT_DOUBLE_EQ(p.energy.low.kwh(), 0.010 + 4 * 0.010 * (1 - kSingleTaskSpread));
  EXPECT_DOUBLE_EQ(p.energy.high.kwh(), 0.010 + 4 * 0.010 * (1 + kSingleTaskSpread));
  EXPECT_DOUBLE_EQ(p.remaining_energy.value.kwh(), 0.040);
  EXPECT_DOUBLE_EQ(p.co2e.value.kg(), 0.010);
  EXPECT_DOUBLE_EQ(p.co2e.low.kg(), 0.002 + 4 * 0.002 * 0.75);
  EXPECT_DOUBLE_EQ(p.duration.value.count(), 300);
  EXPECT_DOUBLE_EQ(p.duration.high.count(), 60 + 4 * 60 * 1.25);
  EXPECT_DOUBLE_EQ(p.remaining_duration.value.count(), 240);
  EXPECT_EQ(p.basis, "1 task: 1.00 min and 10.0 Wh; one task shows no spread: +-25 % per task is assumed");
  EXPECT_EQ(p.interval, "assumed +-25 % per task for the 4 tasks to come");
}

// Two tasks: sd from two values, t with one degree of freedom; a lower
// bound the interval would put below the done tasks is clamped there.
TEST(Predict, TwoTasksExactSumAndClampedLowerBound) {
  const Prediction p = MustPredict(Input({Task(0.010, 0.001, 100), Task(0.014, 0.0014, 110)}, 10));
  const double t = StudentTQuantile(0.95, 1);
  EXPECT_NEAR(t, 6.314, 1e-3);
  const double sd = SampleSd({0.010, 0.014});
  const double half = t * sd * std::sqrt(8 + 64.0 / 2);
  EXPECT_DOUBLE_EQ(p.energy.value.kwh(), 0.024 + 8 * 0.012);
  EXPECT_NEAR(p.energy.high.kwh(), 0.024 + 8 * 0.012 + half, 1e-15);
  EXPECT_GT(half, 8 * 0.012);  // so the low end is the done tasks alone
  EXPECT_DOUBLE_EQ(p.energy.low.kwh(), 0.024);
  EXPECT_EQ(p.interval, "90 % Student-t prediction interval (1 degree of freedom) for the 8 tasks to come");
  const double dsd = SampleSd({100, 110});
  EXPECT_NEAR(p.duration.value.count(), 210 + 8 * 105, 1e-9);
  EXPECT_NEAR(p.duration.high.count() - p.duration.value.count(), t * dsd * std::sqrt(40.0), 1e-9);
}

TEST(Predict, ManyTasksStudentTIntervalOnTheSum) {
  const std::vector<double> kwh = {0.50, 0.52, 0.49, 0.51, 0.50, 0.53, 0.48, 0.50, 0.51, 0.49};
  std::vector<TaskSample> tasks;
  double sum = 0;
  for (size_t i = 0; i < kwh.size(); ++i) {
    tasks.push_back(Task(kwh[i], kwh[i] * 0.2, 3600 + 10.0 * static_cast<double>(i)));
    sum += kwh[i];
  }
  const Prediction p = MustPredict(Input(tasks, 100, 0.95));
  const double mean = sum / 10, sd = SampleSd(kwh), t = StudentTQuantile(0.975, 9);
  EXPECT_NEAR(t, 2.262, 1e-3);  // the same table, 9 degrees of freedom
  const double half = t * sd * std::sqrt(90 + 8100.0 / 10);
  EXPECT_NEAR(p.energy.value.kwh(), sum + 90 * mean, 1e-12);
  EXPECT_NEAR(p.energy.low.kwh(), sum + 90 * mean - half, 1e-12);
  EXPECT_NEAR(p.energy.high.kwh(), sum + 90 * mean + half, 1e-12);
  EXPECT_NEAR(p.co2e.value.kg(), 0.2 * (sum + 90 * mean), 1e-12);
  EXPECT_EQ(p.interval, "95 % Student-t prediction interval (9 degrees of freedom) for the 90 tasks to come");
  EXPECT_EQ(p.basis.rfind("10 tasks: mean 1.01 h (sd 30.3 s) and 503 Wh (sd ", 0), 0u) << p.basis;
}

// Whatever the tasks, the intervals hold the value, are finite and never
// go below zero.
TEST(Predict, IntervalsContainTheValue) {
  const std::vector<std::vector<TaskSample>> cases = {
      {Task(1, 1, 1)},
      {Task(0.001, 0.5, 10), Task(5, 0, 0)},
      {Task(1e-9, 1e-9, 1e-3), Task(2e-9, 3e-9, 2e-3), Task(1e-9, 0, 0)},
      {Task(100, 40, 7200), Task(120, 50, 7000), Task(80, 30, 7400), Task(110, 45, 7100)},
  };
  for (const auto& tasks : cases) {
    for (int extra : {0, 1, 7, 1000}) {
      const Prediction p = MustPredict(Input(tasks, static_cast<int>(tasks.size()) + extra));
      const double e[] = {p.energy.low.kwh(), p.energy.value.kwh(), p.energy.high.kwh()};
      const double c[] = {p.co2e.low.kg(), p.co2e.value.kg(), p.co2e.high.kg()};
      const double d[] = {p.duration.low.count(), p.duration.value.count(), p.duration.high.count()};
      for (const double* r : {e, c, d}) {
        EXPECT_TRUE(std::isfinite(r[0]) && std::isfinite(r[2]));
        EXPECT_GE(r[0], 0);
        EXPECT_LE(r[0], r[1]);
        EXPECT_LE(r[1], r[2]);
      }
    }
  }
}

// carbontracker's NaN on short runs: tasks of no duration and no energy
// give zeros everywhere, in the text and the JSON too.
TEST(Predict, ShortRunsGiveZerosNotNaN) {
  for (const std::vector<TaskSample>& tasks : {std::vector<TaskSample>{Task(0, 0, 0)},
                                               std::vector<TaskSample>{Task(0, 0, 0), Task(0, 0, 0), Task(0, 0, 0)}}) {
    PredictionInput in = Input(tasks, 50);
    in.remaining_intensity = Intensity::GramsPerKwh(200);
    in.remaining_intensity_source = "current intensity of the run (test)";
    const Prediction p = MustPredict(in);
    EXPECT_EQ(p.energy.value.kwh(), 0);
    EXPECT_EQ(p.energy.high.kwh(), 0);
    EXPECT_EQ(p.co2e.high.kg(), 0);
    EXPECT_EQ(p.duration.high.count(), 0);
    const std::string text = FormatPrediction(p) + PredictionToJson(p).dump();
    EXPECT_EQ(text.find("nan"), std::string::npos) << text;
    EXPECT_EQ(text.find("inf"), std::string::npos) << text;
    ASSERT_FALSE(p.notes.empty());
    EXPECT_EQ(p.notes.back(), "the done tasks measured no energy: are the sources reading anything?");
  }
}

TEST(Predict, BadInputIsAOneLineInvalidArgument) {
  const struct {
    PredictionInput in;
    const char* message;
  } cases[] = {
      {Input({}, 10), "no finished task to predict from (a prediction needs at least one)"},
      {Input({Task(1, 1, 1)}, 0), "the total number of tasks must be at least 1 (got 0)"},
      {Input({Task(1, 1, 1)}, -3), "the total number of tasks must be at least 1 (got -3)"},
      {Input({Task(1, 1, 1), Task(1, 1, 1), Task(1, 1, 1)}, 2),
       "the total number of tasks (2) is below the 3 tasks already done"},
      {Input({Task(1, 1, 1)}, 2, 1.0), "the confidence must be between 0 and 1, e.g. 0.9 (got 1)"},
      {Input({Task(1, 1, 1)}, 2, 0.0), "the confidence must be between 0 and 1, e.g. 0.9 (got 0)"},
      {Input({Task(1, 1, 1)}, 2, std::nan("")), "the confidence must be between 0 and 1, e.g. 0.9 (got nan)"},
      {Input({Task(1, 1, 1), Task(-1, 1, 1)}, 2), "task 2: a figure is negative or not a number"},
      {Input({Task(1, 1, std::nan(""))}, 2), "task 1: a figure is negative or not a number"},
      {Input({Task(1, 1, 1e308), Task(1, 1, 1e308)}, 4), "the task figures are too large to predict from"},
  };
  for (const auto& c : cases) {
    Result<Prediction> p = Predict(c.in);
    ASSERT_FALSE(p.ok()) << c.message;
    EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.message);
  }
  PredictionInput bad_intensity = Input({Task(1, 1, 1)}, 2);
  bad_intensity.remaining_intensity = Intensity::GramsPerKwh(-1);
  EXPECT_EQ(Predict(bad_intensity).status().message(),
            "the intensity for the remaining time must be a non-negative number");
}

TEST(Predict, AllTasksDoneIsTheMeasuredRun) {
  const Prediction p = MustPredict(Input({Task(0.2, 0.1, 10), Task(0.3, 0.2, 20)}, 2));
  EXPECT_DOUBLE_EQ(p.energy.value.kwh(), 0.5);
  EXPECT_DOUBLE_EQ(p.energy.low.kwh(), 0.5);
  EXPECT_DOUBLE_EQ(p.energy.high.kwh(), 0.5);
  EXPECT_EQ(p.remaining_energy.high.kwh(), 0);
  EXPECT_EQ(p.intensity_note, "");
  EXPECT_EQ(p.interval, "none: every task is done, the figures are the measured ones");
}

// Estimated energy: the done tasks count with their bounds, and the tasks
// to come share the same relative bounds.
TEST(Predict, EstimateBoundsWidenTheInterval) {
  std::vector<TaskSample> tasks = {Task(1.0, 0.5, 10), Task(1.0, 0.5, 10)};
  for (TaskSample& t : tasks) {
    t.energy_low = Energy::KilowattHours(0.8);
    t.energy_high = Energy::KilowattHours(1.3);
    t.co2e_low = Co2e::Kilograms(0.4);
    t.co2e_high = Co2e::Kilograms(0.65);
  }
  const Prediction p = MustPredict(Input(tasks, 6));
  // Equal tasks: no spread, so only the estimate's bounds remain.
  EXPECT_DOUBLE_EQ(p.energy.value.kwh(), 6);
  EXPECT_DOUBLE_EQ(p.energy.low.kwh(), 1.6 + 4 * 0.8);
  EXPECT_DOUBLE_EQ(p.energy.high.kwh(), 2.6 + 4 * 1.3);
  EXPECT_DOUBLE_EQ(p.co2e.low.kg(), 0.8 + 4 * 0.4);
  EXPECT_DOUBLE_EQ(p.co2e.high.kg(), 1.3 + 4 * 0.65);
  EXPECT_EQ(p.notes.back(),
            "some task energy was estimated, not measured: the intervals include the estimate's bounds");
}

// The tasks to come emit at the intensity given for the remaining time.
TEST(Predict, RemainingIntensityFeedsTheCo2eToCome) {
  PredictionInput in = Input({Task(0.010, 0.004, 1800), Task(0.010, 0.004, 1800)}, 4);
  in.remaining_intensity = Intensity::GramsPerKwh(100);
  in.remaining_intensity_source = "current intensity of the run (Ember)";
  const Prediction p = MustPredict(in);
  EXPECT_DOUBLE_EQ(p.remaining_co2e.value.kg(), 0.020 * 100 / 1000);
  EXPECT_DOUBLE_EQ(p.co2e.value.kg(), 0.008 + 0.002);
  EXPECT_EQ(p.intensity_note, "intensity for the remaining 1.00 h: current intensity of the run (Ember), 100 g/kWh");
  EXPECT_FALSE(p.forecast_used);
}

constexpr const char* kUkForecast =
    R"({"data":[)"
    R"({"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z",)"
    R"("intensity":{"forecast":200,"actual":190,"index":"moderate"}},)"
    R"({"from":"2018-01-20T12:30Z","to":"2018-01-20T13:00Z","intensity":{"forecast":100,"actual":null,"index":"low"}},)"
    R"({"from":"2018-01-20T13:00Z","to":"2018-01-20T13:30Z",)"
    R"("intensity":{"forecast":160,"actual":null,"index":"low"}}]})";

SystemTime Utc(int h, int m) { return SystemTime{} + std::chrono::seconds(1516406400 + h * 3600 + m * 60); }

TEST(Predict, ForecastMeanOverTheRemainingTimeIsUsedAndSaid) {
  Result<LiveForecast> f = ParseUkForecast(kUkForecast, false);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  // Two tasks of 15 min done at 12:15; two to come: 12:15 to 12:45, a
  // quarter hour at 200 and one at 100 g/kWh.
  PredictionInput in = Input({Task(0.5, 0.1, 900), Task(0.5, 0.1, 900)}, 4);
  in.remaining_intensity = Intensity::GramsPerKwh(300);
  const Prediction first = MustPredict(in);
  ASSERT_DOUBLE_EQ(first.remaining_duration.value.count(), 1800);
  EXPECT_TRUE(ApplyForecast(&in, f, Utc(12, 15), first.remaining_duration.value));
  const Prediction p = MustPredict(in);
  EXPECT_DOUBLE_EQ(p.remaining_intensity->g_per_kwh(), 150);
  EXPECT_DOUBLE_EQ(p.remaining_co2e.value.kg(), 1.0 * 150 / 1000);
  EXPECT_TRUE(p.forecast_used);
  EXPECT_EQ(p.intensity_note,
            "intensity for the remaining 30.0 min: UK Carbon Intensity API (national), forecast, mean 150 g/kWh");
  EXPECT_TRUE(p.notes.empty());
  EXPECT_TRUE(PredictionToJson(p)["intensity"]["forecast"].get<bool>());

  // A forecast that ends early is carried to the end, and says so.
  PredictionInput later = Input({Task(0.5, 0.1, 3600)}, 3);
  EXPECT_TRUE(ApplyForecast(&later, f, Utc(12, 0), Seconds(3 * 3600)));
  EXPECT_DOUBLE_EQ(later.remaining_intensity->g_per_kwh(), (200 + 100 + 160) / 3.0);
  EXPECT_EQ(later.notes.back(),
            "the forecast covers the first 1.50 h of the remaining 3.00 h; its mean is used for all of it");
}

TEST(Predict, NoForecastKeepsTheCurrentIntensityWithANote) {
  PredictionInput in = Input({Task(0.5, 0.1, 900)}, 4);
  in.remaining_intensity = Intensity::GramsPerKwh(300);
  in.remaining_intensity_source = "current intensity of the run (Ember)";
  EXPECT_FALSE(ApplyForecast(&in, Status::IOError("UK Carbon Intensity API: timed out after 2000 ms"), Utc(12, 0),
                             Seconds(900)));
  EXPECT_EQ(in.notes.back(),
            "no intensity forecast: UK Carbon Intensity API: timed out after 2000 ms; the run's current intensity "
            "is used");
  EXPECT_DOUBLE_EQ(in.remaining_intensity->g_per_kwh(), 300);
  // A forecast for a time long past covers none of the remaining time.
  EXPECT_FALSE(ApplyForecast(&in, ParseUkForecast(kUkForecast, false), Utc(20, 0), Seconds(900)));
  EXPECT_EQ(in.notes.back(),
            "the intensity forecast does not cover the remaining time; the run's current intensity is used");
  // The marginal basis does not take an average forecast.
  in.basis = "marginal";
  EXPECT_FALSE(ApplyForecast(&in, ParseUkForecast(kUkForecast, false), Utc(12, 0), Seconds(900)));
  EXPECT_FALSE(in.remaining_intensity_is_forecast);
  const Prediction p = MustPredict(in);
  EXPECT_EQ(p.intensity_note, "intensity for the remaining 45.0 min: current intensity of the run (Ember), 300 g/kWh");
}

TEST(Predict, BudgetShareOfTheRemainingBudget) {
  Prediction p = MustPredict(Input({Task(10, 2, 60)}, 5));  // 10 kg for the run
  ApplyBudgetAnswer(&p, "physics", 200,
                    json::parse(R"({"account":"physics","year":2026,"budget_kg":100,"spent_kg":60,)"
                                R"("remaining_kg":40,"state":"ok"})"));
  ASSERT_TRUE(p.budget.has_value());
  EXPECT_EQ(p.budget->account, "physics");
  EXPECT_EQ(p.budget->year, 2026);
  EXPECT_DOUBLE_EQ(p.budget->run_total_kg, 10);
  EXPECT_DOUBLE_EQ(*p.budget->share, 0.25);
  EXPECT_FALSE(p.budget->over);
  const std::string text = FormatPrediction(p);
  EXPECT_NE(
      text.find("  budget    the whole run would take 25 % of account physics's remaining 40.0 kg CO2e for 2026\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(PredictionToJson(p)["budget"]["share"], 0.25);

  Prediction spent = MustPredict(Input({Task(10, 2, 60)}, 5));
  ApplyBudgetAnswer(&spent, "physics", 200,
                    json::parse(R"({"account":"physics","year":2026,"budget_kg":100,"remaining_kg":0})"));
  EXPECT_FALSE(spent.budget->share.has_value());
  EXPECT_TRUE(spent.budget->over);
  EXPECT_NE(FormatPrediction(spent).find(
                "account physics has no CO2e left for 2026 (budget 100 kg); the run would add 10.0 kg"),
            std::string::npos);
  EXPECT_TRUE(PredictionToJson(spent)["budget"]["share"].is_null());

  Prediction none = MustPredict(Input({Task(10, 2, 60)}, 5));
  ApplyBudgetAnswer(&none, "chem", 404, json::parse(R"({"error":"no budget"})"));
  ApplyBudgetAnswer(&none, "chem", 503, json::parse(R"({"error":"database unavailable"})"));
  ApplyBudgetAnswer(&none, "chem", 200, json::parse(R"({"account":"chem"})"));
  ApplyBudgetFailure(&none, "chem", "connection refused or unreachable");
  EXPECT_FALSE(none.budget.has_value());
  const std::vector<std::string> want = {
      "account chem has no CO2e budget for this year",
      "budget of account chem not known: the collector answered HTTP 503: database unavailable",
      "budget of account chem not known: the collector's answer has no budget_kg and remaining_kg",
      "budget of account chem not checked: connection refused or unreachable"};
  EXPECT_EQ(std::vector<std::string>(none.notes.end() - 4, none.notes.end()), want);
}

TEST(Predict, FormatIsAShortBlock) {
  PredictionInput in = Input({Task(0.012, 0.0024, 120), Task(0.012, 0.0024, 120)}, 10);
  in.remaining_intensity = Intensity::GramsPerKwh(200);
  in.remaining_intensity_source = "current intensity of the run (Ember (2024), yearly average)";
  const Prediction p = MustPredict(in);
  EXPECT_EQ(FormatPrediction(p),
            "prediction for 10 tasks, after 2 done:\n"
            "  energy    120 Wh       (120 to 120 Wh)\n"
            "  CO2e      24.0 g       (24.0 to 24.0 g)\n"
            "  duration  20.0 min     (20.0 to 20.0 min)\n"
            "  to come   8 tasks: 96.0 Wh, 19.2 g CO2e, 16.0 min\n"
            "  interval  90 % Student-t prediction interval (1 degree of freedom) for the 8 tasks to come\n"
            "  basis     2 tasks: mean 2.00 min (sd 0 s) and 12.0 Wh (sd 0 Wh) per task\n"
            "  intensity for the remaining 16.0 min: current intensity of the run (Ember (2024), yearly average), "
            "200 g/kWh\n");
  const json j = PredictionToJson(p);
  EXPECT_EQ(j["done_tasks"], 2);
  EXPECT_EQ(j["remaining"]["tasks"], 8);
  EXPECT_DOUBLE_EQ(j["energy_kwh"]["value"].get<double>(), 0.12);
  EXPECT_DOUBLE_EQ(j["emissions_kg"]["value"].get<double>(), 0.0048 + 0.096 * 0.2);
  EXPECT_DOUBLE_EQ(j["duration_s"]["high"].get<double>(), 1200);
  EXPECT_EQ(j["intensity"]["g_per_kwh"], 200.0);
  EXPECT_TRUE(j["budget"].is_null());
}

// ---- inputs from a run and its record ---------------------------------------

ChannelInfo Counter(const char* id, DeviceKind kind) {
  ChannelInfo c;
  c.id = c.device_id = id;
  c.kind = kind;
  c.type = ChannelType::kEnergyCounter;
  c.wrap_range = Energy::Joules(1e12);
  c.power_ceiling = Power::Watts(1e6);
  return c;
}

// Three tasks over four polls: CPU +3600 J, +7200 J, +5400 J; an estimated
// DRAM power of 2 W (1..4 W) throughout; 2 s, 3 s, 4 s; 100 g/kWh, PUE 1.5.
RunResult TaskRun() {
  ChannelInfo ram;
  ram.id = ram.device_id = "ram";
  ram.kind = DeviceKind::kDram;
  ram.type = ChannelType::kPower;
  ram.method = Method::kEstimated;
  auto ledger = std::make_shared<Ledger>(std::vector<ChannelInfo>{Counter("pkg", DeviceKind::kCpu), ram});
  const double cpu_j[] = {0, 3600, 10800, 16200};
  const int t_s[] = {0, 2, 5, 9};
  for (int i = 0; i < 4; ++i) {
    Reading r[] = {Reading::Of(cpu_j[i]), Reading::Estimate(2, 1, 4)};
    ActivitySnapshot a;
    ledger->Add(SteadyTime{} + std::chrono::seconds(t_s[i]), Utc(12, 0) + std::chrono::seconds(t_s[i]), r, a);
  }
  RunResult run;
  run.snapshot.ledger = ledger;
  run.snapshot.wall_start = Utc(12, 0);
  run.wall_start = Utc(12, 0);
  for (size_t i = 0; i < 3; ++i) {
    run.snapshot.tasks.push_back({"epoch " + std::to_string(i + 1), i, i + 1, Utc(12, 0) + std::chrono::seconds(t_s[i]),
                                  Utc(12, 0) + std::chrono::seconds(t_s[i + 1])});
  }
  run.meta.pue = 1.5;
  IntensityProvenance prov;
  prov.source = "test grid";
  run.intensity = IntensityTimeline::Constant(Intensity::GramsPerKwh(100), prov);
  return run;
}

TEST(PredictInput, FromARunAndFromItsRecordAgree) {
  const RunResult run = TaskRun();
  Result<PredictionInput> live = PredictionInputFromRun(run, 10);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  // The record as a file holds it: written and read back.
  Result<RunRecord> record = RunRecordFromJson(RunRecordToJson(MakeRunRecord(run)));
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  Result<PredictionInput> from_record = PredictionInputFromRecord(*record, 10);
  ASSERT_TRUE(from_record.ok()) << from_record.status().ToString();
  ASSERT_EQ(live->tasks.size(), 3u);
  ASSERT_EQ(from_record->tasks.size(), 3u);
  const double cpu_j[] = {3600, 7200, 5400}, secs[] = {2, 3, 4};
  for (size_t i = 0; i < 3; ++i) {
    const TaskSample& a = live->tasks[i];
    const TaskSample& b = from_record->tasks[i];
    // PUE applied: (CPU + 2 W x duration) x 1.5; the DRAM estimate's
    // bounds (1..4 W) make the energy's.
    EXPECT_NEAR(a.energy.joules(), (cpu_j[i] + 2 * secs[i]) * 1.5, 1e-9);
    EXPECT_NEAR(a.energy_low->joules(), (cpu_j[i] + 1 * secs[i]) * 1.5, 1e-9);
    EXPECT_NEAR(a.energy_high->joules(), (cpu_j[i] + 4 * secs[i]) * 1.5, 1e-9);
    EXPECT_NEAR(a.co2e.grams(), a.energy.kwh() * 100, 1e-12);
    EXPECT_DOUBLE_EQ(a.duration.count(), secs[i]);
    EXPECT_NEAR(b.energy.joules(), a.energy.joules(), 1e-9);
    EXPECT_NEAR(b.energy_low->joules(), a.energy_low->joules(), 1e-9);
    EXPECT_NEAR(b.energy_high->joules(), a.energy_high->joules(), 1e-9);
    EXPECT_NEAR(b.co2e.grams(), a.co2e.grams(), 1e-12);
    EXPECT_NEAR(b.co2e_high->grams(), a.co2e_high->grams(), 1e-12);
    EXPECT_DOUBLE_EQ(b.duration.count(), a.duration.count());
  }
  EXPECT_DOUBLE_EQ(live->remaining_intensity->g_per_kwh(), 100);
  EXPECT_EQ(live->remaining_intensity_source, "current intensity of the run (test grid)");
  EXPECT_EQ(from_record->remaining_intensity_source, live->remaining_intensity_source);
  const Prediction p = MustPredict(*from_record);
  EXPECT_NEAR(p.duration.value.count(), 9 + 7 * 3.0, 1e-9);
  EXPECT_GT(p.energy.high.kwh(), p.energy.value.kwh());
}

TEST(PredictInput, ARecordWithoutTasksIsAnError) {
  RunResult run = TaskRun();
  run.snapshot.tasks.clear();
  Result<PredictionInput> r = PredictionInputFromRecord(MakeRunRecord(run), 10);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the record has no tasks (the Python tracker's start_task()/stop_task() mark them)");
  EXPECT_EQ(PredictionInputFromRun(run, 10).status().message(), "no task has finished yet (stop_task() ends one)");
}

}  // namespace
}  // namespace wattprint
