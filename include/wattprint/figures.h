// The figures of a run, a core stage with typed numbers: computed once from
// a run's ledger slice, they give the energy per device kind in both scopes
// with the bounds of estimates, the method behind each kind, the energy
// that feeds emissions, emissions in both scopes, mean utilisation. CSV,
// JSON and the summary (src/output/) only format them, so they can never
// disagree; the collector and the reports read the same figures.
//
// Platform (psys) energy covers the CPU package and more, so it is never
// added on top of CPU energy: when the run has CPU channels, platform
// channels are reported but left out of the total and of emissions; when it
// has none, platform energy stands in for the CPU figure.
//
// No I/O. Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "wattprint/record.h"

namespace wattprint {

struct KindFigure {
  DeviceKind kind = DeviceKind::kCpu;
  int channels = 0;         // channels of this kind in the run
  bool known = false;       // at least one channel had at least one known interval
  bool complete = false;    // known, and no interval of any channel was missing
  bool process_ok = false;  // every channel had a share for every known interval
  // Some energy may be missing: not complete, or an interval flagged (a
  // gap that could hide a wrap, a suspend; see ledger.h).
  bool lower_bound = false;
  Energy machine;           // no PUE
  Energy process;           // no PUE
  // The estimate's bounds (equal to the figure for measured channels).
  Energy machine_low, machine_high, process_low, process_high;
  // How the kind's figure was obtained: the channels' method, unless they
  // differ (mixed); nullopt without channels.
  std::optional<Method> method;
  bool mixed = false;
  std::string model;        // for estimated channels: the model's name
  bool estimated() const { return method == Method::kEstimated || mixed; }
  bool counted = false;     // part of the total and of emissions
  Energy Of(Scope s) const { return s == Scope::kMachine ? machine : process; }
};

struct ScopeEmissions {
  Energy energy;  // counted energy, PUE applied
  Co2e co2e;
  // The range the estimates' bounds give: co2e scaled by the counted
  // energy's low and high bounds (equal to co2e when all is measured).
  Co2e co2e_low, co2e_high;
};

struct Figures {
  Seconds duration{0};
  Totals totals;
  std::vector<KindFigure> kinds;  // cpu, dram, gpu, platform (in that order)
  bool platform_as_cpu = false;   // no CPU channels: platform stands in
  ScopeEmissions machine;
  ScopeEmissions process;
  bool process_known = false;  // every counted kind has a process figure
  // Kinds of counted energy with no process figure (their process energy is
  // left out of process emissions, which are then partial).
  std::vector<DeviceKind> process_unknown;
  // No GPU on this machine: no GPU channel, and no source saw a GPU it could
  // not measure. GPU energy is then a measured 0, not unknown.
  bool no_gpu = false;
  bool utilization_ok = false;
  double cpu_utilization = 0.0;  // time-weighted mean, 0..1
  double ram_utilization = 0.0;
  // Mean over GPU channels of each one's time-weighted utilisation (0..1);
  // unknown when no GPU channel reported any.
  bool gpu_utilization_ok = false;
  double gpu_utilization = 0.0;

  const KindFigure& Kind(DeviceKind k) const;
  const ScopeEmissions& In(Scope s) const { return s == Scope::kMachine ? machine : process; }
  // Counted energy without PUE (what the hardware used), and its bounds.
  Energy CountedEnergy(Scope s) const;
  Energy CountedLow(Scope s) const;
  Energy CountedHigh(Scope s) const;
};

// "measured_counter", "measured_power", "estimated", "mixed", or "" for a
// kind without channels.
std::string MethodName(const KindFigure& k);

// Figures for polls [from, to] of run.snapshot.ledger, with run.meta.pue
// and run.intensity. An empty or missing ledger gives all-unknown figures.
Figures ComputeFigures(const RunResult& run, size_t from, size_t to);
Figures ComputeFigures(const RunResult& run);  // the whole run

}  // namespace wattprint
