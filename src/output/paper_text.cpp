// Numbers with units and the paper statement (wattprint/paper_report.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "output/paper_internal.h"

namespace wattprint {

namespace paper {

std::string Sig3(double v) {
  if (!std::isfinite(v)) return "unknown";
  if (v == 0) return "0";
  const double mag = std::floor(std::log10(std::fabs(v)));
  const int decimals = std::clamp(2 - static_cast<int>(mag), 0, 12);
  std::string s = fmt::format("{:.{}f}", v, decimals);
  // Rounding up can add a digit ("9.995" -> "10.00"): keep three figures.
  if (decimals > 0 && std::fabs(std::stod(s)) >= std::pow(10.0, mag + 1)) s = fmt::format("{:.{}f}", v, decimals - 1);
  return s == "-0" ? "0" : s;
}

namespace {

struct Scaled {
  double value;
  const char* unit;
};

Scaled ScaleEnergy(double kwh) {
  const double a = std::fabs(kwh);
  if (a >= 1e3) return {kwh / 1e3, "MWh"};
  if (a >= 1) return {kwh, "kWh"};
  if (a >= 1e-3) return {kwh * 1e3, "Wh"};
  if (a == 0) return {kwh, "kWh"};
  return {kwh * 3.6e6, "J"};
}

Scaled ScaleMass(double kg) {
  const double a = std::fabs(kg);
  if (a >= 1e3) return {kg / 1e3, "t"};
  if (a >= 1) return {kg, "kg"};
  if (a >= 1e-3 || a == 0) return {kg * 1e3, "g"};
  return {kg * 1e6, "mg"};
}

std::string Range(const Ranged& r, Scaled (*scale)(double), const std::string& dash) {
  const Scaled v = scale(r.value);
  std::string out = Sig3(v.value) + " " + v.unit;
  if (r.exact()) return out;
  const double k = v.value / (r.value == 0 ? 1 : r.value);
  const double lo = r.value == 0 ? scale(r.low).value : r.low * k;
  const double hi = r.value == 0 ? scale(r.high).value : r.high * k;
  return out + " (" + Sig3(lo) + dash + Sig3(hi) + " " + v.unit + ")";
}

}  // namespace

Unit EnergyUnit(double max_kwh) {
  const Scaled s = ScaleEnergy(max_kwh);
  return {max_kwh == 0 ? 1 : s.value / max_kwh, s.unit};
}

Unit MassUnit(double max_kg) {
  const Scaled s = ScaleMass(max_kg);
  return {max_kg == 0 ? 1e3 : s.value / max_kg, s.unit};
}

std::string Energy(double kwh) {
  const Scaled s = ScaleEnergy(kwh);
  return Sig3(s.value) + " " + s.unit;
}

std::string Mass(double kg) {
  const Scaled s = ScaleMass(kg);
  return Sig3(s.value) + " " + s.unit;
}

std::string EnergyRange(const Ranged& r, const std::string& dash) { return Range(r, ScaleEnergy, dash); }
std::string MassRange(const Ranged& r, const std::string& dash) { return Range(r, ScaleMass, dash); }

std::string Duration(double s) {
  if (s < 120) return Sig3(s) + " s";
  if (s < 7200) return Sig3(s / 60) + " min";
  if (s < 172800) return Sig3(s / 3600) + " h";
  return Sig3(s / 86400) + " d";
}

std::string MethodPhrase(const std::string& method, const std::string& model) {
  if (method == "measured_counter") return "measured (hardware energy counter)";
  if (method == "measured_power") return "measured (power readings integrated over time)";
  if (method == "estimated") return model.empty() ? "estimated" : "estimated (" + model + ")";
  if (method == "mixed") return "partly measured, partly estimated";
  if (method == "not recorded") return "method not recorded (emissions.csv)";
  return method;
}

std::string KindName(const std::string& kind) {
  if (kind == "cpu") return "CPU";
  if (kind == "dram") return "DRAM";
  if (kind == "gpu") return "GPU";
  return kind;
}

}  // namespace paper

namespace {

using paper::Sig3;

// "2 × Intel Xeon Gold 6338 (128 CPUs), 8 × NVIDIA A100-SXM4-80GB, 512 GB RAM"
// per distinct machine, with the number of runs on it.
std::string Hardware(const std::vector<ReportRun>& runs) {
  std::map<std::string, int> kinds;
  for (const ReportRun& r : runs) {
    std::vector<std::string> parts;
    if (!r.cpu_model.empty())
      parts.push_back(r.cpu_count > 0 ? fmt::format("{} ({} CPUs)", r.cpu_model, r.cpu_count) : r.cpu_model);
    // The record's GPU model already counts them ("2 x NVIDIA A100 ...").
    if (r.gpu_count > 0 && r.gpu_model.find(" x ") != std::string::npos) parts.push_back(r.gpu_model);
    else if (r.gpu_count > 0)
      parts.push_back(fmt::format("{} x {}", r.gpu_count, r.gpu_model.empty() ? "GPU" : r.gpu_model));
    if (r.ram_gb > 0) parts.push_back(Sig3(r.ram_gb) + " GB RAM");
    if (!r.cloud_provider.empty()) parts.push_back("on " + r.cloud_provider + " " + r.cloud_region);
    std::string m;
    for (const auto& p : parts) m += (m.empty() ? "" : ", ") + p;
    ++kinds[m.empty() ? "hardware not recorded" : m];
  }
  std::string out;
  for (const auto& [m, n] : kinds)
    out += (out.empty() ? "" : "; ") + (kinds.size() > 1 ? fmt::format("{} ({} runs)", m, n) : m);
  return out;
}

// "France (zone FR), 31 g CO2e/kWh: Electricity Maps, 2025 yearly average ..."
std::string Grids(const std::vector<ReportRun>& runs) {
  std::map<std::string, std::string> places;
  for (const ReportRun& r : runs) {
    // A figure given with --intensity has no place: none is named.
    std::string where = r.country_name.empty() ? r.zone : r.country_name;
    if (!r.zone.empty() && r.zone != where) where += " (zone " + r.zone + ")";
    if (r.intensity_default) where = "no location given: the world average";
    std::string what = fmt::format("{}{} g CO2e/kWh ({} basis{}): {}", where.empty() ? "" : where + ", ",
                                   Sig3(r.g_per_kwh), r.basis, r.intensity_live ? ", live, mean over the run" : "",
                                   r.intensity_source);
    places.emplace(r.zone + "|" + r.intensity_source + "|" + Sig3(r.g_per_kwh), what);
  }
  std::string out;
  for (const auto& [key, what] : places) out += (out.empty() ? "" : "; ") + what;
  return out;
}

std::string Methods(const Report& rep) {
  std::string out;
  for (const ReportKind& k : rep.kinds) {
    if (!k.counted) continue;
    out += (out.empty() ? "" : "; ") + paper::KindName(k.kind) + " " + paper::MethodPhrase(k.method, k.model);
  }
  return out.empty() ? "no device recorded" : out;
}

std::string Pues(const std::vector<ReportRun>& runs) {
  std::set<std::string> pues;
  for (const ReportRun& r : runs) pues.insert(Sig3(r.pue));
  std::string out;
  for (const auto& p : pues) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string Versions(const std::vector<ReportRun>& runs) {
  std::set<std::string> v;
  for (const ReportRun& r : runs)
    if (!r.tool_version.empty()) v.insert(r.tool_version);
  std::string out;
  for (const auto& s : v) out += (out.empty() ? " " : ", ") + s;
  return out;
}

std::string ScopePhrase(const std::vector<ReportRun>& runs) {
  std::set<std::string> scopes;
  for (const ReportRun& r : runs) scopes.insert(r.scope);
  if (scopes.size() > 1) return "the machine or the process tree, as each run was measured";
  return *scopes.begin() == "process" ? "the measured process tree's share of the machine" : "the whole machine";
}

std::string What(const Report& rep) {
  const size_t n = rep.runs.size();
  std::string what = n == 1 ? "The run" : fmt::format("The {} runs", n);
  if (!rep.jobs.empty()) {
    std::set<std::string> distinct;
    for (const ReportJob& j : rep.jobs)
      for (const std::string& n : j.nodes) distinct.insert(j.cluster + "\n" + n);
    const size_t nodes = std::max<size_t>(1, distinct.size());
    what += fmt::format(" ({} Slurm job{} on {} node{})", rep.jobs.size(), rep.jobs.size() > 1 ? "s" : "", nodes,
                        nodes > 1 ? "s" : "");
  }
  return what + fmt::format(", {} of compute in all,", paper::Duration(rep.duration_s));
}

}  // namespace

// The paragraph for the paper: every figure with how it was obtained.
std::string ComposeStatement(const Report& rep) {
  const std::string dash = "\u2013";
  std::string s = What(rep);
  s += " used " + paper::EnergyRange(rep.kwh, dash) + " of electricity";
  if (rep.all_measured) s += ", all of it measured,";
  else if (rep.any_unknown_method) s += " (some runs read from emissions.csv, which does not record the method)";
  s += " and emitted " + paper::MassRange(rep.co2e_kg, dash) + " CO2e";
  s += fmt::format(", as reported by wattprint{} in the scope of {}.", Versions(rep.runs), ScopePhrase(rep.runs));
  if (!rep.co2e_kg.exact())
    s += rep.all_measured ? " The CO2e range is the spread of the grid's yearly averages."
                          : " The ranges are the bounds of the estimation models and the spread of the grid's "
                            "yearly averages.";
  s += " Hardware: " + Hardware(rep.runs) + ".";
  s += " Energy per device: " + Methods(rep) + ".";
  s += " Grid: " + Grids(rep.runs) + ".";
  s += " A PUE of " + Pues(rep.runs) + " was applied.";
  if (rep.embodied_kg) {
    const double share = *rep.embodied_kg / std::max(1e-300, *rep.embodied_kg + rep.co2e_kg.value);
    s += fmt::format(
        " Manufacturing the hardware (embodied emissions, amortised linearly over its lifetime and by the "
        "run's share of each device) adds {} CO2e{}, {} % of the total including it; it is reported apart "
        "and not included above.",
        paper::Mass(*rep.embodied_kg),
        rep.embodied_runs < static_cast<int>(rep.runs.size())
            ? fmt::format(" for {} of the {} runs", rep.embodied_runs, rep.runs.size())
            : "",
        Sig3(share * 100));
  }
  return s;
}

}  // namespace wattprint
