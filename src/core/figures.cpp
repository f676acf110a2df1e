// Per-kind figures shared by every output (see figures.h).
#include "wattprint/figures.h"

#include <algorithm>
#include <array>

namespace wattprint {
namespace {

constexpr std::array<DeviceKind, 4> kKinds = {DeviceKind::kCpu, DeviceKind::kDram,
                                              DeviceKind::kGpu, DeviceKind::kPlatform};

std::string ModelName(const ChannelInfo& info) {
  auto it = info.model.find("name");
  if (it != info.model.end()) return it->second;
  it = info.model.find("model");
  return it != info.model.end() ? it->second : info.label;
}

// A zero-length slice (from == to) has no interval: its energy is exactly
// 0 J for every channel that was readable (judged by its last status).
KindFigure SumKind(DeviceKind kind, const Ledger& ledger, const Totals& t, bool empty_slice) {
  const auto& infos = ledger.channels();
  KindFigure k;
  k.kind = kind;
  k.process_ok = true;
  k.complete = true;
  for (size_t c = 0; c < infos.size() && c < t.channels.size(); ++c) {
    if (infos[c].kind != kind) continue;
    const ChannelTotal& ct = t.channels[c];
    ++k.channels;
    const bool readable = empty_slice && ledger.last_status()[c].ok();
    k.known = k.known || ct.ok_intervals > 0 || readable;
    k.complete = k.complete && ct.missing_intervals == 0 && (ct.ok_intervals > 0 || readable);
    k.process_ok = k.process_ok && (ct.process_ok || readable);
    k.lower_bound = k.lower_bound || ct.lower_bound;
    k.machine += ct.machine;
    k.process += ct.process;
    k.machine_low += ct.machine_low;
    k.machine_high += ct.machine_high;
    k.process_low += ct.process_low;
    k.process_high += ct.process_high;
    if (k.method && *k.method != infos[c].method) k.mixed = true;
    if (!k.method) k.method = infos[c].method;
    if (infos[c].method == Method::kEstimated && k.model.empty()) k.model = ModelName(infos[c]);
  }
  if (!k.known) k.complete = k.process_ok = false;
  k.lower_bound = k.known && (k.lower_bound || !k.complete);
  return k;
}

}  // namespace

const KindFigure& Figures::Kind(DeviceKind k) const {
  for (const KindFigure& f : kinds) {
    if (f.kind == k) return f;
  }
  static const KindFigure kNone;
  return kNone;
}

Energy Figures::CountedEnergy(Scope s) const {
  Energy e;
  for (const KindFigure& k : kinds) {
    if (k.counted) e += k.Of(s);
  }
  return e;
}

Energy Figures::CountedLow(Scope s) const {
  Energy e;
  for (const KindFigure& k : kinds) {
    if (k.counted) e += s == Scope::kMachine ? k.machine_low : k.process_low;
  }
  return e;
}

Energy Figures::CountedHigh(Scope s) const {
  Energy e;
  for (const KindFigure& k : kinds) {
    if (k.counted) e += s == Scope::kMachine ? k.machine_high : k.process_high;
  }
  return e;
}

Figures ComputeFigures(const RunResult& run, size_t from, size_t to) {
  Figures f;
  for (DeviceKind kind : kKinds) {
    KindFigure k;
    k.kind = kind;
    f.kinds.push_back(k);
  }
  f.no_gpu = true;
  for (const ProbeReport& r : run.sources) {
    for (const ChannelInfo& c : r.channels) f.no_gpu = f.no_gpu && c.kind != DeviceKind::kGpu;
    for (DeviceKind k : r.unmeasured) f.no_gpu = f.no_gpu && k != DeviceKind::kGpu;
  }
  const Ledger* ledger = run.snapshot.ledger.get();
  if (ledger == nullptr || ledger->num_points() == 0) return f;
  for (const ChannelInfo& c : ledger->channels()) f.no_gpu = f.no_gpu && c.kind != DeviceKind::kGpu;
  to = std::min(to, ledger->num_points() - 1);
  from = std::min(from, to);
  f.totals = ledger->Sum(from, to);
  f.duration = f.totals.duration();
  f.kinds.clear();
  for (DeviceKind kind : kKinds) f.kinds.push_back(SumKind(kind, *ledger, f.totals, from == to));

  f.platform_as_cpu = f.kinds[0].channels == 0 && f.kinds[3].channels > 0;
  f.process_known = true;
  for (KindFigure& k : f.kinds) {
    k.counted = k.known && (k.kind != DeviceKind::kPlatform || f.platform_as_cpu);
    if (k.counted && !k.process_ok) {
      f.process_known = false;
      f.process_unknown.push_back(k.kind);
    }
  }
  for (Scope s : {Scope::kMachine, Scope::kProcess}) {
    ScopeEmissions& out = s == Scope::kMachine ? f.machine : f.process;
    // An empty timeline yields 0 g: energy is still reported.
    const EmissionsResult r = ComputeEmissions(*ledger, from, to, s, run.intensity, run.meta.pue);
    out.energy = r.energy;
    out.co2e = r.total;
    const double counted = f.CountedEnergy(s).joules();
    const double lo = counted > 0.0 ? f.CountedLow(s).joules() / counted : 1.0;
    const double hi = counted > 0.0 ? f.CountedHigh(s).joules() / counted : 1.0;
    out.co2e_low = Co2e::Grams(r.total.grams() * lo);
    out.co2e_high = Co2e::Grams(r.total.grams() * hi);
  }

  double util_time = 0.0;
  for (size_t k = from; k < to && k < ledger->intervals().size(); ++k) {
    const Interval& iv = ledger->intervals()[k];
    if (iv.activity_ok) util_time += std::chrono::duration<double>(iv.end - iv.begin).count();
  }
  f.utilization_ok = util_time > 0.0;
  int gpus = 0;
  for (size_t c = 0; c < ledger->channels().size() && c < f.totals.channels.size(); ++c) {
    const double u = f.totals.channels[c].mean_utilization;
    if (ledger->channels()[c].kind != DeviceKind::kGpu || u < 0.0) continue;
    f.gpu_utilization += u;
    ++gpus;
  }
  f.gpu_utilization_ok = gpus > 0;
  if (gpus > 0) f.gpu_utilization /= gpus;
  f.cpu_utilization = f.totals.mean_cpu_utilization;
  f.ram_utilization = f.totals.mean_ram_utilization;
  return f;
}

std::string MethodName(const KindFigure& k) {
  if (k.mixed) return "mixed";
  return k.method ? ToString(*k.method) : "";
}

Figures ComputeFigures(const RunResult& run) {
  const Ledger* ledger = run.snapshot.ledger.get();
  const size_t last = ledger == nullptr || ledger->num_points() == 0 ? 0 : ledger->num_points() - 1;
  return ComputeFigures(run, 0, last);
}

}  // namespace wattprint
