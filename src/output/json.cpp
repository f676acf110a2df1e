// The JSON run record (schema in docs/OUTPUTS.md). Unknown values are null,
// never 0: a channel that could not be read has null energy, a process
// figure without a share is null.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "output/format.h"
#include "wattprint/report.h"

namespace wattprint {
namespace {

using nlohmann::json;

constexpr int kSchemaVersion = 1;

double Rel(SteadyTime t, SteadyTime origin) { return std::chrono::duration<double>(t - origin).count(); }

json EnergyJson(Energy e) { return {{"j", e.joules()}, {"kwh", e.kwh()}}; }

json StatusJson(const Status& s) {
  if (s.ok()) return {{"ok", true}};
  return {{"ok", false}, {"code", Status::CodeName(s.code())}, {"message", s.message()}};
}

json MetadataJson(const RunResult& run) {
  const RunMetadata& m = run.meta;
  auto opt = [](const auto& o) { return o ? json(*o) : json(nullptr); };
  return {{"run_id", m.run_id},
          {"project_name", m.project_name},
          {"experiment_id", m.experiment_id},
          {"experiment_name", m.experiment_name},
          {"os", m.os},
          {"python_version", m.python_version.empty() ? json(nullptr) : json(m.python_version)},
          {"wattprint_version", m.tool_version},
          {"cpu_count", m.cpu_count > 0 ? json(m.cpu_count) : json(nullptr)},
          {"cpu_model", m.cpu_model.empty() ? json(nullptr) : json(m.cpu_model)},
          {"ram_total_bytes", m.ram_total_bytes > 0 ? json(m.ram_total_bytes) : json(nullptr)},
          {"gpu_count", m.gpu_count},
          {"gpu_model", m.gpu_model.empty() ? json(nullptr) : json(m.gpu_model)},
          {"cloud_provider", m.cloud_provider.empty() ? json(nullptr) : json(m.cloud_provider)},
          {"cloud_region", m.cloud_region.empty() ? json(nullptr) : json(m.cloud_region)},
          {"on_cloud", m.on_cloud},
          {"longitude", opt(m.longitude)},
          {"latitude", opt(m.latitude)},
          {"pue", m.pue},
          {"wue", m.wue},
          {"start", FormatUtc(run.wall_start, true)}};
}

json SourcesJson(const std::vector<ProbeReport>& reports) {
  json out = json::array();
  for (const ProbeReport& r : reports) {
    json ids = json::array();
    for (const ChannelInfo& c : r.channels) ids.push_back(c.id);
    out.push_back({{"name", r.name},
                   {"description", r.description},
                   {"state", ToString(r.state)},
                   {"reason", r.reason},
                   {"fix", r.fix.empty() ? json(nullptr) : json(r.fix)},
                   {"channels", ids}});
  }
  return out;
}

// The model's text facts and numeric inputs in one object (numbers as
// numbers); null when the channel has neither.
json ModelJson(const ChannelInfo& i) {
  if (i.model.empty() && i.model_inputs.empty()) return nullptr;
  json out = json::object();
  for (const auto& [k, v] : i.model) out[k] = v;
  for (const auto& [k, v] : i.model_inputs) out[k] = v;
  return out;
}

// Low and high bounds of an estimate, in J.
json BoundsJson(Energy low, Energy high) { return {{"low_j", low.joules()}, {"high_j", high.joules()}}; }

json ChannelsJson(const Ledger& ledger, const Totals& t) {
  json out = json::array();
  const auto& infos = ledger.channels();
  for (size_t c = 0; c < infos.size(); ++c) {
    const ChannelInfo& i = infos[c];
    const ChannelTotal& ct = t.channels.at(c);
    const bool known = ct.ok_intervals > 0;
    out.push_back(
        {{"id", i.id},
         {"device_id", i.device_id},
         {"label", i.label},
         {"kind", ToString(i.kind)},
         {"type", ToString(i.type)},
         {"method", ToString(i.method)},
         {"model", ModelJson(i)},
         {"path", i.path.empty() ? json(nullptr) : json(i.path)},
         {"wrap_range_j", i.wrap_range.joules() > 0 ? json(i.wrap_range.joules()) : json(nullptr)},
         {"last_status", StatusJson(ledger.last_status().at(c))},
         {"available", known},
         {"ok_intervals", ct.ok_intervals},
         {"missing_intervals", ct.missing_intervals},
         {"wraps", ct.wraps},
         {"resets", ct.resets},
         {"lower_bound", known && ct.lower_bound},
         {"power_ceiling_w", PowerCeilingOf(i).watts()},
         {"power_ceiling_source",
          i.power_ceiling_source.empty() ? json("default for the kind") : json(i.power_ceiling_source)},
         {"energy",
          {{"machine", known ? EnergyJson(ct.machine) : json(nullptr)},
           {"process", known && ct.process_ok ? EnergyJson(ct.process) : json(nullptr)}}},
         {"bounds",
          {{"machine", known ? BoundsJson(ct.machine_low, ct.machine_high) : json(nullptr)},
           {"process", known && ct.process_ok ? BoundsJson(ct.process_low, ct.process_high) : json(nullptr)}}}});
  }
  return out;
}

json UnavailableJson(const Ledger& ledger, const Totals& t) {
  json out = json::array();
  for (size_t c = 0; c < ledger.channels().size(); ++c) {
    if (t.channels.at(c).ok_intervals > 0) continue;
    const Status& s = ledger.last_status().at(c);
    out.push_back({{"channel", ledger.channels()[c].id},
                   {"reason", s.ok() ? "no complete interval" : s.ToString()}});
  }
  return out;
}

json DevicesJson(const Ledger& ledger, const Totals& t) {
  json out = json::array();
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
    out.push_back({{"device_id", infos[c].device_id},
                   {"kind", ToString(infos[c].kind)},
                   {"machine", known ? EnergyJson(m) : json(nullptr)},
                   {"process", known && process_ok ? EnergyJson(p) : json(nullptr)}});
  }
  return out;
}

// A text fact of the channel (ChannelInfo::model), or null.
json Fact(const ChannelInfo& i, const char* key) {
  auto it = i.model.find(key);
  if (it == i.model.end() || it->second.empty()) return nullptr;
  return it->second;
}

// A numeric input of the channel (ChannelInfo::model_inputs), or null.
json Number(const ChannelInfo& i, const char* key) {
  auto it = i.model_inputs.find(key);
  return it == i.model_inputs.end() ? json(nullptr) : json(it->second);
}

// One entry per GPU channel: what it is, how it was measured (and why,
// for a power fallback), its energy in both scopes, utilisation and memory.
json GpusJson(const Ledger& ledger, const Totals& t) {
  json out = json::array();
  const auto& infos = ledger.channels();
  for (size_t c = 0; c < infos.size(); ++c) {
    const ChannelInfo& i = infos[c];
    if (i.kind != DeviceKind::kGpu) continue;
    const ChannelTotal& ct = t.channels.at(c);
    const bool known = ct.ok_intervals > 0;
    out.push_back(
        {{"device_id", i.device_id},
         {"channel", i.id},
         {"label", i.label},
         {"index", Number(i, "index")},
         {"name", Fact(i, "name")},
         {"uuid", Fact(i, "uuid")},
         {"method", ToString(i.method)},
         {"energy_source", Fact(i, "energy")},
         {"process_attribution", Fact(i, "process_attribution")},
         {"mig_instances", Fact(i, "mig_instances")},
         {"power_limit_w", Number(i, "power_limit_w")},
         {"memory_total_bytes", Number(i, "memory_total_bytes")},
         {"available", known},
         {"last_status", StatusJson(ledger.last_status().at(c))},
         {"machine", known ? EnergyJson(ct.machine) : json(nullptr)},
         {"process", known && ct.process_ok ? EnergyJson(ct.process) : json(nullptr)},
         {"mean_utilization", ct.mean_utilization >= 0 ? json(ct.mean_utilization) : json(nullptr)},
         {"peak_memory_used_bytes",
          ct.peak_memory_used_bytes >= 0 ? json(ct.peak_memory_used_bytes) : json(nullptr)}});
  }
  return out;
}

json KindsJson(const Figures& f) {
  json out = json::object();
  if (f.no_gpu) {
    // Measured: no source found a GPU, and none saw one it could not read.
    out["gpu"] = {{"method", "none"},     {"model", "no GPU on this machine"},
                  {"channels", 0},        {"counted", false},
                  {"complete", true},     {"lower_bound", false},
                  {"machine", EnergyJson(Energy())}, {"process", EnergyJson(Energy())}};
  }
  for (const KindFigure& k : f.kinds) {
    if (k.channels == 0) continue;
    out[ToString(k.kind)] = {
        {"method", MethodName(k)},
        {"model", k.model.empty() ? json(nullptr) : json(k.model)},
        {"channels", k.channels},
        {"counted", k.counted},
        {"complete", k.complete},
        {"lower_bound", k.lower_bound},
        {"machine", k.known ? EnergyJson(k.machine) : json(nullptr)},
        {"process", k.known && k.process_ok ? EnergyJson(k.process) : json(nullptr)},
        // An estimate's range (the model's bounds); equal to the figure when measured.
        {"bounds",
         {{"machine", k.known ? BoundsJson(k.machine_low, k.machine_high) : json(nullptr)},
          {"process", k.known && k.process_ok ? BoundsJson(k.process_low, k.process_high) : json(nullptr)}}}};
  }
  return out;
}

json IntensityJson(const IntensityTimeline& tl) {
  const IntensityProvenance& p = tl.provenance;
  json points = json::array();
  for (const IntensityPoint& pt : tl.points) {
    points.push_back({{"from", FormatUtc(pt.from, true)}, {"g_per_kwh", pt.value.g_per_kwh()}});
  }
  auto str = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"g_per_kwh", tl.points.empty() ? json(nullptr) : json(tl.points[0].value.g_per_kwh())},
          {"zone", str(p.zone)},
          {"country_iso3", str(p.country_iso3)},
          {"country_name", str(p.country_name)},
          {"region", str(p.region)},
          {"source", p.source},
          {"year", p.year > 0 ? json(p.year) : json(nullptr)},
          {"basis", p.basis},
          {"resolution", p.resolution},
          {"location_step", str(p.location_step)},
          {"note", str(p.note)},
          {"is_default", p.is_default},
          {"points", points}};
}

// Energy (PUE applied) and emissions of both scopes; process is null when
// some counted device kind has no process share.
json EmissionsJson(const Figures& f, Scope chosen) {
  auto scope = [](const ScopeEmissions& e) {
    return json{{"kg", e.co2e.kg()},
                {"g", e.co2e.grams()},
                {"energy", EnergyJson(e.energy)},
                {"bounds", {{"kg_low", e.co2e_low.kg()}, {"kg_high", e.co2e_high.kg()}}}};
  };
  const json machine = scope(f.machine);
  json process = f.process_known ? scope(f.process) : json(nullptr);
  const bool chosen_known = chosen == Scope::kMachine || f.process_known;
  json out = {{"scope", ToString(chosen)},
              {"kg", chosen_known ? json(f.In(chosen).co2e.kg()) : json(nullptr)},
              {"machine", machine},
              {"process", process},
              {"partial", false},
              {"left_out", json::array()}};
  // Process scope with a kind whose share is unknown: what the known kinds
  // emitted (as emissions.csv writes it), flagged, with the kinds left out.
  if (!f.process_known) {
    json left = json::array();
    for (DeviceKind k : f.process_unknown) left.push_back(ToString(k));
    json partial = scope(f.process);
    partial["partial"] = true;
    partial["left_out"] = left;
    out["process_partial"] = partial;
    if (chosen == Scope::kProcess) {
      out["partial"] = true;
      out["left_out"] = left;
    }
  }
  return out;
}

// Emissions of the chosen scope under the average and the marginal basis;
// null for a basis whose intensity is not known. The chosen basis is the
// one in "emissions"; the other is recomputed over the same intervals.
json BasisJson(const RunResult& run, const Figures& f) {
  const bool chosen_known = run.scope == Scope::kMachine || f.process_known;
  json out = {{"chosen", run.intensity.provenance.basis}, {"average", nullptr}, {"marginal", nullptr}};
  auto entry = [](Co2e c, const IntensityTimeline& tl) {
    return json{{"kg", c.kg()}, {"source", tl.provenance.source},
                {"g_per_kwh", tl.points.empty() ? json(nullptr) : json(tl.points[0].value.g_per_kwh())}};
  };
  if (chosen_known) out[run.intensity.provenance.basis] = entry(f.In(run.scope).co2e, run.intensity);
  const Ledger* ledger = run.snapshot.ledger.get();
  if (run.other_intensity && ledger != nullptr && chosen_known &&
      run.other_intensity->provenance.basis != run.intensity.provenance.basis) {
    const size_t to = ledger->num_points() == 0 ? 0 : ledger->num_points() - 1;
    const EmissionsResult other = ComputeEmissions(*ledger, 0, to, run.scope, *run.other_intensity, run.meta.pue);
    out[run.other_intensity->provenance.basis] = entry(other.total, *run.other_intensity);
  }
  return out;
}

json EnergyTotalsJson(const Figures& f) {
  return {{"machine", EnergyJson(f.CountedEnergy(Scope::kMachine))},
          {"process", f.process_known ? EnergyJson(f.CountedEnergy(Scope::kProcess)) : json(nullptr)},
          {"platform_as_cpu", f.platform_as_cpu}};
}

json TasksJson(const RunResult& run) {
  json out = json::array();
  for (const TaskRecord& t : run.snapshot.tasks) {
    const Figures f = ComputeFigures(run, t.from_point, t.to_point);
    out.push_back({{"name", t.name},
                   {"from_point", t.from_point},
                   {"to_point", t.to_point},
                   {"start", FormatUtc(t.wall_begin, true)},
                   {"end", FormatUtc(t.wall_end, true)},
                   {"duration_s", f.duration.count()},
                   {"kinds", KindsJson(f)},
                   {"energy", EnergyTotalsJson(f)},
                   {"emissions", EmissionsJson(f, run.scope)}});
  }
  return out;
}

json EventsJson(const Ledger& ledger) {
  json out = json::array();
  for (const LedgerEvent& e : ledger.events()) {
    const bool in_range = e.point < ledger.num_points();
    out.push_back({{"channel", e.channel < ledger.channels().size()
                                   ? json(ledger.channels()[e.channel].id)
                                   : json(nullptr)},
                   {"point", e.point},
                   {"t_s", in_range ? json(Rel(ledger.point_time(e.point), ledger.point_time(0)))
                                    : json(nullptr)},
                   {"kind", ToString(e.kind)},
                   {"what", e.what}});
  }
  return out;
}

// Interval carries no validity flag for its procfs shares; a share is known
// when a channel of the matching kind received it in this interval.
bool ShareKnown(const Ledger& ledger, const Interval& iv, bool ram) {
  for (size_t c = 0; c < iv.channels.size() && c < ledger.channels().size(); ++c) {
    const DeviceKind k = ledger.channels()[c].kind;
    const bool match = ram ? k == DeviceKind::kDram : (k == DeviceKind::kCpu || k == DeviceKind::kPlatform);
    if (match && iv.channels[c].ok && iv.channels[c].share_ok) return true;
  }
  return false;
}

json SamplesJson(const Ledger& ledger) {
  json out = json::array();
  if (ledger.num_points() == 0) return out;
  const SteadyTime origin = ledger.point_time(0);
  for (const Interval& iv : ledger.intervals()) {
    json machine = json::array(), process = json::array();
    for (const ChannelDelta& d : iv.channels) {
      machine.push_back(d.ok ? json(d.machine.joules()) : json(nullptr));
      process.push_back(d.ok && d.share_ok ? json(d.process.joules()) : json(nullptr));
    }
    auto act = [&](double v) { return iv.activity_ok ? json(v) : json(nullptr); };
    out.push_back({{"t_start_s", Rel(iv.begin, origin)},
                   {"t_end_s", Rel(iv.end, origin)},
                   {"machine_j", machine},
                   {"process_j", process},
                   {"cpu_share", ShareKnown(ledger, iv, false) ? json(iv.cpu_share) : json(nullptr)},
                   {"ram_share", ShareKnown(ledger, iv, true) ? json(iv.ram_share) : json(nullptr)},
                   {"cpu_utilization", act(iv.cpu_utilization)},
                   {"ram_utilization", act(iv.ram_utilization)}});
  }
  return out;
}

}  // namespace

nlohmann::json RunToJson(const RunResult& run) {
  const Figures f = ComputeFigures(run);
  json j = {{"schema_version", kSchemaVersion},
            {"metadata", MetadataJson(run)},
            {"command", run.meta.command},
            {"exit_code", run.meta.exit_code ? json(*run.meta.exit_code) : json(nullptr)},
            {"signal", run.meta.signal ? json(*run.meta.signal) : json(nullptr)},
            {"scope", ToString(run.scope)},
            {"pue", run.meta.pue},
            {"duration_s", f.duration.count()},
            {"sources", SourcesJson(run.sources)},
            {"intensity", IntensityJson(run.intensity)},
            {"tasks", TasksJson(run)}};
  const Ledger* ledger = run.snapshot.ledger.get();
  if (ledger == nullptr) {
    j["channels"] = j["unavailable"] = j["devices"] = j["gpus"] = j["events"] = j["samples"] = json::array();
  } else {
    j["channels"] = ChannelsJson(*ledger, f.totals);
    j["unavailable"] = UnavailableJson(*ledger, f.totals);
    j["devices"] = DevicesJson(*ledger, f.totals);
    j["gpus"] = GpusJson(*ledger, f.totals);
    j["events"] = EventsJson(*ledger);
    j["samples"] = SamplesJson(*ledger);
  }
  j["kinds"] = KindsJson(f);
  j["energy"] = EnergyTotalsJson(f);
  j["emissions"] = EmissionsJson(f, run.scope);
  j["emissions_by_basis"] = BasisJson(run, f);
  j["utilization"] = {
      {"cpu_mean", f.utilization_ok ? json(f.cpu_utilization) : json(nullptr)},
      {"ram_mean", f.utilization_ok ? json(f.ram_utilization) : json(nullptr)},
      {"gpu_mean", f.gpu_utilization_ok ? json(f.gpu_utilization) : json(nullptr)},
      {"peak_tree_rss_bytes", f.totals.peak_tree_rss_bytes}};
  if (!run.meta.tree_cpu_source.empty()) {
    j["process_tree"] = {{"cpu_time_source", run.meta.tree_cpu_source}};
  }
  if (run.self_cost) {
    j["overhead"] = {{"cpu_s", run.self_cost->cpu_s},
                     {"peak_rss_kib", run.self_cost->peak_rss_kib},
                     {"method", "getrusage(RUSAGE_SELF) after the last reading, before the outputs"}};
  }
  return j;
}

Status WriteJsonFile(const std::string& path, const RunResult& run) {
  const std::string text = RunToJson(run).dump(2) + "\n";
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + tmp);
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::FromErrno(err, "write " + tmp);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  // Flush before the rename so a crash never leaves a renamed empty file.
  const bool synced = fsync(fd) == 0;
  const int sync_err = errno;
  if (close(fd) != 0 || !synced) {
    const int err = synced ? errno : sync_err;
    unlink(tmp.c_str());
    return Status::FromErrno(err, "fsync " + tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno(err, "rename " + tmp + " -> " + path);
  }
  return Status::Ok();
}

}  // namespace wattprint
