// A run's record: what was measured (the ledger snapshot and its tasks),
// with what (the sources), where and on which grid (metadata, intensity),
// as typed values that cross module boundaries without text. The outputs
// (wattprint/report.h) and the figures (wattprint/figures.h) read it; the
// collector stores it.
//
// Thread safety: value types; a TrackerSnapshot's ledger is immutable and
// shared.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattprint/cgroups.h"
#include "wattprint/embodied.h"
#include "wattprint/emissions.h"
#include "wattprint/ledger.h"
#include "wattprint/sources.h"

namespace wattprint {

struct TaskRecord {
  std::string name;
  size_t from_point = 0;
  size_t to_point = 0;
  SystemTime wall_begin;
  SystemTime wall_end;
};

// An immutable copy of the ledger and task list at some instant.
struct TrackerSnapshot {
  std::shared_ptr<const Ledger> ledger;
  std::vector<TaskRecord> tasks;
  SystemTime wall_start;
  bool running = false;
};

// Where a run belongs on a cluster: from the SLURM_* variables of the job
// it ran in, or given (config keys cluster, job_id, ...). Empty job_id: not
// in a cluster job.
struct ClusterJob {
  std::string cluster, job_id, step, node, user, account;
  std::string partition;  // SLURM_JOB_PARTITION
  bool operator==(const ClusterJob&) const = default;
};

// Where a run sits in an MPI job (wattprint/mpi.h): its rank, from which
// launcher variable, and whether its tracker measured the node (false: the
// node's energy is in another rank's record, by the one-measurer-per-node
// rule, and this record counts none of it).
struct MpiRank {
  int rank = 0;
  std::optional<int> local_rank;  // unknown when the launcher sets none
  std::optional<int> world_size;
  std::string rank_variable;      // "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"
  bool measures_node = true;
  bool operator==(const MpiRank&) const = default;
};

struct RunMetadata {
  std::string run_id;          // UUID v4
  std::string project_name = "codecarbon";
  std::string experiment_id = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1";
  std::string experiment_name;
  std::vector<std::string> command;  // for `run`: the tracked command line
  std::string os;              // e.g. "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36"
  std::string python_version;  // empty outside Python
  std::string tool_version;    // wattprint version, in the codecarbon_version column
  int cpu_count = 0;
  std::string cpu_model;
  int cpu_sockets = 0;  // distinct /proc/cpuinfo "physical id"s; 0 = unknown
  unsigned long long ram_total_bytes = 0;
  int gpu_count = 0;
  std::string gpu_model;
  std::string cloud_provider;
  std::string cloud_region;
  bool on_cloud = false;
  std::optional<double> longitude;
  std::optional<double> latitude;
  double pue = 1.0;
  double wue = 0.0;
  // For `run`: where the process tree's CPU time came from, e.g.
  // "perf_event task-clock (inherited)" or "procfs walk (perf_event_open:
  // Permission denied)". Empty when no tree was tracked.
  std::string tree_cpu_source;
  std::optional<int> exit_code;  // for `run`
  std::optional<int> signal;     // for `run`, when the command was killed
  std::string host;              // the machine's host name
  ClusterJob cluster_job;
  std::optional<MpiRank> mpi;  // only inside an MPI job (the C API)
  // The manufacturing-emissions factors (wattprint/embodied.h) the record
  // amortises; nullopt: embodied reporting is off (config `embodied`).
  std::optional<std::vector<EmbodiedFactor>> embodied_factors;
};

// gpu_count and gpu_model from the GPU channels the sources contribute:
// one GPU per device id; the model groups equal names the way CodeCarbon
// writes them, "2 x NVIDIA H100 80GB HBM3" (", " between different ones).
void AddGpuMetadata(const std::vector<ProbeReport>& reports, RunMetadata* meta);

// What measuring cost: the CPU time and peak RSS of the wattprint process
// itself (getrusage RUSAGE_SELF: all its threads, not the tracked command),
// taken once the tracking has stopped, before the outputs are written.
struct SelfCost {
  double cpu_s = 0.0;
  long peak_rss_kib = 0;
};
// Reads SelfCost for this process; nullopt if getrusage fails.
std::optional<SelfCost> MeasureSelfCost();

struct RunResult {
  RunMetadata meta;
  TrackerSnapshot snapshot;  // ledger + tasks
  std::vector<ProbeReport> sources;
  Scope scope = Scope::kMachine;  // which scope feeds emissions
  IntensityTimeline intensity;
  // The other basis (marginal when `intensity` is the average, or the
  // reverse), when known: the JSON reports emissions under both.
  std::optional<IntensityTimeline> other_intensity;
  SystemTime wall_start;
  std::optional<SelfCost> self_cost;  // the CLI's own cost; absent elsewhere
  // Energy per cgroup (`monitor --attribute cgroups`; wattprint/cgroups.h):
  // each followed cgroup's, and what no cgroup was charged with. Absent
  // when attribution is off.
  struct CgroupFigures {
    std::vector<CgroupTotal> cgroups;
    Energy unattributed_cpu, unattributed_dram, unattributed_gpu;
    size_t dropped = 0;
  };
  std::optional<CgroupFigures> cgroup_figures;
};

}  // namespace wattprint
