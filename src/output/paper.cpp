// The report's figures (wattprint/paper_report.h): runs from records and
// CSV rows, totals with their ranges, jobs, places and the statement.
#include "wattprint/paper_report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "output/format.h"
#include "wattprint/grid.h"
#include "wattprint/live_intensity.h"

namespace wattprint {

namespace {

Ranged Exact(double v) { return {v, v, v}; }

Ranged& operator+=(Ranged& a, const Ranged& b) {
  a.value += b.value;
  a.low += b.low;
  a.high += b.high;
  return a;
}

// The scope's figure of a record, machine when the process one is unknown.
const ScopeEmissionsRecord& EmissionsIn(const EmissionsRecord& e, Scope s) {
  if (s == Scope::kProcess && e.process) return *e.process;
  return e.machine;
}

std::optional<Energy> Of(const ScopedEnergy& e, Scope s) { return s == Scope::kProcess ? e.process : e.machine; }
std::optional<BoundsRecord> Of(const ScopedBounds& b, Scope s) {
  return s == Scope::kProcess ? b.process : b.machine;
}

ReportKind KindOf(const std::string& name, const KindRecord& k, Scope s) {
  ReportKind out{name, k.method, k.model.value_or(""), k.counted, {}};
  const double kwh = Of(k.energy, s).value_or(Energy()).kwh();
  out.kwh = Exact(kwh);
  if (auto b = Of(k.bounds, s); b && k.method != "measured_counter" && k.method != "measured_power") {
    out.kwh.low = std::min(kwh, b->low.kwh());
    out.kwh.high = std::max(kwh, b->high.kwh());
  }
  return out;
}

// Joins each interval shorter than half the median with the intervals after
// it (the extra polls at task boundaries last microseconds, and a counter
// that ticks in steps would show them as spikes of kilowatts); the energy
// is kept, only the time it is spread over grows.
PowerTrace Smooth(PowerTrace p) {
  const size_t n = p.t_s.size();
  if (n < 3) return p;
  std::vector<double> dt(n);
  for (size_t i = 0; i < n; ++i) dt[i] = p.t_end_s[i] - p.t_s[i];
  std::vector<double> sorted = dt;
  std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
  const double floor_s = sorted[n / 2] / 2;
  PowerTrace out;
  for (auto& [kind, w] : p.kind_w) out.kind_w[kind];
  std::map<std::string, double> joules;
  double start = p.t_s[0];
  for (size_t i = 0; i < n; ++i) {
    for (auto& [kind, w] : p.kind_w) joules[kind] += w[i] * dt[i];  // NaN stays NaN: a gap
    const double span = p.t_end_s[i] - start;
    if (span < floor_s && i + 1 < n) continue;
    out.t_s.push_back(start);
    out.t_end_s.push_back(p.t_end_s[i]);
    for (auto& [kind, j] : joules) out.kind_w[kind].push_back(j / span), j = 0;
    if (i + 1 < n) start = p.t_s[i + 1];
  }
  // A short last interval joins the one before it.
  const size_t m = out.t_s.size();
  if (m >= 2 && out.t_end_s[m - 1] - out.t_s[m - 1] < floor_s) {
    const double a = out.t_end_s[m - 2] - out.t_s[m - 2], b = out.t_end_s[m - 1] - out.t_s[m - 1];
    for (auto& [kind, w] : out.kind_w) w[m - 2] = (w[m - 2] * a + w[m - 1] * b) / (a + b), w.pop_back();
    out.t_end_s[m - 2] = out.t_end_s[m - 1];
    out.t_s.pop_back();
    out.t_end_s.pop_back();
  }
  return out;
}

PowerTrace TraceOf(const RunRecord& r, Scope s) {
  PowerTrace p;
  std::set<std::string> counted;
  for (const auto& [name, k] : r.kinds)
    if (k.counted && k.method != "none") counted.insert(name);
  for (const auto& name : counted) p.kind_w[name];
  for (const SampleRecord& smp : r.samples) {
    const double dt = smp.t_end_s - smp.t_start_s;
    if (!(dt > 0)) continue;
    p.t_s.push_back(smp.t_start_s);
    p.t_end_s.push_back(smp.t_end_s);
    const auto& joules = s == Scope::kProcess ? smp.process_j : smp.machine_j;
    std::map<std::string, double> sum;
    std::set<std::string> gap;
    for (size_t c = 0; c < joules.size() && c < r.channels.size(); ++c) {
      const std::string kind = ToString(r.channels[c].kind);
      if (!counted.count(kind)) continue;
      if (!joules[c]) gap.insert(kind);
      else sum[kind] += *joules[c];
    }
    for (auto& [kind, series] : p.kind_w)
      series.push_back(gap.count(kind) ? std::nan("") : sum[kind] / dt);
  }
  return p;
}

void FillMetadata(const MetadataRecord& m, ReportRun& run) {
  run.id = m.run_id;
  run.label = m.experiment_name.empty() ? m.project_name : m.project_name + " / " + m.experiment_name;
  run.start_iso = FormatUtc(m.start, true);
  run.start_unix_s = std::chrono::duration<double>(m.start.time_since_epoch()).count();
  run.tool_version = m.wattprint_version;
  run.host = m.host.value_or("");
  run.cpu_model = m.cpu_model.value_or("");
  run.cpu_count = m.cpu_count.value_or(0);
  run.gpu_model = m.gpu_model.value_or("");
  run.gpu_count = m.gpu_count;
  run.ram_gb = m.ram_total_bytes ? static_cast<double>(*m.ram_total_bytes) / (1024.0 * 1024 * 1024) : 0;
  run.os = m.os;
  run.cloud_provider = m.cloud_provider.value_or("");
  run.cloud_region = m.cloud_region.value_or("");
  if (m.cluster_job) {
    run.cluster = m.cluster_job->cluster;
    run.job_id = m.cluster_job->job_id;
    run.step_id = m.cluster_job->step;
    run.node = m.cluster_job->node;
    run.account = m.cluster_job->account;
    run.partition = m.cluster_job->partition;
  }
}

void FillIntensity(const IntensityTimeline& t, ReportRun& run) {
  const IntensityProvenance& p = t.provenance;
  run.zone = p.zone;
  run.country_name = p.country_name;
  run.intensity_source = p.source;
  run.basis = p.basis;
  run.resolution = p.resolution;
  run.intensity_year = p.year;
  run.intensity_default = p.is_default;
  run.intensity_live = t.points.size() > 1;
  if (run.g_per_kwh == 0 && !t.points.empty()) run.g_per_kwh = t.points.front().value.g_per_kwh();
}

}  // namespace

ReportRun ReportRunFromRecord(const RunRecord& r, std::string origin) {
  ReportRun run;
  run.origin = std::move(origin);
  run.has_record = true;
  FillMetadata(r.metadata, run);
  const Scope s = (r.scope == Scope::kProcess && r.emissions.process) ? Scope::kProcess : Scope::kMachine;
  run.scope = ToString(s);
  run.duration_s = r.duration_s;
  run.exit_code = r.exit_code;
  run.pue = r.pue;
  const ScopeEmissionsRecord& e = EmissionsIn(r.emissions, s);
  run.co2e_kg = {e.co2e.kg(), std::min(e.co2e.kg(), e.low.kg()), std::max(e.co2e.kg(), e.high.kg())};
  run.kwh = Exact(e.energy.kwh());
  for (const auto& [name, k] : r.kinds) {
    if (k.method == "none") continue;  // no device of that kind
    run.kinds.push_back(KindOf(name, k, s));
    const ReportKind& rk = run.kinds.back();
    if (!rk.counted) continue;
    run.kwh.low -= (rk.kwh.value - rk.kwh.low) * r.pue;
    run.kwh.high += (rk.kwh.high - rk.kwh.value) * r.pue;
  }
  run.kwh.low = std::max(0.0, run.kwh.low);
  if (e.energy.kwh() > 0) run.g_per_kwh = e.co2e.grams() / e.energy.kwh();
  FillIntensity(r.intensity, run);
  for (const TaskFiguresRecord& t : r.tasks) {
    const ScopeEmissionsRecord& te = EmissionsIn(t.emissions, s);
    run.tasks.push_back({t.name, t.duration_s, te.energy.kwh(), te.co2e.kg()});
  }
  run.power = Smooth(TraceOf(r, s));
  run.embodied = r.embodied;
  return run;
}

namespace {

// The value of a CSV column; "" when the column is absent.
std::string Field(const std::vector<std::string>& header, const std::vector<std::string>& fields,
                  std::string_view name) {
  for (size_t i = 0; i < header.size() && i < fields.size(); ++i)
    if (header[i] == name) return fields[i];
  return "";
}

Result<double> Number(const std::vector<std::string>& header, const std::vector<std::string>& fields,
                      std::string_view name, bool required) {
  const std::string text = Field(header, fields, name);
  if (text.empty()) {
    if (required) return Status::InvalidArgument(fmt::format("column {} is missing or empty", name));
    return 0.0;
  }
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(v) || v < 0)
    return Status::InvalidArgument(fmt::format("column {}: {:?} is not a number of 0 or more", name, text));
  return v;
}

}  // namespace

Result<ReportRun> ReportRunFromCsv(const std::vector<std::string>& header,
                                   const std::vector<std::string>& fields, std::string origin) {
  ReportRun run;
  run.origin = std::move(origin);
  auto kwh = Number(header, fields, "energy_consumed", true);
  auto kg = Number(header, fields, "emissions", true);
  auto duration = Number(header, fields, "duration", true);
  for (const auto* r : {&kwh, &kg, &duration})
    if (!r->ok()) return r->status();
  run.kwh = Exact(*kwh);
  run.co2e_kg = Exact(*kg);
  run.duration_s = *duration;
  if (*kwh > 0) run.g_per_kwh = *kg * 1e3 / *kwh;
  run.id = Field(header, fields, "run_id");
  const std::string project = Field(header, fields, "project_name");
  run.label = project.empty() ? run.id : project;
  // CodeCarbon's timestamp is the row's time, the end of the run, in UTC
  // without a zone.
  std::string stamp = Field(header, fields, "timestamp");
  if (!stamp.empty() && stamp.back() != 'Z' && stamp.find('+', 10) == std::string::npos) stamp += 'Z';
  if (auto end = ParseIsoUtc(stamp); end.ok()) {
    const SystemTime start = *end - std::chrono::duration_cast<SystemTime::duration>(
                                        std::chrono::duration<double>(run.duration_s));
    run.start_iso = FormatUtc(start, true);
    run.start_unix_s = std::chrono::duration<double>(start.time_since_epoch()).count();
  }
  run.country_name = Field(header, fields, "country_name");
  run.zone = Field(header, fields, "country_iso_code");
  run.cpu_model = Field(header, fields, "cpu_model");
  run.gpu_model = Field(header, fields, "gpu_model");
  run.os = Field(header, fields, "os");
  run.cloud_provider = Field(header, fields, "cloud_provider");
  run.cloud_region = Field(header, fields, "cloud_region");
  if (auto v = Number(header, fields, "cpu_count", false); v.ok()) run.cpu_count = static_cast<int>(*v);
  if (auto v = Number(header, fields, "gpu_count", false); v.ok()) run.gpu_count = static_cast<int>(*v);
  if (auto v = Number(header, fields, "ram_total_size", false); v.ok()) run.ram_gb = *v;
  if (auto v = Number(header, fields, "pue", false); v.ok() && *v >= 1) run.pue = *v;
  run.intensity_source = "derived from the row (emissions / energy_consumed)";
  const std::pair<const char*, const char*> kinds[] = {{"cpu", "cpu_energy"}, {"gpu", "gpu_energy"},
                                                       {"dram", "ram_energy"}};
  for (const auto& [kind, column] : kinds) {
    if (Field(header, fields, column).empty()) continue;
    auto v = Number(header, fields, column, false);
    if (!v.ok()) return v.status();
    // The CSV's kind energies carry the PUE; the breakdown shows them without.
    run.kinds.push_back({kind, "not recorded", "", true, Exact(*v / run.pue)});
  }
  return run;
}

std::optional<IntensitySpread> ZoneYearSpread(const std::string& zone) {
  if (zone.empty()) return std::nullopt;
  std::optional<IntensitySpread> out;
  for (int year : ElectricityMapsYears()) {
    GridSelection which{GridDataset::kElectricityMaps, year};
    GridLocation where;
    where.zone = zone;
    auto g = LookupGridIntensity(where, which);
    if (!g.ok() || g->year != year) continue;
    if (!out) out = IntensitySpread{g->g_per_kwh, g->g_per_kwh, year, year};
    out->low = std::min(out->low, g->g_per_kwh);
    out->high = std::max(out->high, g->g_per_kwh);
    out->first_year = std::min(out->first_year, year);
    out->last_year = std::max(out->last_year, year);
  }
  if (out && out->first_year == out->last_year) return std::nullopt;
  return out;
}

Result<ReportFormat> ParseReportFormat(std::string_view text) {
  if (text == "md" || text == "markdown") return ReportFormat::kMarkdown;
  if (text == "html") return ReportFormat::kHtml;
  if (text == "tex" || text == "latex") return ReportFormat::kLatex;
  return Status::InvalidArgument(fmt::format("--format {:?}: use md, html or tex", text));
}

namespace {

bool Measured(const std::string& method) { return method == "measured_counter" || method == "measured_power"; }

// Widens a run's CO2e range by its zone's yearly spread, when the run used
// a yearly average (a live or given figure has no such spread); returns
// the note that says so, once per zone.
void ApplySpread(ReportRun& run, std::map<std::string, std::string>& notes) {
  if (run.intensity_live || run.g_per_kwh <= 0 || !run.has_record) return;
  auto spread = ZoneYearSpread(run.zone);
  if (!spread) return;
  const double lo = std::min(1.0, spread->low / run.g_per_kwh);
  const double hi = std::max(1.0, spread->high / run.g_per_kwh);
  run.co2e_kg.low *= lo;
  run.co2e_kg.high *= hi;
  notes.emplace(run.zone, fmt::format("zone {}: yearly averages {:.0f}-{:.0f} g CO2e/kWh over {}-{}",
                                      run.zone, spread->low, spread->high, spread->first_year,
                                      spread->last_year));
}

std::vector<ReportJob> JobsOf(const std::vector<ReportRun>& runs) {
  std::map<std::pair<std::string, std::string>, ReportJob> jobs;
  for (const ReportRun& r : runs) {
    if (r.job_id.empty()) continue;
    ReportJob& j = jobs[{r.cluster, r.job_id}];
    j.cluster = r.cluster;
    j.job_id = r.job_id;
    j.account = r.account;
    j.partition = r.partition;
    if (!r.node.empty() && std::find(j.nodes.begin(), j.nodes.end(), r.node) == j.nodes.end())
      j.nodes.push_back(r.node);
    ++j.runs;
    j.duration_s = std::max(j.duration_s, r.duration_s);
    j.kwh += r.kwh;
    j.co2e_kg += r.co2e_kg;
  }
  std::vector<ReportJob> out;
  for (auto& [key, j] : jobs) {
    std::sort(j.nodes.begin(), j.nodes.end());
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<ReportKind> SumKinds(const std::vector<ReportRun>& runs) {
  std::map<std::string, ReportKind> sum;
  for (const ReportRun& r : runs) {
    for (const ReportKind& k : r.kinds) {
      auto [it, fresh] = sum.try_emplace(k.kind, ReportKind{k.kind, k.method, k.model, k.counted, {}});
      ReportKind& s = it->second;
      if (!fresh && s.method != k.method) s.method = "mixed";
      if (!fresh && s.model != k.model) s.model = s.model.empty() ? k.model : s.model;
      s.kwh += k.kwh;
    }
  }
  std::vector<ReportKind> out;
  for (auto& [name, k] : sum) out.push_back(std::move(k));
  return out;
}

std::vector<ReportPlace> PlacesOf(const std::vector<GridAlternative>& alts, double kwh, double kg) {
  std::vector<ReportPlace> out;
  for (const GridAlternative& a : alts) {
    ReportPlace p{a.name, a.label, a.g_per_kwh, kwh * a.g_per_kwh / 1e3, 0};
    p.change = kg > 0 ? p.co2e_kg / kg - 1 : 0;
    out.push_back(std::move(p));
  }
  return out;
}

void SumEmbodied(Report& rep) {
  std::set<std::string> not_counted;
  for (const ReportRun& r : rep.runs) {
    if (!r.embodied) continue;
    rep.embodied_kg = rep.embodied_kg.value_or(0) + r.embodied->kg;
    ++rep.embodied_runs;
    not_counted.insert(r.embodied->not_counted.begin(), r.embodied->not_counted.end());
  }
  rep.embodied_not_counted.assign(not_counted.begin(), not_counted.end());
}

}  // namespace

std::string ComposeStatement(const Report& rep);  // paper_render.cpp

Result<Report> BuildReport(std::vector<ReportRun> runs, ReportOptions options) {
  if (runs.empty()) return Status::InvalidArgument("no run to report");
  Report rep;
  rep.options = std::move(options);
  std::map<std::string, std::string> notes;
  for (ReportRun& r : runs) {
    ApplySpread(r, notes);
    rep.kwh += r.kwh;
    rep.co2e_kg += r.co2e_kg;
    rep.duration_s += r.duration_s;
    if (!r.has_record) rep.any_unknown_method = true;
    for (const ReportKind& k : r.kinds)
      if (k.counted && !Measured(k.method)) rep.all_measured = false;
    if (r.intensity_live) notes.emplace("~live " + r.zone, "live intensity for " + r.zone + ": " + r.intensity_source);
    if (r.intensity_default) notes.emplace("~default", "a run without a location used the world average");
  }
  for (auto& [key, note] : notes) rep.intensity_notes.push_back(note);
  rep.runs = std::move(runs);
  rep.jobs = JobsOf(rep.runs);
  rep.kinds = SumKinds(rep.runs);
  rep.zones = PlacesOf(LowestZones(rep.options.places), rep.kwh.value, rep.co2e_kg.value);
  rep.cloud_regions = PlacesOf(LowestCloudRegions("", rep.options.places), rep.kwh.value, rep.co2e_kg.value);
  rep.equivalents = EverydayEquivalents(Energy::KilowattHours(rep.kwh.value), Co2e::Kilograms(rep.co2e_kg.value));
  SumEmbodied(rep);
  rep.statement = ComposeStatement(rep);
  return rep;
}

}  // namespace wattprint
