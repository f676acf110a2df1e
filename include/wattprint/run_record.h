// The JSON run record (docs/OUTPUTS.md) as typed values: every field of the
// record, with units in the types, `std::optional` where the record says
// null (unknown), and no text that has to be parsed back. MakeRunRecord
// builds it from a run (through the figures, wattprint/figures.h); the JSON
// writer only formats it, and RunRecordFromJson reads a record back into
// the same values, losslessly, so that the collector can store what an
// agent sent.
//
// Thread safety: value types and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wattprint/channel.h"
#include "wattprint/embodied.h"
#include "wattprint/emissions.h"
#include "wattprint/record.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

// 2: power ceilings, resets, lower bounds, estimate bounds, partial
// emissions, typed events, sub-second times. Version 1 records (older
// agents) are read too, the newer fields taking their defaults.
// The optional top-level "embodied" object did not change the version: a
// reader that does not know it ignores it, so older collectors still take
// newer agents' records (a version 3 they would refuse), and a record
// without it reads as nullopt.
inline constexpr int kRunRecordSchemaVersion = 2;

struct BoundsRecord {
  Energy low, high;
  bool operator==(const BoundsRecord&) const = default;
};

// A figure in both scopes; nullopt = unknown (JSON null).
struct ScopedEnergy {
  std::optional<Energy> machine, process;
  bool operator==(const ScopedEnergy&) const = default;
};

struct ScopedBounds {
  std::optional<BoundsRecord> machine, process;
  bool operator==(const ScopedBounds&) const = default;
};

struct SourceRecord {
  std::string name, description;
  ProbeState state = ProbeState::kAbsent;
  std::string reason;
  std::optional<std::string> fix;
  std::vector<std::string> channels;  // channel ids it contributes
  bool operator==(const SourceRecord&) const = default;
};

struct StatusRecord {
  bool ok = true;
  std::string code, message;  // when !ok
  bool operator==(const StatusRecord&) const = default;
};

struct ChannelRecord {
  std::string id, device_id, label;
  DeviceKind kind = DeviceKind::kCpu;
  ChannelType type = ChannelType::kEnergyCounter;
  Method method = Method::kMeasuredCounter;
  std::map<std::string, std::string> model;         // text facts
  std::map<std::string, double> model_inputs;       // numbers
  std::optional<std::string> path;
  std::optional<Energy> wrap_range;
  StatusRecord last_status;
  bool available = false;
  int ok_intervals = 0, missing_intervals = 0, wraps = 0, resets = 0;
  bool lower_bound = false;
  Power power_ceiling;
  std::string power_ceiling_source;
  ScopedEnergy energy;
  ScopedBounds bounds;
  bool operator==(const ChannelRecord&) const = default;
};

struct UnavailableRecord {
  std::string channel, reason;
  bool operator==(const UnavailableRecord&) const = default;
};

struct DeviceRecord {
  std::string device_id;
  DeviceKind kind = DeviceKind::kCpu;
  ScopedEnergy energy;
  bool operator==(const DeviceRecord&) const = default;
};

struct GpuRecord {
  std::string device_id, channel, label;
  std::optional<double> index;
  std::optional<std::string> name, uuid;
  Method method = Method::kMeasuredCounter;
  std::optional<std::string> energy_source, process_attribution, mig_instances;
  std::optional<double> power_limit_w, memory_total_bytes;
  bool available = false;
  StatusRecord last_status;
  ScopedEnergy energy;
  std::optional<double> mean_utilization, peak_memory_used_bytes;
  bool operator==(const GpuRecord&) const = default;
};

struct EventRecord {
  std::optional<std::string> channel;  // nullopt: the whole machine
  size_t point = 0;
  std::optional<double> t_s;
  LedgerEventKind kind = LedgerEventKind::kUnavailable;
  std::string what;
  bool operator==(const EventRecord&) const = default;
};

struct SampleRecord {
  double t_start_s = 0, t_end_s = 0;
  std::vector<std::optional<double>> machine_j, process_j;  // per channel
  std::optional<double> cpu_share, ram_share, cpu_utilization, ram_utilization;
  bool operator==(const SampleRecord&) const = default;
};

struct KindRecord {
  std::string method;  // "measured_counter", ..., "mixed", "none" (no GPU)
  std::optional<std::string> model;
  int channels = 0;
  bool counted = false, complete = false, lower_bound = false;
  ScopedEnergy energy;
  ScopedBounds bounds;  // absent for the measured 0 of a machine without a GPU
  bool operator==(const KindRecord&) const = default;
};

struct EnergyTotalsRecord {
  Energy machine;
  std::optional<Energy> process;
  bool platform_as_cpu = false;
  bool operator==(const EnergyTotalsRecord&) const = default;
};

struct ScopeEmissionsRecord {
  Co2e co2e;
  Energy energy;  // PUE applied
  Co2e low, high;
  bool operator==(const ScopeEmissionsRecord&) const = default;
};

struct EmissionsRecord {
  Scope scope = Scope::kMachine;
  std::optional<Co2e> chosen;  // the chosen scope's, when known
  ScopeEmissionsRecord machine;
  std::optional<ScopeEmissionsRecord> process;
  bool partial = false;
  std::vector<std::string> left_out;
  // Process scope without some kind's share: what the known kinds emitted.
  std::optional<ScopeEmissionsRecord> process_partial;
  std::vector<std::string> process_left_out;
  bool operator==(const EmissionsRecord&) const = default;
};

struct BasisEntryRecord {
  Co2e co2e;
  std::string source;
  std::optional<double> g_per_kwh;
  bool operator==(const BasisEntryRecord&) const = default;
};

struct BasisRecord {
  std::string chosen;
  std::optional<BasisEntryRecord> average, marginal;
  bool operator==(const BasisRecord&) const = default;
};

struct TaskFiguresRecord {
  std::string name;
  size_t from_point = 0, to_point = 0;
  SystemTime start, end;
  double duration_s = 0;
  std::map<std::string, KindRecord> kinds;
  EnergyTotalsRecord energy;
  EmissionsRecord emissions;
  bool operator==(const TaskFiguresRecord&) const = default;
};

struct MetadataRecord {
  std::string run_id, project_name, experiment_id, experiment_name, os;
  std::optional<std::string> python_version;
  std::string wattprint_version;
  std::optional<int> cpu_count;
  std::optional<std::string> cpu_model;
  std::optional<unsigned long long> ram_total_bytes;
  int gpu_count = 0;
  std::optional<std::string> gpu_model, cloud_provider, cloud_region;
  bool on_cloud = false;
  std::optional<double> longitude, latitude;
  double pue = 1.0, wue = 0.0;
  SystemTime start;
  std::optional<std::string> host;
  std::optional<ClusterJob> cluster_job;  // only inside a cluster job
  std::optional<MpiRank> mpi;             // only inside an MPI job
  bool operator==(const MetadataRecord&) const = default;
};

struct UtilizationRecord {
  std::optional<double> cpu_mean, ram_mean, gpu_mean;
  unsigned long long peak_tree_rss_bytes = 0;
  bool operator==(const UtilizationRecord&) const = default;
};

// Energy per cgroup, in joules (machine energy, no PUE).
struct CgroupRecord {
  std::string path;
  double cpu_j = 0, dram_j = 0, gpu_j = 0;
  bool present = true;
  bool operator==(const CgroupRecord&) const = default;
};
struct CgroupsRecord {
  std::vector<CgroupRecord> cgroups;
  double unattributed_cpu_j = 0, unattributed_dram_j = 0, unattributed_gpu_j = 0;
  long long dropped = 0;
  bool operator==(const CgroupsRecord&) const = default;
};

struct OverheadRecord {
  double cpu_s = 0;
  long peak_rss_kib = 0;
  std::string method;
  bool operator==(const OverheadRecord&) const = default;
};

// Manufacturing emissions (wattprint/embodied.h), one item per device
// counted: kg = count x manufacture_kg x time_share x use_share, with
// time_share = duration / lifetime and use_share the scope's share (1 in
// machine scope). `device` is "server", "cpu", "dram", "gpu0"...; `factor`
// the table key.
struct EmbodiedItemRecord {
  std::string device;
  std::string factor;
  double count = 0;
  double manufacture_kg = 0;
  double lifetime_years = 0;
  double time_share = 0;
  double use_share = 0;
  double kg = 0;
  std::string source, licence;
  bool operator==(const EmbodiedItemRecord&) const = default;
};
struct EmbodiedRecord {
  double kg = 0;
  std::string scope;   // "machine", "process"
  std::string method;  // how the items were amortised and shared
  std::vector<EmbodiedItemRecord> items;
  std::vector<std::string> not_counted;  // "gpu0 NVIDIA T4: no published figure in the table"
  bool operator==(const EmbodiedRecord&) const = default;
};

struct RunRecord {
  int schema_version = kRunRecordSchemaVersion;
  MetadataRecord metadata;
  std::vector<std::string> command;
  std::optional<int> exit_code, signal;
  Scope scope = Scope::kMachine;
  double pue = 1.0;
  double duration_s = 0;
  std::vector<SourceRecord> sources;
  IntensityTimeline intensity;
  std::vector<TaskFiguresRecord> tasks;
  std::vector<ChannelRecord> channels;
  std::vector<UnavailableRecord> unavailable;
  std::vector<DeviceRecord> devices;
  std::vector<GpuRecord> gpus;
  std::vector<EventRecord> events;
  std::vector<SampleRecord> samples;
  std::map<std::string, KindRecord> kinds;  // by kind name: "cpu", "dram", "gpu", "platform"
  EnergyTotalsRecord energy;
  EmissionsRecord emissions;
  BasisRecord emissions_by_basis;
  UtilizationRecord utilization;
  std::optional<std::string> tree_cpu_time_source;
  std::optional<OverheadRecord> overhead;
  std::optional<CgroupsRecord> cgroups;
  std::optional<EmbodiedRecord> embodied;  // manufacturing emissions, apart from `emissions` (never added to it)
  bool operator==(const RunRecord&) const = default;
};

// The record of a run (or a flushed part of one): every figure computed
// once, typed.
RunRecord MakeRunRecord(const RunResult& run);
// The run's manufacturing emissions (the record's `embodied`): nullopt when
// the run carries no factor table (embodied reporting off).
std::optional<EmbodiedRecord> EmbodiedOfRun(const RunResult& run);
// The JSON record (schema in docs/OUTPUTS.md); what RunToJson writes.
nlohmann::json RunRecordToJson(const RunRecord& record);
// Reads a record back; Corrupt, naming the field, when it does not follow
// the schema (a wrong type, a missing key, an unknown enum value, a
// schema_version it does not know).
Result<RunRecord> RunRecordFromJson(const nlohmann::json& j);

}  // namespace wattprint
