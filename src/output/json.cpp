// The JSON run record (schema in docs/OUTPUTS.md): the typed RunRecord
// (wattprint/run_record.h) written as JSON and read back. Unknown values are
// null, never 0: a channel that could not be read has null energy, a
// process figure without a share is null. Nothing is computed here.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wattprint/report.h"
#include "wattprint/run_record.h"

namespace wattprint {
namespace {

using nlohmann::json;

// ---- Writing ---------------------------------------------------------------

// RFC 3339 in UTC; microseconds only when the instant has a fraction, so
// whole seconds read as CodeCarbon writes them.
std::string Time(SystemTime t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  long long secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return frac == 0 ? fmt::format("{}Z", buf) : fmt::format("{}.{:06d}Z", buf, frac);
}

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json EnergyJson(Energy e) { return {{"j", e.joules()}, {"kwh", e.kwh()}}; }
json OptEnergy(const std::optional<Energy>& e) { return e ? EnergyJson(*e) : json(nullptr); }
json BoundsJson(const std::optional<BoundsRecord>& b) {
  if (!b) return nullptr;
  return {{"low_j", b->low.joules()}, {"high_j", b->high.joules()}};
}
json Scoped(const ScopedEnergy& e) { return {{"machine", OptEnergy(e.machine)}, {"process", OptEnergy(e.process)}}; }
json Scoped(const ScopedBounds& b) { return {{"machine", BoundsJson(b.machine)}, {"process", BoundsJson(b.process)}}; }

json StatusJson(const StatusRecord& s) {
  if (s.ok) return {{"ok", true}};
  return {{"ok", false}, {"code", s.code}, {"message", s.message}};
}

json ClusterJobJson(const std::optional<ClusterJob>& j) {
  if (!j) return nullptr;
  return {{"cluster", j->cluster}, {"job_id", j->job_id}, {"step", j->step},
          {"node", j->node},       {"user", j->user},     {"account", j->account},
          {"partition", j->partition}};
}

// Written only inside an MPI job, so that other records keep their form.
json MpiJson(const MpiRank& r) {
  return {{"rank", r.rank},
          {"local_rank", Opt(r.local_rank)},
          {"world_size", Opt(r.world_size)},
          {"rank_variable", r.rank_variable},
          {"measures_node", r.measures_node}};
}

json MetadataJson(const MetadataRecord& m) {
  json j = {{"run_id", m.run_id},
          {"project_name", m.project_name},
          {"experiment_id", m.experiment_id},
          {"experiment_name", m.experiment_name},
          {"os", m.os},
          {"python_version", Opt(m.python_version)},
          {"wattprint_version", m.wattprint_version},
          {"cpu_count", Opt(m.cpu_count)},
          {"cpu_model", Opt(m.cpu_model)},
          {"ram_total_bytes", Opt(m.ram_total_bytes)},
          {"gpu_count", m.gpu_count},
          {"gpu_model", Opt(m.gpu_model)},
          {"cloud_provider", Opt(m.cloud_provider)},
          {"cloud_region", Opt(m.cloud_region)},
          {"on_cloud", m.on_cloud},
          {"longitude", Opt(m.longitude)},
          {"latitude", Opt(m.latitude)},
          {"pue", m.pue},
          {"wue", m.wue},
          {"start", Time(m.start)},
          {"host", Opt(m.host)},
          {"cluster_job", ClusterJobJson(m.cluster_job)}};
  if (m.mpi) j["mpi"] = MpiJson(*m.mpi);
  return j;
}

json SourcesJson(const std::vector<SourceRecord>& sources) {
  json out = json::array();
  for (const SourceRecord& r : sources) {
    out.push_back({{"name", r.name},
                   {"description", r.description},
                   {"state", ToString(r.state)},
                   {"reason", r.reason},
                   {"fix", Opt(r.fix)},
                   {"channels", r.channels}});
  }
  return out;
}

json ModelJson(const ChannelRecord& c) {
  if (c.model.empty() && c.model_inputs.empty()) return nullptr;
  json out = json::object();
  for (const auto& [k, v] : c.model) out[k] = v;
  for (const auto& [k, v] : c.model_inputs) out[k] = v;
  return out;
}

json ChannelJson(const ChannelRecord& c) {
  return {{"id", c.id},
          {"device_id", c.device_id},
          {"label", c.label},
          {"kind", ToString(c.kind)},
          {"type", ToString(c.type)},
          {"method", ToString(c.method)},
          {"model", ModelJson(c)},
          {"path", Opt(c.path)},
          {"wrap_range_j", c.wrap_range ? json(c.wrap_range->joules()) : json(nullptr)},
          {"last_status", StatusJson(c.last_status)},
          {"available", c.available},
          {"ok_intervals", c.ok_intervals},
          {"missing_intervals", c.missing_intervals},
          {"wraps", c.wraps},
          {"resets", c.resets},
          {"lower_bound", c.lower_bound},
          {"power_ceiling_w", c.power_ceiling.watts()},
          {"power_ceiling_source", c.power_ceiling_source},
          {"energy", Scoped(c.energy)},
          {"bounds", Scoped(c.bounds)}};
}

json GpuJson(const GpuRecord& g) {
  return {{"device_id", g.device_id},
          {"channel", g.channel},
          {"label", g.label},
          {"index", Opt(g.index)},
          {"name", Opt(g.name)},
          {"uuid", Opt(g.uuid)},
          {"method", ToString(g.method)},
          {"energy_source", Opt(g.energy_source)},
          {"process_attribution", Opt(g.process_attribution)},
          {"mig_instances", Opt(g.mig_instances)},
          {"power_limit_w", Opt(g.power_limit_w)},
          {"memory_total_bytes", Opt(g.memory_total_bytes)},
          {"available", g.available},
          {"last_status", StatusJson(g.last_status)},
          {"machine", OptEnergy(g.energy.machine)},
          {"process", OptEnergy(g.energy.process)},
          {"mean_utilization", Opt(g.mean_utilization)},
          {"peak_memory_used_bytes", Opt(g.peak_memory_used_bytes)}};
}

json KindsJson(const std::map<std::string, KindRecord>& kinds) {
  json out = json::object();
  for (const auto& [name, k] : kinds) {
    out[name] = {{"method", k.method},
                 {"model", Opt(k.model)},
                 {"channels", k.channels},
                 {"counted", k.counted},
                 {"complete", k.complete},
                 {"lower_bound", k.lower_bound},
                 {"machine", OptEnergy(k.energy.machine)},
                 {"process", OptEnergy(k.energy.process)},
                 {"bounds", Scoped(k.bounds)}};
  }
  return out;
}

json IntensityJson(const IntensityTimeline& tl) {
  const IntensityProvenance& p = tl.provenance;
  json points = json::array();
  for (const IntensityPoint& pt : tl.points) points.push_back({{"from", Time(pt.from)}, {"g_per_kwh", pt.value.g_per_kwh()}});
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

json ScopeEmissionsJson(const ScopeEmissionsRecord& e) {
  return {{"kg", e.co2e.kg()},
          {"g", e.co2e.grams()},
          {"energy", EnergyJson(e.energy)},
          {"bounds", {{"kg_low", e.low.kg()}, {"kg_high", e.high.kg()}, {"g_low", e.low.grams()},
                      {"g_high", e.high.grams()}}}};
}

json EmissionsJson(const EmissionsRecord& e) {
  json out = {{"scope", ToString(e.scope)},
              {"kg", e.chosen ? json(e.chosen->kg()) : json(nullptr)},
              {"machine", ScopeEmissionsJson(e.machine)},
              {"process", e.process ? ScopeEmissionsJson(*e.process) : json(nullptr)},
              {"partial", e.partial},
              {"left_out", e.left_out}};
  if (e.process_partial) {
    json p = ScopeEmissionsJson(*e.process_partial);
    p["partial"] = true;
    p["left_out"] = e.process_left_out;
    out["process_partial"] = p;
  }
  return out;
}

json BasisJson(const BasisRecord& b) {
  auto entry = [](const std::optional<BasisEntryRecord>& e) -> json {
    if (!e) return nullptr;
    return {{"kg", e->co2e.kg()}, {"g", e->co2e.grams()}, {"source", e->source}, {"g_per_kwh", Opt(e->g_per_kwh)}};
  };
  return {{"chosen", b.chosen}, {"average", entry(b.average)}, {"marginal", entry(b.marginal)}};
}

json TotalsJson(const EnergyTotalsRecord& e) {
  return {{"machine", EnergyJson(e.machine)}, {"process", OptEnergy(e.process)}, {"platform_as_cpu", e.platform_as_cpu}};
}

json TasksJson(const std::vector<TaskFiguresRecord>& tasks) {
  json out = json::array();
  for (const TaskFiguresRecord& t : tasks) {
    out.push_back({{"name", t.name},
                   {"from_point", t.from_point},
                   {"to_point", t.to_point},
                   {"start", Time(t.start)},
                   {"end", Time(t.end)},
                   {"duration_s", t.duration_s},
                   {"kinds", KindsJson(t.kinds)},
                   {"energy", TotalsJson(t.energy)},
                   {"emissions", EmissionsJson(t.emissions)}});
  }
  return out;
}

json EventsJson(const std::vector<EventRecord>& events) {
  json out = json::array();
  for (const EventRecord& e : events) {
    out.push_back({{"channel", Opt(e.channel)},
                   {"point", e.point},
                   {"t_s", Opt(e.t_s)},
                   {"kind", ToString(e.kind)},
                   {"what", e.what}});
  }
  return out;
}

json SamplesJson(const std::vector<SampleRecord>& samples) {
  json out = json::array();
  for (const SampleRecord& s : samples) {
    json machine = json::array(), process = json::array();
    for (const auto& v : s.machine_j) machine.push_back(Opt(v));
    for (const auto& v : s.process_j) process.push_back(Opt(v));
    out.push_back({{"t_start_s", s.t_start_s},
                   {"t_end_s", s.t_end_s},
                   {"machine_j", machine},
                   {"process_j", process},
                   {"cpu_share", Opt(s.cpu_share)},
                   {"ram_share", Opt(s.ram_share)},
                   {"cpu_utilization", Opt(s.cpu_utilization)},
                   {"ram_utilization", Opt(s.ram_utilization)}});
  }
  return out;
}

json EmbodiedJson(const EmbodiedRecord& e) {
  json items = json::array();
  for (const EmbodiedItemRecord& i : e.items) {
    items.push_back({{"device", i.device},
                     {"factor", i.factor},
                     {"count", i.count},
                     {"manufacture_kg", i.manufacture_kg},
                     {"lifetime_years", i.lifetime_years},
                     {"time_share", i.time_share},
                     {"use_share", i.use_share},
                     {"kg", i.kg},
                     {"source", i.source},
                     {"licence", i.licence}});
  }
  return {{"kg", e.kg}, {"scope", e.scope}, {"method", e.method}, {"items", items}, {"not_counted", e.not_counted}};
}

template <typename T, typename F>
json Array(const std::vector<T>& v, F f) {
  json out = json::array();
  for (const T& x : v) out.push_back(f(x));
  return out;
}

// ---- Reading ---------------------------------------------------------------
//
// Each reader takes the JSON value and its path ("channels[2].energy"), and
// throws Bad with that path; RunRecordFromJson turns it into Corrupt.

struct Bad : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json& Field(const json& o, const char* key, const std::string& path) {
  if (!o.is_object()) throw Bad(path + ": expected an object");
  auto it = o.find(key);
  if (it == o.end()) throw Bad(path + "." + key + ": missing");
  return *it;
}

template <typename T>
T As(const json& v, const std::string& path) {
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw Bad(path + ": wrong type (" + v.type_name() + ")");
  }
}

template <typename T>
T Get(const json& o, const char* key, const std::string& path) {
  return As<T>(Field(o, key, path), path + "." + key);
}

template <typename T>
std::optional<T> GetOpt(const json& o, const char* key, const std::string& path) {
  const json& v = Field(o, key, path);
  if (v.is_null()) return std::nullopt;
  return As<T>(v, path + "." + key);
}

// A field added in schema_version 2: a version 1 record (an older agent's)
// lacks it and reads as `fallback`; a present field must have its type.
template <typename T>
T GetOr(const json& o, const char* key, const std::string& path, T fallback) {
  if (!o.is_object()) throw Bad(path + ": expected an object");
  return o.contains(key) ? Get<T>(o, key, path) : fallback;
}

std::string GetStrOrEmpty(const json& o, const char* key, const std::string& path) {
  return GetOpt<std::string>(o, key, path).value_or("");
}

template <typename E, size_t N>
E Enum(const json& o, const char* key, const std::string& path, const E (&values)[N]) {
  const std::string s = Get<std::string>(o, key, path);
  for (E e : values) {
    if (s == ToString(e)) return e;
  }
  throw Bad(path + "." + key + ": unknown value '" + s + "'");
}

constexpr DeviceKind kKinds[] = {DeviceKind::kCpu, DeviceKind::kDram, DeviceKind::kGpu, DeviceKind::kPlatform};
constexpr ChannelType kTypes[] = {ChannelType::kEnergyCounter, ChannelType::kPower};
constexpr Method kMethods[] = {Method::kMeasuredCounter, Method::kMeasuredPower, Method::kEstimated};
constexpr Scope kScopes[] = {Scope::kMachine, Scope::kProcess};
constexpr ProbeState kStates[] = {ProbeState::kFound, ProbeState::kAbsent, ProbeState::kDenied};
constexpr LedgerEventKind kEventKinds[] = {
    LedgerEventKind::kWrap,        LedgerEventKind::kReset,          LedgerEventKind::kJump,
    LedgerEventKind::kNegativePower, LedgerEventKind::kUnavailable, LedgerEventKind::kAvailableAgain,
    LedgerEventKind::kLongGap,     LedgerEventKind::kSuspend,        LedgerEventKind::kStall};

SystemTime ParseTime(const std::string& s, const std::string& path) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    throw Bad(path + ": '" + s + "' is not an RFC 3339 UTC time");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  long long us = 0;
  size_t at = static_cast<size_t>(consumed);
  if (at < s.size() && s[at] == '.') {
    size_t digits = 0;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++digits) {
      if (digits < 6) us = us * 10 + (s[at] - '0');
    }
    for (; digits < 6; ++digits) us *= 10;
  }
  if (at + 1 != s.size() || s[at] != 'Z') throw Bad(path + ": '" + s + "' is not an RFC 3339 UTC time");
  const auto secs = std::chrono::seconds(timegm(&tm));
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(secs + std::chrono::microseconds(us)));
}

SystemTime GetTime(const json& o, const char* key, const std::string& path) {
  return ParseTime(Get<std::string>(o, key, path), path + "." + key);
}

Energy EnergyOf(const json& v, const std::string& path) { return Energy::Joules(Get<double>(v, "j", path)); }

std::optional<Energy> OptEnergyOf(const json& o, const char* key, const std::string& path) {
  const json& v = Field(o, key, path);
  if (v.is_null()) return std::nullopt;
  return EnergyOf(v, path + "." + key);
}

ScopedEnergy ScopedOf(const json& o, const std::string& path) {
  return {OptEnergyOf(o, "machine", path), OptEnergyOf(o, "process", path)};
}

std::optional<BoundsRecord> OptBoundsOf(const json& o, const char* key, const std::string& path) {
  const json& v = Field(o, key, path);
  if (v.is_null()) return std::nullopt;
  const std::string p = path + "." + key;
  return BoundsRecord{Energy::Joules(Get<double>(v, "low_j", p)), Energy::Joules(Get<double>(v, "high_j", p))};
}

// "bounds" (schema 2) of a channel or kind; absent in version 1 records.
ScopedBounds ScopedBoundsOf(const json& parent, const std::string& parent_path) {
  if (!parent.contains("bounds")) return {};
  const json& o = parent["bounds"];
  const std::string path = parent_path + ".bounds";
  return {OptBoundsOf(o, "machine", path), OptBoundsOf(o, "process", path)};
}

StatusRecord StatusOf(const json& v, const std::string& path) {
  StatusRecord s;
  s.ok = Get<bool>(v, "ok", path);
  if (!s.ok) {
    s.code = Get<std::string>(v, "code", path);
    s.message = Get<std::string>(v, "message", path);
  }
  return s;
}

std::string At(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

template <typename T, typename F>
std::vector<T> ArrayOf(const json& o, const char* key, const std::string& path, F f) {
  const json& v = Field(o, key, path);
  if (!v.is_array()) throw Bad(path + "." + key + ": expected an array");
  std::vector<T> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(f(v[i], At(path + "." + key, i)));
  return out;
}

MetadataRecord MetadataOf(const json& v, const std::string& p) {
  MetadataRecord m;
  m.run_id = Get<std::string>(v, "run_id", p);
  m.project_name = Get<std::string>(v, "project_name", p);
  m.experiment_id = Get<std::string>(v, "experiment_id", p);
  m.experiment_name = Get<std::string>(v, "experiment_name", p);
  m.os = Get<std::string>(v, "os", p);
  m.python_version = GetOpt<std::string>(v, "python_version", p);
  m.wattprint_version = Get<std::string>(v, "wattprint_version", p);
  m.cpu_count = GetOpt<int>(v, "cpu_count", p);
  m.cpu_model = GetOpt<std::string>(v, "cpu_model", p);
  m.ram_total_bytes = GetOpt<unsigned long long>(v, "ram_total_bytes", p);
  m.gpu_count = Get<int>(v, "gpu_count", p);
  m.gpu_model = GetOpt<std::string>(v, "gpu_model", p);
  m.cloud_provider = GetOpt<std::string>(v, "cloud_provider", p);
  m.cloud_region = GetOpt<std::string>(v, "cloud_region", p);
  m.on_cloud = Get<bool>(v, "on_cloud", p);
  m.longitude = GetOpt<double>(v, "longitude", p);
  m.latitude = GetOpt<double>(v, "latitude", p);
  m.pue = Get<double>(v, "pue", p);
  m.wue = Get<double>(v, "wue", p);
  m.start = GetTime(v, "start", p);
  // Added without a schema change: absent in older records.
  if (v.contains("host")) m.host = GetOpt<std::string>(v, "host", p);
  if (v.contains("cluster_job") && !v["cluster_job"].is_null()) {
    const json& j = v["cluster_job"];
    const std::string q = p + ".cluster_job";
    m.cluster_job = ClusterJob{Get<std::string>(j, "cluster", q), Get<std::string>(j, "job_id", q),
                               Get<std::string>(j, "step", q),    Get<std::string>(j, "node", q),
                               Get<std::string>(j, "user", q),    Get<std::string>(j, "account", q),
                               j.contains("partition") ? Get<std::string>(j, "partition", q) : std::string()};
  }
  if (v.contains("mpi") && !v["mpi"].is_null()) {
    const json& j = v["mpi"];
    const std::string q = p + ".mpi";
    m.mpi = MpiRank{Get<int>(j, "rank", q), GetOpt<int>(j, "local_rank", q), GetOpt<int>(j, "world_size", q),
                    Get<std::string>(j, "rank_variable", q), Get<bool>(j, "measures_node", q)};
  }
  return m;
}

SourceRecord SourceOf(const json& v, const std::string& p) {
  return {Get<std::string>(v, "name", p),     Get<std::string>(v, "description", p),
          Enum(v, "state", p, kStates),       Get<std::string>(v, "reason", p),
          GetOpt<std::string>(v, "fix", p),   Get<std::vector<std::string>>(v, "channels", p)};
}

void ModelOf(const json& v, const std::string& p, ChannelRecord* c) {
  if (v.is_null()) return;
  if (!v.is_object()) throw Bad(p + ": expected an object or null");
  for (const auto& [k, x] : v.items()) {
    if (x.is_string()) {
      c->model[k] = x.get<std::string>();
    } else if (x.is_number()) {
      c->model_inputs[k] = x.get<double>();
    } else {
      throw Bad(p + "." + k + ": expected a string or a number");
    }
  }
}

ChannelRecord ChannelOf(const json& v, const std::string& p) {
  ChannelRecord c;
  c.id = Get<std::string>(v, "id", p);
  c.device_id = Get<std::string>(v, "device_id", p);
  c.label = Get<std::string>(v, "label", p);
  c.kind = Enum(v, "kind", p, kKinds);
  c.type = Enum(v, "type", p, kTypes);
  c.method = Enum(v, "method", p, kMethods);
  ModelOf(Field(v, "model", p), p + ".model", &c);
  c.path = GetOpt<std::string>(v, "path", p);
  if (auto w = GetOpt<double>(v, "wrap_range_j", p)) c.wrap_range = Energy::Joules(*w);
  c.last_status = StatusOf(Field(v, "last_status", p), p + ".last_status");
  c.available = Get<bool>(v, "available", p);
  c.ok_intervals = Get<int>(v, "ok_intervals", p);
  c.missing_intervals = Get<int>(v, "missing_intervals", p);
  c.wraps = Get<int>(v, "wraps", p);
  c.resets = GetOr<int>(v, "resets", p, 0);
  c.lower_bound = GetOr<bool>(v, "lower_bound", p, c.missing_intervals > 0);
  c.power_ceiling = Power::Watts(GetOr<double>(v, "power_ceiling_w", p, 0.0));
  c.power_ceiling_source = GetOr<std::string>(v, "power_ceiling_source", p, "");
  c.energy = ScopedOf(Field(v, "energy", p), p + ".energy");
  c.bounds = ScopedBoundsOf(v, p);
  return c;
}

GpuRecord GpuOf(const json& v, const std::string& p) {
  GpuRecord g;
  g.device_id = Get<std::string>(v, "device_id", p);
  g.channel = Get<std::string>(v, "channel", p);
  g.label = Get<std::string>(v, "label", p);
  g.index = GetOpt<double>(v, "index", p);
  g.name = GetOpt<std::string>(v, "name", p);
  g.uuid = GetOpt<std::string>(v, "uuid", p);
  g.method = Enum(v, "method", p, kMethods);
  g.energy_source = GetOpt<std::string>(v, "energy_source", p);
  g.process_attribution = GetOpt<std::string>(v, "process_attribution", p);
  g.mig_instances = GetOpt<std::string>(v, "mig_instances", p);
  g.power_limit_w = GetOpt<double>(v, "power_limit_w", p);
  g.memory_total_bytes = GetOpt<double>(v, "memory_total_bytes", p);
  g.available = Get<bool>(v, "available", p);
  g.last_status = StatusOf(Field(v, "last_status", p), p + ".last_status");
  g.energy = ScopedOf(v, p);
  g.mean_utilization = GetOpt<double>(v, "mean_utilization", p);
  g.peak_memory_used_bytes = GetOpt<double>(v, "peak_memory_used_bytes", p);
  return g;
}

std::map<std::string, KindRecord> KindsOf(const json& v, const std::string& p) {
  if (!v.is_object()) throw Bad(p + ": expected an object");
  std::map<std::string, KindRecord> out;
  for (const auto& [name, k] : v.items()) {
    const std::string q = p + "." + name;
    KindRecord r;
    r.method = Get<std::string>(k, "method", q);
    r.model = GetOpt<std::string>(k, "model", q);
    r.channels = Get<int>(k, "channels", q);
    r.counted = Get<bool>(k, "counted", q);
    r.complete = Get<bool>(k, "complete", q);
    r.energy = ScopedOf(k, q);
    r.lower_bound = GetOr<bool>(k, "lower_bound", q, !r.complete && r.energy.machine.has_value());
    r.bounds = ScopedBoundsOf(k, q);
    out[name] = r;
  }
  return out;
}

IntensityTimeline IntensityOf(const json& v, const std::string& p) {
  IntensityTimeline t;
  IntensityProvenance& pr = t.provenance;
  pr.zone = GetStrOrEmpty(v, "zone", p);
  pr.country_iso3 = GetStrOrEmpty(v, "country_iso3", p);
  pr.country_name = GetStrOrEmpty(v, "country_name", p);
  pr.region = GetStrOrEmpty(v, "region", p);
  pr.source = Get<std::string>(v, "source", p);
  pr.year = GetOpt<int>(v, "year", p).value_or(0);
  pr.basis = Get<std::string>(v, "basis", p);
  pr.resolution = Get<std::string>(v, "resolution", p);
  pr.location_step = GetStrOrEmpty(v, "location_step", p);
  pr.note = GetStrOrEmpty(v, "note", p);
  pr.is_default = Get<bool>(v, "is_default", p);
  t.points = ArrayOf<IntensityPoint>(v, "points", p, [](const json& x, const std::string& q) {
    return IntensityPoint{GetTime(x, "from", q), Intensity::GramsPerKwh(Get<double>(x, "g_per_kwh", q))};
  });
  return t;
}

ScopeEmissionsRecord ScopeEmissionsOf(const json& v, const std::string& p) {
  // Masses are read in grams, the unit they are kept in, so nothing is
  // lost to a kg round trip.
  const Co2e co2e = Co2e::Grams(Get<double>(v, "g", p));
  const Energy energy = EnergyOf(Field(v, "energy", p), p + ".energy");
  if (!v.contains("bounds")) return {co2e, energy, co2e, co2e};  // version 1: no bounds
  const json& b = v["bounds"];
  return {co2e, energy, Co2e::Grams(Get<double>(b, "g_low", p + ".bounds")),
          Co2e::Grams(Get<double>(b, "g_high", p + ".bounds"))};
}

EmissionsRecord EmissionsOf(const json& v, const std::string& p) {
  EmissionsRecord e;
  e.scope = Enum(v, "scope", p, kScopes);
  e.machine = ScopeEmissionsOf(Field(v, "machine", p), p + ".machine");
  const json& proc = Field(v, "process", p);
  if (!proc.is_null()) e.process = ScopeEmissionsOf(proc, p + ".process");
  // "kg" is the chosen scope's figure, kept in grams in that scope.
  if (!Field(v, "kg", p).is_null()) {
    if (e.scope == Scope::kMachine) e.chosen = e.machine.co2e;
    if (e.scope == Scope::kProcess && e.process) e.chosen = e.process->co2e;
    if (!e.chosen) throw Bad(p + ".kg: set, but the process scope it names is null");
  }
  e.partial = GetOr<bool>(v, "partial", p, false);
  e.left_out = GetOr<std::vector<std::string>>(v, "left_out", p, {});
  if (v.contains("process_partial")) {
    const json& pp = v["process_partial"];
    e.process_partial = ScopeEmissionsOf(pp, p + ".process_partial");
    e.process_left_out = Get<std::vector<std::string>>(pp, "left_out", p + ".process_partial");
  }
  return e;
}

BasisRecord BasisOf(const json& v, const std::string& p) {
  auto entry = [&](const char* key) -> std::optional<BasisEntryRecord> {
    const json& e = Field(v, key, p);
    if (e.is_null()) return std::nullopt;
    const std::string q = p + "." + key;
    const Co2e mass = e.contains("g") ? Co2e::Grams(Get<double>(e, "g", q)) : Co2e::Kilograms(Get<double>(e, "kg", q));
    return BasisEntryRecord{mass, Get<std::string>(e, "source", q), GetOpt<double>(e, "g_per_kwh", q)};
  };
  return {Get<std::string>(v, "chosen", p), entry("average"), entry("marginal")};
}

EnergyTotalsRecord TotalsOf(const json& v, const std::string& p) {
  return {EnergyOf(Field(v, "machine", p), p + ".machine"), OptEnergyOf(v, "process", p),
          Get<bool>(v, "platform_as_cpu", p)};
}

TaskFiguresRecord TaskOf(const json& v, const std::string& p) {
  return {Get<std::string>(v, "name", p),
          Get<size_t>(v, "from_point", p),
          Get<size_t>(v, "to_point", p),
          GetTime(v, "start", p),
          GetTime(v, "end", p),
          Get<double>(v, "duration_s", p),
          KindsOf(Field(v, "kinds", p), p + ".kinds"),
          TotalsOf(Field(v, "energy", p), p + ".energy"),
          EmissionsOf(Field(v, "emissions", p), p + ".emissions")};
}

// Version 1 events had only their text; their kind is read from it.
LedgerEventKind KindOfText(const std::string& what) {
  if (what.starts_with("counter wrapped")) return LedgerEventKind::kWrap;
  if (what.starts_with("counter went backwards")) return LedgerEventKind::kReset;
  if (what.starts_with("negative power")) return LedgerEventKind::kNegativePower;
  if (what.starts_with("available again")) return LedgerEventKind::kAvailableAgain;
  return LedgerEventKind::kUnavailable;
}

EventRecord EventOf(const json& v, const std::string& p) {
  EventRecord e{GetOpt<std::string>(v, "channel", p), Get<size_t>(v, "point", p), GetOpt<double>(v, "t_s", p),
                LedgerEventKind::kUnavailable, Get<std::string>(v, "what", p)};
  e.kind = v.contains("kind") ? Enum(v, "kind", p, kEventKinds) : KindOfText(e.what);
  return e;
}

// An array of numbers or nulls.
std::vector<std::optional<double>> OptNumbers(const json& o, const char* key, const std::string& path) {
  return ArrayOf<std::optional<double>>(o, key, path, [](const json& x, const std::string& q) {
    return x.is_null() ? std::nullopt : std::optional<double>(As<double>(x, q));
  });
}

SampleRecord SampleOf(const json& v, const std::string& p) {
  SampleRecord s;
  s.t_start_s = Get<double>(v, "t_start_s", p);
  s.t_end_s = Get<double>(v, "t_end_s", p);
  s.machine_j = OptNumbers(v, "machine_j", p);
  s.process_j = OptNumbers(v, "process_j", p);
  s.cpu_share = GetOpt<double>(v, "cpu_share", p);
  s.ram_share = GetOpt<double>(v, "ram_share", p);
  s.cpu_utilization = GetOpt<double>(v, "cpu_utilization", p);
  s.ram_utilization = GetOpt<double>(v, "ram_utilization", p);
  return s;
}

CgroupsRecord CgroupsOf(const json& v, const std::string& p) {
  CgroupsRecord c;
  c.cgroups = ArrayOf<CgroupRecord>(v, "items", p, [](const json& x, const std::string& q) {
    return CgroupRecord{Get<std::string>(x, "cgroup", q), Get<double>(x, "cpu_j", q), Get<double>(x, "dram_j", q),
                        Get<double>(x, "gpu_j", q), Get<bool>(x, "present", q)};
  });
  const json& u = Field(v, "unattributed", p);
  c.unattributed_cpu_j = Get<double>(u, "cpu_j", p + ".unattributed");
  c.unattributed_dram_j = Get<double>(u, "dram_j", p + ".unattributed");
  c.unattributed_gpu_j = Get<double>(u, "gpu_j", p + ".unattributed");
  c.dropped = Get<long long>(v, "dropped", p);
  return c;
}

EmbodiedRecord EmbodiedOf(const json& v, const std::string& p) {
  EmbodiedRecord e;
  e.kg = Get<double>(v, "kg", p);
  e.scope = Get<std::string>(v, "scope", p);
  e.method = Get<std::string>(v, "method", p);
  e.items = ArrayOf<EmbodiedItemRecord>(v, "items", p, [](const json& x, const std::string& q) {
    return EmbodiedItemRecord{Get<std::string>(x, "device", q),  Get<std::string>(x, "factor", q),
                              Get<double>(x, "count", q),        Get<double>(x, "manufacture_kg", q),
                              Get<double>(x, "lifetime_years", q), Get<double>(x, "time_share", q),
                              Get<double>(x, "use_share", q),    Get<double>(x, "kg", q),
                              Get<std::string>(x, "source", q),  Get<std::string>(x, "licence", q)};
  });
  e.not_counted = Get<std::vector<std::string>>(v, "not_counted", p);
  return e;
}

RunRecord RecordOf(const json& j) {
  RunRecord r;
  const std::string p = "record";
  r.schema_version = Get<int>(j, "schema_version", p);
  if (r.schema_version < 1 || r.schema_version > kRunRecordSchemaVersion) {
    throw Bad(fmt::format("record.schema_version: {} is not one this wattprint reads (1 to {})", r.schema_version,
                          kRunRecordSchemaVersion));
  }
  r.metadata = MetadataOf(Field(j, "metadata", p), p + ".metadata");
  r.command = Get<std::vector<std::string>>(j, "command", p);
  r.exit_code = GetOpt<int>(j, "exit_code", p);
  r.signal = GetOpt<int>(j, "signal", p);
  r.scope = Enum(j, "scope", p, kScopes);
  r.pue = Get<double>(j, "pue", p);
  r.duration_s = Get<double>(j, "duration_s", p);
  r.sources = ArrayOf<SourceRecord>(j, "sources", p, SourceOf);
  r.intensity = IntensityOf(Field(j, "intensity", p), p + ".intensity");
  r.tasks = ArrayOf<TaskFiguresRecord>(j, "tasks", p, TaskOf);
  r.channels = ArrayOf<ChannelRecord>(j, "channels", p, ChannelOf);
  r.unavailable = ArrayOf<UnavailableRecord>(j, "unavailable", p, [](const json& v, const std::string& q) {
    return UnavailableRecord{Get<std::string>(v, "channel", q), Get<std::string>(v, "reason", q)};
  });
  r.devices = ArrayOf<DeviceRecord>(j, "devices", p, [](const json& v, const std::string& q) {
    return DeviceRecord{Get<std::string>(v, "device_id", q), Enum(v, "kind", q, kKinds), ScopedOf(v, q)};
  });
  r.gpus = ArrayOf<GpuRecord>(j, "gpus", p, GpuOf);
  r.events = ArrayOf<EventRecord>(j, "events", p, EventOf);
  r.samples = ArrayOf<SampleRecord>(j, "samples", p, SampleOf);
  r.kinds = KindsOf(Field(j, "kinds", p), p + ".kinds");
  r.energy = TotalsOf(Field(j, "energy", p), p + ".energy");
  r.emissions = EmissionsOf(Field(j, "emissions", p), p + ".emissions");
  r.emissions_by_basis = BasisOf(Field(j, "emissions_by_basis", p), p + ".emissions_by_basis");
  const json& u = Field(j, "utilization", p);
  r.utilization = {GetOpt<double>(u, "cpu_mean", p + ".utilization"), GetOpt<double>(u, "ram_mean", p + ".utilization"),
                   GetOpt<double>(u, "gpu_mean", p + ".utilization"),
                   Get<unsigned long long>(u, "peak_tree_rss_bytes", p + ".utilization")};
  if (j.contains("process_tree")) {
    r.tree_cpu_time_source = Get<std::string>(j["process_tree"], "cpu_time_source", p + ".process_tree");
  }
  if (j.contains("overhead")) {
    const json& o = j["overhead"];
    const std::string q = p + ".overhead";
    r.overhead = OverheadRecord{Get<double>(o, "cpu_s", q), Get<long>(o, "peak_rss_kib", q),
                                Get<std::string>(o, "method", q)};
  }
  if (j.contains("cgroups")) r.cgroups = CgroupsOf(j["cgroups"], p + ".cgroups");
  // Absent in records of agents before it, and when reporting is off.
  if (j.contains("embodied")) r.embodied = EmbodiedOf(j["embodied"], p + ".embodied");
  return r;
}

}  // namespace

nlohmann::json RunRecordToJson(const RunRecord& r) {
  json j = {{"schema_version", r.schema_version},
            {"metadata", MetadataJson(r.metadata)},
            {"command", r.command},
            {"exit_code", Opt(r.exit_code)},
            {"signal", Opt(r.signal)},
            {"scope", ToString(r.scope)},
            {"pue", r.pue},
            {"duration_s", r.duration_s},
            {"sources", SourcesJson(r.sources)},
            {"intensity", IntensityJson(r.intensity)},
            {"tasks", TasksJson(r.tasks)},
            {"channels", Array(r.channels, ChannelJson)},
            {"unavailable", Array(r.unavailable, [](const UnavailableRecord& u) {
               return json{{"channel", u.channel}, {"reason", u.reason}};
             })},
            {"devices", Array(r.devices, [](const DeviceRecord& d) {
               return json{{"device_id", d.device_id}, {"kind", ToString(d.kind)},
                           {"machine", OptEnergy(d.energy.machine)}, {"process", OptEnergy(d.energy.process)}};
             })},
            {"gpus", Array(r.gpus, GpuJson)},
            {"events", EventsJson(r.events)},
            {"samples", SamplesJson(r.samples)},
            {"kinds", KindsJson(r.kinds)},
            {"energy", TotalsJson(r.energy)},
            {"emissions", EmissionsJson(r.emissions)},
            {"emissions_by_basis", BasisJson(r.emissions_by_basis)},
            {"utilization",
             {{"cpu_mean", Opt(r.utilization.cpu_mean)},
              {"ram_mean", Opt(r.utilization.ram_mean)},
              {"gpu_mean", Opt(r.utilization.gpu_mean)},
              {"peak_tree_rss_bytes", r.utilization.peak_tree_rss_bytes}}}};
  if (r.tree_cpu_time_source) j["process_tree"] = {{"cpu_time_source", *r.tree_cpu_time_source}};
  if (r.overhead) {
    j["overhead"] = {{"cpu_s", r.overhead->cpu_s}, {"peak_rss_kib", r.overhead->peak_rss_kib},
                     {"method", r.overhead->method}};
  }
  if (r.cgroups) {
    json items = json::array();
    for (const CgroupRecord& c : r.cgroups->cgroups) {
      items.push_back({{"cgroup", c.path}, {"cpu_j", c.cpu_j}, {"dram_j", c.dram_j}, {"gpu_j", c.gpu_j},
                       {"energy_j", c.cpu_j + c.dram_j + c.gpu_j}, {"present", c.present}});
    }
    j["cgroups"] = {{"items", items},
                    {"unattributed", {{"cpu_j", r.cgroups->unattributed_cpu_j},
                                      {"dram_j", r.cgroups->unattributed_dram_j},
                                      {"gpu_j", r.cgroups->unattributed_gpu_j}}},
                    {"dropped", r.cgroups->dropped}};
  }
  if (r.embodied) j["embodied"] = EmbodiedJson(*r.embodied);
  return j;
}

Result<RunRecord> RunRecordFromJson(const nlohmann::json& j) {
  try {
    return RecordOf(j);
  } catch (const Bad& e) {
    return Status::Corrupt(e.what());
  } catch (const json::exception& e) {
    return Status::Corrupt(std::string("record: ") + e.what());
  }
}

nlohmann::json RunToJson(const RunResult& run) { return RunRecordToJson(MakeRunRecord(run)); }

namespace {

Status WriteAllTo(int fd, std::string_view rest, const std::string& what) {
  while (!rest.empty()) {
    ssize_t n = write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "write " + what);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Write, fsync, rename: readers never see half a record, and a crash never
// leaves a renamed empty file. Only ever over a regular file (or nothing).
Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + tmp);
  Status st = WriteAllTo(fd, text, tmp);
  const bool synced = st.ok() && fsync(fd) == 0;
  const int sync_err = errno;
  if (close(fd) != 0 || !synced) {
    unlink(tmp.c_str());
    return st.ok() ? Status::FromErrno(synced ? errno : sync_err, "fsync " + tmp) : st;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno(err, "rename " + tmp + " -> " + path);
  }
  return Status::Ok();
}

// Anything that is not a regular file (/dev/stdout, a pipe, /dev/full) is
// written through, never replaced by a rename.
Status WriteThrough(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  Status st = WriteAllTo(fd, text, path);
  if (close(fd) != 0 && st.ok()) st = Status::FromErrno(errno, "close " + path);
  return st;
}

// The descriptor a path names directly (/dev/stdout, /dev/fd/3,
// /proc/self/fd/3), or -1. Writing to it shares the offset of whatever the
// command wrote there, instead of replacing or truncating that file.
int NamedDescriptor(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::string_view p(prefix);
    if (!path.starts_with(p) || path.size() == p.size() || path.size() > p.size() + 9) continue;
    int fd = 0;
    for (char c : path.substr(p.size())) {
      if (c < '0' || c > '9') return -1;
      fd = fd * 10 + (c - '0');
    }
    return fd;
  }
  return -1;
}

}  // namespace

Status WriteJsonFile(const std::string& path, const RunResult& run) {
  // Invalid UTF-8 (a project name or argv from a non-UTF-8 locale) becomes
  // U+FFFD rather than an exception that would lose the record.
  const std::string text = RunToJson(run).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (const int fd = NamedDescriptor(path); fd >= 0) return WriteAllTo(fd, text, path);
  // A symlink is followed: its target is written (atomically when it is a
  // regular file or does not exist yet), and the link stays a link.
  std::string target = path;
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const std::filesystem::path link(path);
    std::filesystem::path to = std::filesystem::read_symlink(link, ec);
    if (ec) return Status::IOError("resolve " + path + ": " + ec.message());
    if (to.is_relative()) to = link.parent_path() / to;
    // The resolved target when it exists (links to links), else the link's
    // own target, created.
    const std::filesystem::path real = std::filesystem::canonical(to, ec);
    target = ec ? to.string() : real.string();
  }
  if (stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + " is a directory");
    return WriteThrough(target, text);
  }
  return WriteAtomically(target, text);
}

}  // namespace wattprint
