// A run -> its typed record (wattprint/run_record.h). Every figure comes
// from ComputeFigures; this file decides what is known (nullopt otherwise),
// never how it is written.
#include "wattprint/run_record.h"

#include <algorithm>

#include <fmt/format.h>

#include "wattprint/figures.h"

namespace wattprint {
namespace {

double Rel(SteadyTime t, SteadyTime origin) { return std::chrono::duration<double>(t - origin).count(); }

std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

StatusRecord StatusOf(const Status& s) {
  if (s.ok()) return {};
  return {false, Status::CodeName(s.code()), s.message()};
}

MetadataRecord MetadataOf(const RunResult& run) {
  const RunMetadata& m = run.meta;
  MetadataRecord r;
  r.run_id = m.run_id;
  r.project_name = m.project_name;
  r.experiment_id = m.experiment_id;
  r.experiment_name = m.experiment_name;
  r.os = m.os;
  r.python_version = NonEmpty(m.python_version);
  r.wattprint_version = m.tool_version;
  if (m.cpu_count > 0) r.cpu_count = m.cpu_count;
  r.cpu_model = NonEmpty(m.cpu_model);
  if (m.ram_total_bytes > 0) r.ram_total_bytes = m.ram_total_bytes;
  r.gpu_count = m.gpu_count;
  r.gpu_model = NonEmpty(m.gpu_model);
  r.cloud_provider = NonEmpty(m.cloud_provider);
  r.cloud_region = NonEmpty(m.cloud_region);
  r.on_cloud = m.on_cloud;
  r.longitude = m.longitude;
  r.latitude = m.latitude;
  r.pue = m.pue;
  r.wue = m.wue;
  r.start = run.wall_start;
  r.host = NonEmpty(m.host);
  if (!m.cluster_job.job_id.empty()) r.cluster_job = m.cluster_job;
  r.mpi = m.mpi;
  return r;
}

std::vector<SourceRecord> SourcesOf(const std::vector<ProbeReport>& reports) {
  std::vector<SourceRecord> out;
  for (const ProbeReport& r : reports) {
    SourceRecord s{r.name, r.description, r.state, r.reason, NonEmpty(r.fix), {}};
    for (const ChannelInfo& c : r.channels) s.channels.push_back(c.id);
    out.push_back(std::move(s));
  }
  return out;
}

ScopedEnergy Scoped(bool known, bool process_ok, Energy machine, Energy process) {
  ScopedEnergy e;
  if (known) e.machine = machine;
  if (known && process_ok) e.process = process;
  return e;
}

ScopedBounds BoundsOf(bool known, bool process_ok, BoundsRecord machine, BoundsRecord process) {
  ScopedBounds b;
  if (known) b.machine = machine;
  if (known && process_ok) b.process = process;
  return b;
}

ChannelRecord ChannelOf(const Ledger& ledger, const ChannelTotal& ct, size_t c) {
  const ChannelInfo& i = ledger.channels()[c];
  const bool known = ct.ok_intervals > 0;
  ChannelRecord r;
  r.id = i.id;
  r.device_id = i.device_id;
  r.label = i.label;
  r.kind = i.kind;
  r.type = i.type;
  r.method = i.method;
  r.model = i.model;
  r.model_inputs = i.model_inputs;
  r.path = NonEmpty(i.path);
  if (i.wrap_range.joules() > 0) r.wrap_range = i.wrap_range;
  r.last_status = StatusOf(ledger.last_status().at(c));
  r.available = known;
  r.ok_intervals = ct.ok_intervals;
  r.missing_intervals = ct.missing_intervals;
  r.wraps = ct.wraps;
  r.resets = ct.resets;
  r.lower_bound = known && ct.lower_bound;
  r.power_ceiling = PowerCeilingOf(i);
  r.power_ceiling_source = i.power_ceiling_source.empty() ? "default for the kind" : i.power_ceiling_source;
  r.energy = Scoped(known, ct.process_ok, ct.machine, ct.process);
  r.bounds = BoundsOf(known, ct.process_ok, {ct.machine_low, ct.machine_high}, {ct.process_low, ct.process_high});
  return r;
}

std::vector<DeviceRecord> DevicesOf(const Ledger& ledger, const Totals& t) {
  std::vector<DeviceRecord> out;
  const auto& infos = ledger.channels();
  std::vector<std::string> seen;
  for (size_t c = 0; c < infos.size(); ++c) {
    if (std::find(seen.begin(), seen.end(), infos[c].device_id) != seen.end()) continue;
    seen.push_back(infos[c].device_id);
    Energy m, p;
    bool known = false, process_ok = true;
    for (size_t d = c; d < infos.size(); ++d) {
      if (infos[d].device_id != infos[c].device_id) continue;
      const ChannelTotal& ct = t.channels.at(d);
      known = known || ct.ok_intervals > 0;
      process_ok = process_ok && ct.process_ok;
      m += ct.machine;
      p += ct.process;
    }
    out.push_back({infos[c].device_id, infos[c].kind, Scoped(known, process_ok, m, p)});
  }
  return out;
}

std::optional<std::string> Fact(const ChannelInfo& i, const char* key) {
  auto it = i.model.find(key);
  return it == i.model.end() ? std::nullopt : NonEmpty(it->second);
}

std::optional<double> Number(const ChannelInfo& i, const char* key) {
  auto it = i.model_inputs.find(key);
  return it == i.model_inputs.end() ? std::nullopt : std::optional<double>(it->second);
}

GpuRecord GpuOf(const Ledger& ledger, const ChannelTotal& ct, size_t c) {
  const ChannelInfo& i = ledger.channels()[c];
  const bool known = ct.ok_intervals > 0;
  GpuRecord g;
  g.device_id = i.device_id;
  g.channel = i.id;
  g.label = i.label;
  g.index = Number(i, "index");
  g.name = Fact(i, "name");
  g.uuid = Fact(i, "uuid");
  g.method = i.method;
  g.energy_source = Fact(i, "energy");
  g.process_attribution = Fact(i, "process_attribution");
  g.mig_instances = Fact(i, "mig_instances");
  g.power_limit_w = Number(i, "power_limit_w");
  g.memory_total_bytes = Number(i, "memory_total_bytes");
  g.available = known;
  g.last_status = StatusOf(ledger.last_status().at(c));
  g.energy = Scoped(known, ct.process_ok, ct.machine, ct.process);
  if (ct.mean_utilization >= 0) g.mean_utilization = ct.mean_utilization;
  if (ct.peak_memory_used_bytes >= 0) g.peak_memory_used_bytes = ct.peak_memory_used_bytes;
  return g;
}

std::map<std::string, KindRecord> KindsOf(const Figures& f) {
  std::map<std::string, KindRecord> out;
  if (f.no_gpu) {
    // Measured: no source found a GPU, and none saw one it could not read.
    KindRecord none;
    none.method = "none";
    none.model = "no GPU on this machine";
    none.complete = true;
    none.energy = {Energy(), Energy()};
    out["gpu"] = none;
  }
  for (const KindFigure& k : f.kinds) {
    if (k.channels == 0) continue;
    KindRecord r;
    r.method = MethodName(k);
    r.model = NonEmpty(k.model);
    r.channels = k.channels;
    r.counted = k.counted;
    r.complete = k.complete;
    r.lower_bound = k.lower_bound;
    r.energy = Scoped(k.known, k.process_ok, k.machine, k.process);
    r.bounds = BoundsOf(k.known, k.process_ok, {k.machine_low, k.machine_high}, {k.process_low, k.process_high});
    out[ToString(k.kind)] = r;
  }
  return out;
}

EnergyTotalsRecord TotalsOf(const Figures& f) {
  EnergyTotalsRecord e;
  e.machine = f.CountedEnergy(Scope::kMachine);
  if (f.process_known) e.process = f.CountedEnergy(Scope::kProcess);
  e.platform_as_cpu = f.platform_as_cpu;
  return e;
}

ScopeEmissionsRecord ScopeOf(const ScopeEmissions& e) { return {e.co2e, e.energy, e.co2e_low, e.co2e_high}; }

// Process scope with a kind whose share is unknown: what the known kinds
// emitted (as emissions.csv writes it), flagged, with the kinds left out.
EmissionsRecord EmissionsOf(const Figures& f, Scope chosen) {
  EmissionsRecord e;
  e.scope = chosen;
  const bool chosen_known = chosen == Scope::kMachine || f.process_known;
  if (chosen_known) e.chosen = f.In(chosen).co2e;
  e.machine = ScopeOf(f.machine);
  if (f.process_known) e.process = ScopeOf(f.process);
  if (!f.process_known) {
    std::vector<std::string> left;
    for (DeviceKind k : f.process_unknown) left.emplace_back(ToString(k));
    e.process_partial = ScopeOf(f.process);
    e.process_left_out = left;
    if (chosen == Scope::kProcess) {
      e.partial = true;
      e.left_out = left;
    }
  }
  return e;
}

// Emissions of the chosen scope under the average and the marginal basis;
// the other basis is recomputed over the same intervals.
BasisRecord BasisOf(const RunResult& run, const Figures& f) {
  BasisRecord out;
  out.chosen = run.intensity.provenance.basis;
  const bool chosen_known = run.scope == Scope::kMachine || f.process_known;
  auto entry = [](Co2e c, const IntensityTimeline& tl) {
    BasisEntryRecord e{c, tl.provenance.source, std::nullopt};
    if (!tl.points.empty()) e.g_per_kwh = tl.points[0].value.g_per_kwh();
    return e;
  };
  auto slot = [&](const std::string& basis) -> std::optional<BasisEntryRecord>* {
    if (basis == "average") return &out.average;
    if (basis == "marginal") return &out.marginal;
    return nullptr;
  };
  if (!chosen_known) return out;
  if (auto* s = slot(run.intensity.provenance.basis)) *s = entry(f.In(run.scope).co2e, run.intensity);
  const Ledger* ledger = run.snapshot.ledger.get();
  if (run.other_intensity && ledger != nullptr &&
      run.other_intensity->provenance.basis != run.intensity.provenance.basis) {
    const size_t to = ledger->num_points() == 0 ? 0 : ledger->num_points() - 1;
    const EmissionsResult other = ComputeEmissions(*ledger, 0, to, run.scope, *run.other_intensity, run.meta.pue);
    if (auto* s = slot(run.other_intensity->provenance.basis)) *s = entry(other.total, *run.other_intensity);
  }
  return out;
}

std::vector<TaskFiguresRecord> TasksOf(const RunResult& run) {
  std::vector<TaskFiguresRecord> out;
  for (const TaskRecord& t : run.snapshot.tasks) {
    const Figures f = ComputeFigures(run, t.from_point, t.to_point);
    out.push_back({t.name, t.from_point, t.to_point, t.wall_begin, t.wall_end, f.duration.count(), KindsOf(f),
                   TotalsOf(f), EmissionsOf(f, run.scope)});
  }
  return out;
}

std::vector<EventRecord> EventsOf(const Ledger& ledger) {
  std::vector<EventRecord> out;
  for (const LedgerEvent& e : ledger.events()) {
    EventRecord r;
    if (e.channel < ledger.channels().size()) r.channel = ledger.channels()[e.channel].id;
    r.point = e.point;
    if (e.point < ledger.num_points()) r.t_s = Rel(ledger.point_time(e.point), ledger.point_time(0));
    r.kind = e.kind;
    r.what = e.what;
    out.push_back(std::move(r));
  }
  return out;
}

// An interval carries no validity flag for its procfs shares; a share is
// known when a channel of the matching kind received it in this interval.
bool ShareKnown(const Ledger& ledger, const Interval& iv, bool ram) {
  for (size_t c = 0; c < iv.channels.size() && c < ledger.channels().size(); ++c) {
    const DeviceKind k = ledger.channels()[c].kind;
    const bool match = ram ? k == DeviceKind::kDram : (k == DeviceKind::kCpu || k == DeviceKind::kPlatform);
    if (match && iv.channels[c].ok && iv.channels[c].share_ok) return true;
  }
  return false;
}

std::vector<SampleRecord> SamplesOf(const Ledger& ledger) {
  std::vector<SampleRecord> out;
  if (ledger.num_points() == 0) return out;
  const SteadyTime origin = ledger.point_time(0);
  for (const Interval& iv : ledger.intervals()) {
    SampleRecord s;
    s.t_start_s = Rel(iv.begin, origin);
    s.t_end_s = Rel(iv.end, origin);
    for (const ChannelDelta& d : iv.channels) {
      s.machine_j.push_back(d.ok ? std::optional<double>(d.machine.joules()) : std::nullopt);
      s.process_j.push_back(d.ok && d.share_ok ? std::optional<double>(d.process.joules()) : std::nullopt);
    }
    if (ShareKnown(ledger, iv, false)) s.cpu_share = iv.cpu_share;
    if (ShareKnown(ledger, iv, true)) s.ram_share = iv.ram_share;
    if (iv.activity_ok) {
      s.cpu_utilization = iv.cpu_utilization;
      s.ram_utilization = iv.ram_utilization;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The run's CPU (or RAM) share over the intervals where it is known,
// weighted by their durations; nullopt when no interval knows it.
std::optional<double> TimeWeightedShare(const Ledger& ledger, bool ram) {
  double weighted = 0, seconds = 0;
  for (const Interval& iv : ledger.intervals()) {
    if (!ShareKnown(ledger, iv, ram)) continue;
    const double dt = std::chrono::duration<double>(iv.end - iv.begin).count();
    weighted += dt * (ram ? iv.ram_share : iv.cpu_share);
    seconds += dt;
  }
  if (seconds <= 0) return std::nullopt;
  return weighted / seconds;
}

// One input per GPU device (its first GPU channel): "gpu<index>", the
// vendor's name, and its process share = process energy / its energy.
std::vector<EmbodiedGpuInput> EmbodiedGpus(const Ledger& ledger, const Totals& t) {
  std::vector<EmbodiedGpuInput> out;
  std::vector<std::string> seen;
  for (size_t c = 0; c < ledger.channels().size() && c < t.channels.size(); ++c) {
    const ChannelInfo& i = ledger.channels()[c];
    if (i.kind != DeviceKind::kGpu) continue;
    if (std::find(seen.begin(), seen.end(), i.device_id) != seen.end()) continue;
    seen.push_back(i.device_id);
    const std::optional<double> index = Number(i, "index");
    EmbodiedGpuInput g;
    g.device = index ? fmt::format("gpu{}", static_cast<long long>(*index)) : i.device_id;
    g.name = Fact(i, "name");
    const ChannelTotal& ct = t.channels[c];
    if (ct.ok_intervals > 0 && ct.process_ok && ct.machine.joules() > 0) {
      g.process_share = ct.process.joules() / ct.machine.joules();
    }
    out.push_back(std::move(g));
  }
  return out;
}

std::optional<EmbodiedRecord> EmbodiedOf(const RunResult& run, const Figures& f) {
  if (!run.meta.embodied_factors) return std::nullopt;
  EmbodiedInputs in;
  in.scope = run.scope;
  in.duration = f.duration;
  if (run.meta.cpu_sockets > 0) in.cpu_sockets = run.meta.cpu_sockets;
  if (run.meta.ram_total_bytes > 0) in.ram_total_bytes = run.meta.ram_total_bytes;
  if (const Ledger* ledger = run.snapshot.ledger.get()) {
    in.cpu_share = TimeWeightedShare(*ledger, false);
    in.ram_share = TimeWeightedShare(*ledger, true);
    in.gpus = EmbodiedGpus(*ledger, f.totals);
  }
  return AmortiseEmbodied(in, *run.meta.embodied_factors);
}

void AddLedgerParts(const Ledger& ledger, const Totals& t, RunRecord* r) {
  for (size_t c = 0; c < ledger.channels().size(); ++c) {
    const ChannelTotal& ct = t.channels.at(c);
    r->channels.push_back(ChannelOf(ledger, ct, c));
    if (ct.ok_intervals == 0) {
      const Status& s = ledger.last_status().at(c);
      r->unavailable.push_back({ledger.channels()[c].id, s.ok() ? "no complete interval" : s.ToString()});
    }
    if (ledger.channels()[c].kind == DeviceKind::kGpu) r->gpus.push_back(GpuOf(ledger, ct, c));
  }
  r->devices = DevicesOf(ledger, t);
  r->events = EventsOf(ledger);
  r->samples = SamplesOf(ledger);
}

}  // namespace

RunRecord MakeRunRecord(const RunResult& run) {
  const Figures f = ComputeFigures(run);
  RunRecord r;
  r.metadata = MetadataOf(run);
  r.command = run.meta.command;
  r.exit_code = run.meta.exit_code;
  r.signal = run.meta.signal;
  r.scope = run.scope;
  r.pue = run.meta.pue;
  r.duration_s = f.duration.count();
  r.sources = SourcesOf(run.sources);
  r.intensity = run.intensity;
  r.tasks = TasksOf(run);
  if (const Ledger* ledger = run.snapshot.ledger.get()) AddLedgerParts(*ledger, f.totals, &r);
  r.kinds = KindsOf(f);
  r.energy = TotalsOf(f);
  r.emissions = EmissionsOf(f, run.scope);
  r.emissions_by_basis = BasisOf(run, f);
  if (f.utilization_ok) {
    r.utilization.cpu_mean = f.cpu_utilization;
    r.utilization.ram_mean = f.ram_utilization;
  }
  if (f.gpu_utilization_ok) r.utilization.gpu_mean = f.gpu_utilization;
  r.utilization.peak_tree_rss_bytes = f.totals.peak_tree_rss_bytes;
  r.tree_cpu_time_source = NonEmpty(run.meta.tree_cpu_source);
  if (run.self_cost) {
    r.overhead = OverheadRecord{run.self_cost->cpu_s, run.self_cost->peak_rss_kib,
                                "getrusage(RUSAGE_SELF) after the last reading, before the outputs"};
  }
  if (run.cgroup_figures) {
    const RunResult::CgroupFigures& c = *run.cgroup_figures;
    CgroupsRecord out;
    for (const CgroupTotal& t : c.cgroups) {
      out.cgroups.push_back({t.path, t.cpu.joules(), t.dram.joules(), t.gpu.joules(), t.present});
    }
    out.unattributed_cpu_j = c.unattributed_cpu.joules();
    out.unattributed_dram_j = c.unattributed_dram.joules();
    out.unattributed_gpu_j = c.unattributed_gpu.joules();
    out.dropped = static_cast<long long>(c.dropped);
    r.cgroups = std::move(out);
  }
  r.embodied = EmbodiedOf(run, f);
  return r;
}

std::optional<EmbodiedRecord> EmbodiedOfRun(const RunResult& run) { return EmbodiedOf(run, ComputeFigures(run)); }

}  // namespace wattprint
