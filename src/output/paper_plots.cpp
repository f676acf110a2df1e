// The report's plots (wattprint/paper_report.h), drawn by the SVG writer
// (output/svg.h): power per device kind over each run, energy per task,
// cumulative CO2e, and emissions by run.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "output/paper_internal.h"
#include "output/svg.h"

namespace wattprint::paper {

namespace {

constexpr size_t kMaxPowerPlots = 4;  // the runs with the most energy
constexpr size_t kMaxBars = 30;

// Seconds, minutes or hours, whichever keeps the axis readable.
struct TimeAxis {
  double divisor;
  const char* unit;
};
TimeAxis TimeAxisFor(double span_s) {
  if (span_s > 3 * 3600) return {3600, "h"};
  if (span_s > 180) return {60, "min"};
  return {1, "s"};
}

std::string RunName(const ReportRun& r, size_t i) {
  std::string name = r.label.empty() ? fmt::format("run {}", i + 1) : r.label;
  if (!r.node.empty()) name += " @" + r.node;
  return name;
}

std::vector<Plot> PowerPlots(const Report& rep) {
  std::vector<size_t> order(rep.runs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rep.runs[a].kwh.value > rep.runs[b].kwh.value; });
  std::vector<Plot> out;
  for (size_t i : order) {
    const ReportRun& r = rep.runs[i];
    if (r.power.t_s.empty() || out.size() == kMaxPowerPlots) continue;
    const TimeAxis ta = TimeAxisFor(r.power.t_end_s.back());
    svg::LineChart c;
    c.title = "Power by device kind: " + RunName(r, i);
    c.x = {"Time since start", ta.unit};
    c.y = {"Power", "W"};
    c.step = true;
    for (const auto& [kind, watts] : r.power.kind_w) {
      svg::Series s{KindName(kind), {}};
      for (size_t k = 0; k < watts.size(); ++k) s.points.push_back({r.power.t_s[k] / ta.divisor, watts[k]});
      // The last interval holds until its end.
      if (!watts.empty()) s.points.push_back({r.power.t_end_s.back() / ta.divisor, watts.back()});
      c.series.push_back(std::move(s));
    }
    std::string caption = fmt::format("Mean power per sampling interval of {} ({} scope{}).", RunName(r, i),
                                      r.scope, r.scope == "process" ? ": the run's share" : "");
    out.push_back({fmt::format("power-{}", out.size() + 1), caption, svg::RenderLineChart(c)});
  }
  return out;
}

std::optional<Plot> TaskPlot(const Report& rep) {
  svg::BarChart c;
  double max_kwh = 0;
  size_t with_tasks = 0;
  for (const ReportRun& r : rep.runs) {
    with_tasks += !r.tasks.empty();
    for (const ReportTask& t : r.tasks) max_kwh = std::max(max_kwh, t.kwh);
  }
  if (with_tasks == 0) return std::nullopt;
  const Unit va = EnergyUnit(max_kwh);
  c.title = "Energy per task";
  c.y = {"Energy", va.name};
  c.part_names = {"energy"};
  for (size_t i = 0; i < rep.runs.size(); ++i) {
    for (const ReportTask& t : rep.runs[i].tasks) {
      if (c.bars.size() == kMaxBars) break;
      const ReportRun& r = rep.runs[i];
      std::string run = r.node.empty() ? RunName(r, i) : r.node;
      std::string label = with_tasks > 1 ? run + ": " + t.name : t.name;
      c.bars.push_back({label, {t.kwh * va.per}});
    }
  }
  return Plot{"tasks", "Energy of each task (epoch), PUE applied, in the order they ran.", svg::RenderBarChart(c)};
}

// Cumulative CO2e over wall-clock time: each sampled interval adds its
// share of its run's CO2e (by energy, exact for a constant intensity); a
// run without samples adds its whole figure at its end.
std::optional<Plot> CumulativePlot(const Report& rep) {
  std::vector<std::pair<double, double>> events;  // absolute s, kg
  double t0 = std::numeric_limits<double>::infinity();
  for (const ReportRun& r : rep.runs) {
    if (r.start_unix_s <= 0) return std::nullopt;
    t0 = std::min(t0, r.start_unix_s);
    const auto& p = r.power;
    std::vector<double> j(p.t_s.size(), 0);
    for (const auto& [kind, w] : p.kind_w)
      for (size_t k = 0; k < w.size(); ++k)
        if (std::isfinite(w[k])) j[k] += w[k] * (p.t_end_s[k] - p.t_s[k]);
    const double total = std::accumulate(j.begin(), j.end(), 0.0);
    if (total <= 0) {
      events.push_back({r.start_unix_s + r.duration_s, r.co2e_kg.value});
      continue;
    }
    for (size_t k = 0; k < j.size(); ++k) events.push_back({r.start_unix_s + p.t_end_s[k], r.co2e_kg.value * j[k] / total});
  }
  if (events.empty()) return std::nullopt;
  std::sort(events.begin(), events.end());
  const TimeAxis ta = TimeAxisFor(events.back().first - t0);
  const Unit va = MassUnit(rep.co2e_kg.value);
  svg::Series s{"CO2e", {{0, 0}}};
  double sum = 0;
  for (const auto& [t, kg] : events) {
    sum += kg;
    s.points.push_back({(t - t0) / ta.divisor, sum * va.per});
  }
  svg::LineChart c;
  c.title = "Cumulative CO2e";
  c.x = {rep.runs.size() > 1 ? "Time since the first run started" : "Time since start", ta.unit};
  c.y = {"CO2e", std::string(va.name) + " CO2e"};
  c.series.push_back(std::move(s));
  return Plot{"cumulative", "Operational CO2e accumulated over time (embodied emissions not included).",
              svg::RenderLineChart(c)};
}

Plot RunsPlot(const Report& rep) {
  std::vector<std::string> kinds;
  for (const ReportKind& k : rep.kinds)
    if (k.counted) kinds.push_back(k.kind);
  std::vector<size_t> order(rep.runs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rep.runs[a].co2e_kg.value > rep.runs[b].co2e_kg.value; });
  double max_kg = 0;
  for (const ReportRun& r : rep.runs) max_kg = std::max(max_kg, r.co2e_kg.value);
  const Unit va = MassUnit(max_kg);
  svg::BarChart c;
  c.title = "CO2e by run";
  c.y = {"CO2e", std::string(va.name) + " CO2e"};
  for (const auto& k : kinds) c.part_names.push_back(KindName(k));
  if (c.part_names.empty()) c.part_names = {"CO2e"};
  double rest = 0;
  for (size_t n = 0; n < order.size(); ++n) {
    const ReportRun& r = rep.runs[order[n]];
    if (n + 1 >= kMaxBars && order.size() > kMaxBars) {
      rest += r.co2e_kg.value;
      continue;
    }
    // Split the run's CO2e by the counted kinds' energy.
    double sum_kwh = 0;
    for (const ReportKind& k : r.kinds) sum_kwh += k.counted ? k.kwh.value : 0;
    svg::Bar bar{RunName(r, order[n]), std::vector<double>(std::max<size_t>(1, kinds.size()), 0)};
    for (const ReportKind& k : r.kinds) {
      auto it = std::find(kinds.begin(), kinds.end(), k.kind);
      if (!k.counted || it == kinds.end() || sum_kwh <= 0) continue;
      bar.parts[it - kinds.begin()] = r.co2e_kg.value * va.per * k.kwh.value / sum_kwh;
    }
    if (sum_kwh <= 0) bar.parts[0] = r.co2e_kg.value * va.per;
    c.bars.push_back(std::move(bar));
  }
  if (rest > 0) {
    svg::Bar bar{fmt::format("{} more runs", order.size() - kMaxBars + 1), std::vector<double>(c.part_names.size(), 0)};
    bar.parts[0] = rest * va.per;
    c.bars.push_back(std::move(bar));
  }
  return Plot{"runs", "Operational CO2e of each run, split by device kind in proportion to their energy.",
              svg::RenderBarChart(c)};
}

}  // namespace

std::vector<Plot> MakePlots(const Report& rep) {
  std::vector<Plot> out = PowerPlots(rep);
  if (auto p = TaskPlot(rep)) out.push_back(std::move(*p));
  if (auto p = CumulativePlot(rep)) out.push_back(std::move(*p));
  out.push_back(RunsPlot(rep));
  return out;
}

}  // namespace wattprint::paper
