// Footprint prediction: after the first k of N tasks (epochs) of a run, the
// energy, CO2e and duration the whole run of N tasks will have, each with
// an interval, from the k tasks' measured figures.
//
//   total = the k done tasks, as measured
//         + (N - k) x the per-task mean,
// with a Student-t prediction interval for the sum of the N - k tasks to
// come when k >= 2 (docs/PREDICT.md has the formula), and an assumed
// +-25 % per task when k = 1, since one task shows no spread. Estimated
// (not measured) task energy widens the interval by the estimate's
// bounds. Every figure is finite and no lower bound is negative: tasks of
// no duration or no energy (a run shorter than a reading) give zeros, never
// NaN.
//
// The CO2e of the tasks to come uses the intensity the caller gives for the
// remaining time (a live forecast's mean over it, or the run's current
// intensity), and the prediction says which.
//
// No I/O: the CLI and the Python module fetch forecasts (live_intensity.h)
// and budgets (the collector's GET /api/v1/budgets/ACCOUNT) and hand the
// answers in. Thread safety: value types and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wattprint/live_intensity.h"
#include "wattprint/record.h"
#include "wattprint/run_record.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

// One finished task, in the scope that feeds the run's emissions.
struct TaskSample {
  Energy energy;   // PUE applied: the energy its CO2e was computed from
  Co2e co2e;
  Seconds duration{0};
  // The bounds of estimated energy and of its CO2e; nullopt: measured (the
  // bound is the figure).
  std::optional<Energy> energy_low, energy_high;
  std::optional<Co2e> co2e_low, co2e_high;
};

// The assumed spread of a task's figures when only one task is done.
inline constexpr double kSingleTaskSpread = 0.25;
inline constexpr double kDefaultConfidence = 0.90;

struct PredictionInput {
  std::vector<TaskSample> tasks;  // the done tasks, in order
  int total_tasks = 0;            // N, the tasks of the whole run
  double confidence = kDefaultConfidence;  // of the interval, in (0, 1)
  // g CO2e/kWh for the tasks to come; nullopt: the done tasks' own CO2e per
  // task is carried forward.
  std::optional<Intensity> remaining_intensity;
  // Where it comes from: "UK Carbon Intensity API (national) forecast" or
  // "current intensity of the run (Ember (2023), yearly country average)".
  std::string remaining_intensity_source;
  bool remaining_intensity_is_forecast = false;
  std::string basis = "average";   // the run's intensity basis: "average" or "marginal"
  std::vector<std::string> notes;  // carried into the prediction
};

template <typename Q>
struct Estimate {
  Q value{}, low{}, high{};  // low <= value <= high, all finite, low >= 0
};

// What share of an account's remaining yearly budget the whole run takes.
struct BudgetShare {
  std::string account;
  long long year = 0;
  double budget_kg = 0;
  double remaining_kg = 0;     // budget - spent, as the collector says now
  double run_total_kg = 0;     // the predicted CO2e of the whole run
  std::optional<double> share; // run_total / remaining; nullopt when nothing remains
  bool over = false;           // the run alone would use more than what remains
};

struct Prediction {
  int done_tasks = 0, total_tasks = 0;
  double confidence = kDefaultConfidence;
  // The whole run of total_tasks tasks: done + remaining.
  Estimate<Energy> energy;
  Estimate<Co2e> co2e;
  Estimate<Seconds> duration;
  // The total_tasks - done_tasks tasks to come.
  Estimate<Energy> remaining_energy;
  Estimate<Co2e> remaining_co2e;
  Estimate<Seconds> remaining_duration;
  // "3 tasks: mean 2.00 min (sd 4.00 s) and 12.0 Wh (sd 0.400 Wh) per task"
  std::string basis;
  // "90 % Student-t prediction interval (2 degrees of freedom)"
  std::string interval;
  // "intensity for the remaining 3.20 h: UK Carbon Intensity API forecast,
  // mean 182 g/kWh"; empty when nothing remains.
  std::string intensity_note;
  std::optional<Intensity> remaining_intensity;
  bool forecast_used = false;
  std::vector<std::string> notes;
  std::optional<BudgetShare> budget;
};

// The prediction; InvalidArgument, in one line, for no tasks, N <= 0, N
// below the tasks done, a confidence outside (0, 1) or a task figure that
// is negative or not finite.
Result<Prediction> Predict(const PredictionInput& in);

// The done tasks of a record (its `tasks`, in the record's scope, PUE
// applied; estimate bounds from the counted kinds), the record's current
// intensity (its timeline's last point) for the remaining time, and the
// confidence. InvalidArgument when the record has no task.
Result<PredictionInput> PredictionInputFromRecord(const RunRecord& record, int total_tasks,
                                                  double confidence = kDefaultConfidence);
// The same from a live tracker's state (its snapshot's finished tasks),
// through the figures, as the record would have them.
Result<PredictionInput> PredictionInputFromRun(const RunResult& run, int total_tasks,
                                               double confidence = kDefaultConfidence);

// Uses a live forecast's time-weighted mean over [from, from + span] (the
// remaining time) for the tasks to come; a note says how much of the span
// it covers when it ends early. When there is no forecast (the request
// failed), it covers none of the span, or the run uses the marginal basis
// (a forecast is an average), a note says why and `in` keeps its
// intensity: false.
bool ApplyForecast(PredictionInput* in, const Result<LiveForecast>& forecast, SystemTime from, Seconds span);

// The collector's answer to GET /api/v1/budgets/ACCOUNT: 200 with the
// budget's status sets prediction->budget; 404 (no budget) and anything
// else add a note. Never fails the prediction.
void ApplyBudgetAnswer(Prediction* p, const std::string& account, long http_status, const nlohmann::json& body);
// The request could not be made (`why`: "connection refused"): a note.
void ApplyBudgetFailure(Prediction* p, const std::string& account, const std::string& why);

// The short human block the CLI prints and the Python tracker logs.
std::string FormatPrediction(const Prediction& p);
// Base units with their names: energy_kwh, emissions_kg, duration_s, each
// {value, low, high} (docs/PREDICT.md).
nlohmann::json PredictionToJson(const Prediction& p);

// The p-quantile of Student's t with `dof` >= 1 degrees of freedom (p in
// (0, 1)); exposed for tests.
double StudentTQuantile(double p, int dof);

}  // namespace wattprint
