// Footprint prediction (wattprint/predict.h): the arithmetic, the inputs
// from a record or a live run, and the text and JSON forms.
#include "wattprint/predict.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wattprint/figures.h"

namespace wattprint {
namespace {

using nlohmann::json;

bool Good(double v) { return std::isfinite(v) && v >= 0; }

// ---- Student's t --------------------------------------------------------

// The continued fraction of the regularised incomplete beta function
// (modified Lentz), which converges fast for x < (a + 1) / (a + b + 2).
double BetaFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  auto fix = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
  double c = 1, d = 1 / fix(1 - (a + b) * x / (a + 1));
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 / fix(1 + aa * d);
    c = fix(1 + aa / c);
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 / fix(1 + aa * d);
    c = fix(1 + aa / c);
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < 1e-15) break;
  }
  return h;
}

// I_x(a, b).
double RegularisedBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * BetaFraction(a, b, x) / a;
  return 1 - front * BetaFraction(b, a, 1 - x) / b;
}

// P(T <= t) for Student's t with `dof` degrees of freedom.
double StudentTCdf(double t, double dof) {
  const double tail = 0.5 * RegularisedBeta(dof / 2, 0.5, dof / (dof + t * t));
  return t >= 0 ? 1 - tail : tail;
}

// ---- the arithmetic ----------------------------------------------------

struct Stats {
  double sum = 0, mean = 0, sd = 0;  // sd: the sample standard deviation; 0 for one value
};

Stats StatsOf(const std::vector<double>& xs) {
  Stats s;
  for (double x : xs) s.sum += x;
  s.mean = s.sum / static_cast<double>(xs.size());
  if (xs.size() < 2) return s;
  double ss = 0;
  for (double x : xs) ss += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(ss / static_cast<double>(xs.size() - 1));
  // Equal values summed in another order differ in their last bits: that
  // is no spread.
  if (s.sd <= 1e-12 * std::fabs(s.mean)) s.sd = 0;
  return s;
}

struct Range {
  double value = 0, low = 0, high = 0;
};

// The sum of the `rest` tasks to come: rest x mean, with the prediction
// interval for a sum of `rest` new values, from `k` done ones:
//   rest x mean +- t x sd x sqrt(rest + rest^2 / k)
// (the spread of the tasks themselves plus the uncertainty of the mean);
// one task shows no spread: +- kSingleTaskSpread of each task is assumed.
Range RestOf(const Stats& s, size_t k, int rest, double t) {
  const double r = rest;
  const double value = r * s.mean;
  const double half = k >= 2 ? t * s.sd * std::sqrt(r + r * r / static_cast<double>(k)) : kSingleTaskSpread * value;
  return {value, std::max(0.0, value - half), value + half};
}

// A range scaled by the done tasks' estimate bounds (low / value and
// high / value of their sum), which the tasks to come share.
Range Widen(Range r, double sum, double sum_low, double sum_high) {
  if (sum <= 0) return r;
  r.low *= std::min(1.0, sum_low / sum);
  r.high *= std::max(1.0, sum_high / sum);
  return r;
}

template <typename Q>
Estimate<Q> Make(Range r, double unit) {
  return {Q(r.value * unit), Q(r.low * unit), Q(r.high * unit)};
}

Range Add(Range a, Range b) { return {a.value + b.value, a.low + b.low, a.high + b.high}; }

struct Columns {
  std::vector<double> kwh, kwh_low, kwh_high, kg, kg_low, kg_high, s;
};

Status Check(const PredictionInput& in) {
  const int k = static_cast<int>(in.tasks.size());
  if (k == 0) return Status::InvalidArgument("no finished task to predict from (a prediction needs at least one)");
  if (in.total_tasks <= 0) {
    return Status::InvalidArgument(
        fmt::format("the total number of tasks must be at least 1 (got {})", in.total_tasks));
  }
  if (in.total_tasks < k) {
    return Status::InvalidArgument(
        fmt::format("the total number of tasks ({}) is below the {} tasks already done", in.total_tasks, k));
  }
  if (!(in.confidence > 0 && in.confidence < 1)) {
    return Status::InvalidArgument(
        fmt::format("the confidence must be between 0 and 1, e.g. 0.9 (got {})", in.confidence));
  }
  if (in.remaining_intensity && !Good(in.remaining_intensity->g_per_kwh())) {
    return Status::InvalidArgument("the intensity for the remaining time must be a non-negative number");
  }
  for (int i = 0; i < k; ++i) {
    const TaskSample& t = in.tasks[static_cast<size_t>(i)];
    const double figures[] = {t.energy.kwh(), t.co2e.kg(), t.duration.count(),
                              t.energy_low.value_or(t.energy).kwh(), t.energy_high.value_or(t.energy).kwh(),
                              t.co2e_low.value_or(t.co2e).kg(), t.co2e_high.value_or(t.co2e).kg()};
    for (double v : figures) {
      if (!Good(v)) return Status::InvalidArgument(fmt::format("task {}: a figure is negative or not a number", i + 1));
    }
  }
  return Status::Ok();
}

Columns ColumnsOf(const std::vector<TaskSample>& tasks) {
  Columns c;
  for (const TaskSample& t : tasks) {
    const double kwh = t.energy.kwh(), kg = t.co2e.kg();
    c.kwh.push_back(kwh);
    c.kwh_low.push_back(std::min(kwh, t.energy_low.value_or(t.energy).kwh()));
    c.kwh_high.push_back(std::max(kwh, t.energy_high.value_or(t.energy).kwh()));
    c.kg.push_back(kg);
    c.kg_low.push_back(std::min(kg, t.co2e_low.value_or(t.co2e).kg()));
    c.kg_high.push_back(std::max(kg, t.co2e_high.value_or(t.co2e).kg()));
    c.s.push_back(t.duration.count());
  }
  return c;
}

double Sum(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return s;
}

bool AllFinite(const Prediction& p) {
  for (double v : {p.energy.high.kwh(), p.co2e.high.kg(), p.duration.high.count()}) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// ---- text ----------------------------------------------------------------

// Three significant figures, without an exponent in the usual ranges.
std::string Sig(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  if (a >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3g}", v);
}

struct Unit {
  double per;  // base units per one of these
  const char* name;
};

// The unit that shows `v` (in base units) as 1 or more, from the largest;
// 0 in the base unit.
Unit UnitFor(double v, std::initializer_list<Unit> units) {
  for (const Unit& u : units) {
    if (v == 0 && u.per == 1) return u;
    if (v == 0) continue;
    if (std::fabs(v) >= u.per) return u;
  }
  return *(units.end() - 1);
}

Unit EnergyUnit(double kwh) { return UnitFor(kwh, {{1e3, "MWh"}, {1, "kWh"}, {1e-3, "Wh"}, {1e-6, "mWh"}}); }
Unit MassUnit(double kg) { return UnitFor(kg, {{1e3, "t"}, {1, "kg"}, {1e-3, "g"}, {1e-6, "mg"}}); }
Unit TimeUnit(double s) {
  return UnitFor(s, {{2 * 86400.0, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}, {1e-3, "ms"}});
}

std::string In(double v, Unit u) { return Sig(v / u.per) + " " + u.name; }
std::string Kwh(double kwh) { return In(kwh, EnergyUnit(kwh)); }
std::string Kg(double kg) { return In(kg, MassUnit(kg)); }
std::string Secs(double s) { return In(s, TimeUnit(s)); }

// "120 Wh (115 to 125 Wh)": the bounds in the value's unit.
std::string RangeText(double value, double low, double high, Unit u) {
  return fmt::format("{:<12} ({} to {} {})", In(value, u), Sig(low / u.per), Sig(high / u.per), u.name);
}

std::string Percent(double share) {
  const double pc = share * 100;
  return pc < 10 ? fmt::format("{:.1f} %", pc) : fmt::format("{:.0f} %", pc);
}

std::string BudgetText(const BudgetShare& b) {
  if (!b.share) {
    return fmt::format("account {} has no CO2e left for {} (budget {}); the run would add {}", b.account, b.year,
                       Kg(b.budget_kg), Kg(b.run_total_kg));
  }
  return fmt::format("the whole run would take {} of account {}'s remaining {} CO2e for {}{}", Percent(*b.share),
                     b.account, Kg(b.remaining_kg), b.year, b.over ? " (more than it has left)" : "");
}

std::string BasisText(const Columns& c) {
  const Stats s = StatsOf(c.s), e = StatsOf(c.kwh);
  const size_t k = c.s.size();
  if (k == 1) {
    return fmt::format("1 task: {} and {}; one task shows no spread: +-{:.0f} % per task is assumed", Secs(s.mean),
                       Kwh(e.mean), kSingleTaskSpread * 100);
  }
  const Unit eu = EnergyUnit(e.mean);  // both in the mean's unit: "12.0 Wh (sd 0.400 Wh)"
  return fmt::format("{} tasks: mean {} (sd {}) and {} (sd {}) per task", k, Secs(s.mean), Secs(s.sd), In(e.mean, eu),
                     In(e.sd, eu));
}

std::string IntervalText(size_t k, int rest, double confidence) {
  if (rest == 0) return "none: every task is done, the figures are the measured ones";
  const std::string tasks = fmt::format("{} task{} to come", rest, rest == 1 ? "" : "s");
  if (k == 1) return fmt::format("assumed +-{:.0f} % per task for the {}", kSingleTaskSpread * 100, tasks);
  return fmt::format("{:g} % Student-t prediction interval ({} degree{} of freedom) for the {}", confidence * 100,
                     k - 1, k == 2 ? "" : "s", tasks);
}

std::string IntensityText(const PredictionInput& in, const Prediction& p) {
  if (p.done_tasks == p.total_tasks) return "";
  const std::string head = "intensity for the remaining " + Secs(p.remaining_duration.value.count()) + ": ";
  if (!in.remaining_intensity) return head + "the done tasks' own (their CO2e per task carried forward)";
  const char* mean = in.remaining_intensity_is_forecast ? "mean " : "";
  return head + fmt::format("{}, {}{} g/kWh", in.remaining_intensity_source, mean,
                            Sig(in.remaining_intensity->g_per_kwh()));
}

// ---- inputs ------------------------------------------------------------

// low / value and high / value of the counted kinds' energy in `scope`
// (1 when measured or unknown).
std::pair<double, double> BoundsRatio(const std::map<std::string, KindRecord>& kinds, Scope scope) {
  double value = 0, low = 0, high = 0;
  for (const auto& [name, k] : kinds) {
    if (!k.counted) continue;
    const std::optional<Energy>& e = scope == Scope::kMachine ? k.energy.machine : k.energy.process;
    const std::optional<BoundsRecord>& b = scope == Scope::kMachine ? k.bounds.machine : k.bounds.process;
    if (!e) continue;
    value += e->joules();
    low += b ? b->low.joules() : e->joules();
    high += b ? b->high.joules() : e->joules();
  }
  if (!(value > 0)) return {1, 1};
  return {low / value, high / value};
}

TaskSample SampleOf(Energy energy, Co2e co2e, Co2e low, Co2e high, double duration_s,
                    std::pair<double, double> ratio) {
  TaskSample t;
  t.energy = energy;
  t.co2e = co2e;
  t.duration = Seconds(duration_s);
  t.co2e_low = low;
  t.co2e_high = high;
  t.energy_low = energy * ratio.first;
  t.energy_high = energy * ratio.second;
  return t;
}

std::string LeftOutNote(const std::set<std::string>& kinds) {
  std::string names;
  for (const std::string& k : kinds) names += (names.empty() ? "" : ", ") + k;
  return "the process-scope figures leave out " + names + " (no process share is known for it)";
}

void SetCurrentIntensity(const IntensityTimeline& timeline, PredictionInput* in) {
  in->basis = timeline.provenance.basis;
  if (timeline.points.empty()) return;
  in->remaining_intensity = timeline.points.back().value;
  // The source up to its licence and tool notes ("Ember, yearly ...; CC
  // BY-SA 4.0; via ..."): the record keeps the whole text.
  const std::string& full = timeline.provenance.source;
  const std::string source = full.substr(0, full.find(';'));
  in->remaining_intensity_source = "current intensity of the run" + (source.empty() ? "" : " (" + source + ")");
}

}  // namespace

double StudentTQuantile(double p, int dof) {
  if (!(p > 0 && p < 1) || dof < 1) return std::nan("");
  if (p == 0.5) return 0;
  if (p < 0.5) return -StudentTQuantile(1 - p, dof);
  double lo = 0, hi = 1;
  while (StudentTCdf(hi, dof) < p && hi < 1e12) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    (StudentTCdf(mid, dof) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

Result<Prediction> Predict(const PredictionInput& in) {
  if (Status st = Check(in); !st.ok()) return st;
  const Columns c = ColumnsOf(in.tasks);
  const size_t k = in.tasks.size();
  const int rest = in.total_tasks - static_cast<int>(k);
  const double t = k >= 2 ? StudentTQuantile(0.5 + in.confidence / 2, static_cast<int>(k) - 1) : 0;
  const double kwh = Sum(c.kwh), kwh_low = Sum(c.kwh_low), kwh_high = Sum(c.kwh_high);
  const double kg = Sum(c.kg), kg_low = Sum(c.kg_low), kg_high = Sum(c.kg_high);

  const Range energy_rest = Widen(RestOf(StatsOf(c.kwh), k, rest, t), kwh, kwh_low, kwh_high);
  const Range time_rest = RestOf(StatsOf(c.s), k, rest, t);
  Range co2e_rest;
  if (in.remaining_intensity) {
    const double kg_per_kwh = in.remaining_intensity->g_per_kwh() / 1000;
    co2e_rest = {energy_rest.value * kg_per_kwh, energy_rest.low * kg_per_kwh, energy_rest.high * kg_per_kwh};
  } else {
    co2e_rest = Widen(RestOf(StatsOf(c.kg), k, rest, t), kg, kg_low, kg_high);
  }

  Prediction p;
  p.done_tasks = static_cast<int>(k);
  p.total_tasks = in.total_tasks;
  p.confidence = in.confidence;
  constexpr double kJoulesPerKwh = 3.6e6, kGramsPerKg = 1e3;
  p.remaining_energy = Make<Energy>(energy_rest, kJoulesPerKwh);
  p.remaining_co2e = Make<Co2e>(co2e_rest, kGramsPerKg);
  p.remaining_duration = Make<Seconds>(time_rest, 1);
  p.energy = Make<Energy>(Add({kwh, kwh_low, kwh_high}, energy_rest), kJoulesPerKwh);
  p.co2e = Make<Co2e>(Add({kg, kg_low, kg_high}, co2e_rest), kGramsPerKg);
  const double s = Sum(c.s);
  p.duration = Make<Seconds>(Add({s, s, s}, time_rest), 1);
  if (!AllFinite(p)) return Status::InvalidArgument("the task figures are too large to predict from");
  p.basis = BasisText(c);
  p.interval = IntervalText(k, rest, in.confidence);
  p.intensity_note = IntensityText(in, p);
  if (rest > 0) p.remaining_intensity = in.remaining_intensity;
  p.forecast_used = rest > 0 && in.remaining_intensity && in.remaining_intensity_is_forecast;
  p.notes = in.notes;
  if (kwh_low < kwh || kwh_high > kwh) {
    p.notes.push_back("some task energy was estimated, not measured: the intervals include the estimate's bounds");
  }
  if (kwh == 0) p.notes.push_back("the done tasks measured no energy: are the sources reading anything?");
  return p;
}

Result<PredictionInput> PredictionInputFromRecord(const RunRecord& record, int total_tasks, double confidence) {
  if (record.tasks.empty()) {
    return Status::InvalidArgument("the record has no tasks (the Python tracker's start_task()/stop_task() mark them)");
  }
  PredictionInput in;
  in.total_tasks = total_tasks;
  in.confidence = confidence;
  std::set<std::string> left_out;
  for (const TaskFiguresRecord& t : record.tasks) {
    const EmissionsRecord& e = t.emissions;
    const ScopeEmissionsRecord* s = &e.machine;
    if (e.scope == Scope::kProcess) {
      s = e.process ? &*e.process : e.process_partial ? &*e.process_partial : &e.machine;
      if (!e.process) left_out.insert(e.process_left_out.begin(), e.process_left_out.end());
    }
    in.tasks.push_back(SampleOf(s->energy, s->co2e, s->low, s->high, t.duration_s, BoundsRatio(t.kinds, e.scope)));
  }
  if (!left_out.empty()) in.notes.push_back(LeftOutNote(left_out));
  SetCurrentIntensity(record.intensity, &in);
  return in;
}

Result<PredictionInput> PredictionInputFromRun(const RunResult& run, int total_tasks, double confidence) {
  if (run.snapshot.tasks.empty()) return Status::InvalidArgument("no task has finished yet (stop_task() ends one)");
  PredictionInput in;
  in.total_tasks = total_tasks;
  in.confidence = confidence;
  std::set<std::string> left_out;
  for (const TaskRecord& t : run.snapshot.tasks) {
    const Figures f = ComputeFigures(run, t.from_point, t.to_point);
    const ScopeEmissions& s = f.In(run.scope);
    const double counted = f.CountedEnergy(run.scope).joules();
    const std::pair<double, double> ratio =
        counted > 0 ? std::pair(f.CountedLow(run.scope).joules() / counted, f.CountedHigh(run.scope).joules() / counted)
                    : std::pair(1.0, 1.0);
    in.tasks.push_back(SampleOf(s.energy, s.co2e, s.co2e_low, s.co2e_high, f.duration.count(), ratio));
    if (run.scope == Scope::kProcess && !f.process_known) {
      for (DeviceKind k : f.process_unknown) left_out.insert(ToString(k));
    }
  }
  if (!left_out.empty()) in.notes.push_back(LeftOutNote(left_out));
  SetCurrentIntensity(run.intensity, &in);
  return in;
}

bool ApplyForecast(PredictionInput* in, const Result<LiveForecast>& forecast, SystemTime from, Seconds span) {
  const std::string current = in->remaining_intensity ? "the run's current intensity is used"
                                                      : "the done tasks' CO2e per task is carried forward";
  if (!forecast.ok()) {
    in->notes.push_back("no intensity forecast: " + forecast.status().message() + "; " + current);
    return false;
  }
  if (in->basis == "marginal") {
    in->notes.push_back("the live forecast is an average intensity and the run uses the marginal basis; " + current);
    return false;
  }
  const std::optional<ForecastMean> mean =
      MeanOver(*forecast, from, from + std::chrono::duration_cast<SystemTime::duration>(span));
  if (!mean) {
    in->notes.push_back("the intensity forecast does not cover the remaining time; " + current);
    return false;
  }
  in->remaining_intensity = mean->mean;
  in->remaining_intensity_source = forecast->source;
  in->remaining_intensity_is_forecast = true;
  // A forecast that ends before the run does (UK: 24 or 48 h ahead) is
  // carried to the end; one period's difference is only rounding.
  if (mean->covered < span - std::chrono::minutes(30)) {
    in->notes.push_back(fmt::format("the forecast covers the first {} of the remaining {}; its mean is used for all "
                                    "of it",
                                    Secs(mean->covered.count()), Secs(span.count())));
  }
  return true;
}

void ApplyBudgetAnswer(Prediction* p, const std::string& account, long http_status, const nlohmann::json& j) {
  if (http_status == 404) {
    p->notes.push_back("account " + account + " has no CO2e budget for this year");
    return;
  }
  if (http_status != 200 || !j.is_object()) {
    const bool has_error = j.is_object() && j.contains("error") && j["error"].is_string();
    const std::string said = has_error ? ": " + j["error"].get<std::string>() : "";
    p->notes.push_back(fmt::format("budget of account {} not known: the collector answered HTTP {}{}", account,
                                   http_status, said));
    return;
  }
  auto number = [&](const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
  };
  BudgetShare b;
  b.account = j.contains("account") && j["account"].is_string() ? j["account"].get<std::string>() : account;
  b.year = j.contains("year") && j["year"].is_number_integer() ? j["year"].get<long long>() : 0;
  b.budget_kg = number("budget_kg");
  b.remaining_kg = number("remaining_kg");
  if (!Good(b.budget_kg) || !Good(b.remaining_kg)) {
    p->notes.push_back("budget of account " + account +
                       " not known: the collector's answer has no budget_kg and remaining_kg");
    return;
  }
  b.run_total_kg = p->co2e.value.kg();
  if (b.remaining_kg > 0) b.share = b.run_total_kg / b.remaining_kg;
  b.over = b.run_total_kg > b.remaining_kg;
  p->budget = b;
  p->notes.push_back("the remaining budget is the collector's figure now: what this run has already sent is in it");
}

void ApplyBudgetFailure(Prediction* p, const std::string& account, const std::string& why) {
  p->notes.push_back("budget of account " + account + " not checked: " + why);
}

std::string FormatPrediction(const Prediction& p) {
  const Unit e = EnergyUnit(p.energy.value.kwh() > 0 ? p.energy.value.kwh() : p.energy.high.kwh());
  const Unit m = MassUnit(p.co2e.value.kg() > 0 ? p.co2e.value.kg() : p.co2e.high.kg());
  const Unit d = TimeUnit(p.duration.value.count());
  std::string out = fmt::format("prediction for {} task{}, after {} done:\n", p.total_tasks,
                                p.total_tasks == 1 ? "" : "s", p.done_tasks);
  out += "  energy    " + RangeText(p.energy.value.kwh(), p.energy.low.kwh(), p.energy.high.kwh(), e) + "\n";
  out += "  CO2e      " + RangeText(p.co2e.value.kg(), p.co2e.low.kg(), p.co2e.high.kg(), m) + "\n";
  out += "  duration  " +
         RangeText(p.duration.value.count(), p.duration.low.count(), p.duration.high.count(), d) + "\n";
  const int rest = p.total_tasks - p.done_tasks;
  if (rest > 0) {
    out += fmt::format("  to come   {} task{}: {}, {} CO2e, {}\n", rest, rest == 1 ? "" : "s",
                       Kwh(p.remaining_energy.value.kwh()), Kg(p.remaining_co2e.value.kg()),
                       Secs(p.remaining_duration.value.count()));
  }
  out += "  interval  " + p.interval + "\n";
  out += "  basis     " + p.basis + "\n";
  if (!p.intensity_note.empty()) out += "  " + p.intensity_note + "\n";
  if (p.budget) out += "  budget    " + BudgetText(*p.budget) + "\n";
  for (const std::string& n : p.notes) out += "  note: " + n + "\n";
  return out;
}

nlohmann::json PredictionToJson(const Prediction& p) {
  auto energy = [](const Estimate<Energy>& x) {
    return json{{"value", x.value.kwh()}, {"low", x.low.kwh()}, {"high", x.high.kwh()}};
  };
  auto mass = [](const Estimate<Co2e>& x) {
    return json{{"value", x.value.kg()}, {"low", x.low.kg()}, {"high", x.high.kg()}};
  };
  auto time = [](const Estimate<Seconds>& x) {
    return json{{"value", x.value.count()}, {"low", x.low.count()}, {"high", x.high.count()}};
  };
  json budget = nullptr;
  if (p.budget) {
    const BudgetShare& b = *p.budget;
    budget = {{"account", b.account},           {"year", b.year},
              {"budget_kg", b.budget_kg},       {"remaining_kg", b.remaining_kg},
              {"run_total_kg", b.run_total_kg}, {"share", b.share ? json(*b.share) : json(nullptr)},
              {"over", b.over}};
  }
  json intensity = {{"g_per_kwh", p.remaining_intensity ? json(p.remaining_intensity->g_per_kwh()) : json(nullptr)},
                    {"forecast", p.forecast_used},
                    {"note", p.intensity_note}};
  return {{"done_tasks", p.done_tasks},
          {"total_tasks", p.total_tasks},
          {"confidence", p.confidence},
          {"energy_kwh", energy(p.energy)},
          {"emissions_kg", mass(p.co2e)},
          {"duration_s", time(p.duration)},
          {"remaining",
           {{"tasks", p.total_tasks - p.done_tasks},
            {"energy_kwh", energy(p.remaining_energy)},
            {"emissions_kg", mass(p.remaining_co2e)},
            {"duration_s", time(p.remaining_duration)}}},
          {"basis", p.basis},
          {"interval", p.interval},
          {"intensity", intensity},
          {"notes", p.notes},
          {"budget", budget}};
}

}  // namespace wattprint
