// Energy per cgroup: which cgroups of the v2 hierarchy are followed, what
// is read of each at a poll (CPU time from cpu.stat's usage_usec, memory
// from memory.current), and the ledger that charges each interval's
// machine energy to them with the shares `run --scope process` uses
// (docs/ATTRIBUTION.md), so that the cgroups and the unattributed rest add
// up to the machine in every interval.
//
// The hierarchy is read through a FileSystem under the sysfs root
// (ROOT/fs/cgroup), and the CPU count and MemTotal under the procfs root,
// so fixture trees test it.
//
// Thread safety: a CgroupSampler or a CgroupLedger is used by one thread at
// a time. Value types otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/clock.h"
#include "wattprint/fs.h"
#include "wattprint/ledger.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

// Which cgroups are followed: those `depth` levels below the root (1: the
// root's children, such as system.slice, user.slice, kubepods), or, when
// `parents` is not empty, the children of each of those (paths relative to
// the root: "system.slice", "kubepods/besteffort", "system.slice/slurmstepd.scope").
// At most max_cgroups are followed at once; more are counted as dropped and
// their energy stays unattributed.
struct CgroupSelection {
  int depth = 1;
  std::vector<std::string> parents;
  size_t max_cgroups = 4096;
};

struct CgroupReading {
  std::string path;                       // relative to the root, e.g. "system.slice/nginx.service"
  std::optional<uint64_t> usage_usec;     // cpu.stat usage_usec; nullopt when unreadable
  std::optional<uint64_t> memory_bytes;   // memory.current; nullopt when unreadable (no memory controller)
};

struct CgroupSnapshot {
  SteadyTime t;
  int online_cpus = 0;           // cpuN lines of /proc/stat
  uint64_t mem_total_bytes = 0;  // MemTotal of /proc/meminfo
  std::vector<CgroupReading> cgroups;  // sorted by path
  size_t dropped = 0;            // cgroups over max_cgroups, not read
};

class CgroupSampler {
 public:
  CgroupSampler(std::shared_ptr<FileSystem> fs, SystemRoots roots, CgroupSelection selection);
  // Finds the selected cgroups and reads them. IOError when the root is
  // not a cgroup v2 hierarchy (no cgroup.controllers), or /proc unreadable.
  // Each cgroup's files stay open between samples (one pread each);
  // memory.current, which moves slowly, is read every kTreeWalkPeriod
  // (5 s), as the process tree's RSS is; where it is missing (the memory
  // controller is off for the subtree), it is looked for again every
  // kMissingFileRetry.
  Result<CgroupSnapshot> Sample(SteadyTime now);
  // The cgroup a process is in (its "0::/path" line of /proc/PID/cgroup
  // under the procfs root), relative to the root; nullopt when the process
  // is gone or has no v2 line.
  std::optional<std::string> CgroupOf(int pid) const;

 private:
  struct Open {
    std::unique_ptr<FileHandle> cpu, memory;
    uint64_t seen = 0;  // the sample that last listed the cgroup
    std::optional<uint64_t> memory_bytes;  // as last read
    SteadyTime memory_read{};
    bool memory_missing = false;  // not there at the last try
  };
  static constexpr std::chrono::seconds kMissingFileRetry{60};
  void Find(const std::string& rel, int depth_left, std::vector<std::string>* out) const;
  // Reads a cgroup file through its kept handle, opening (or reopening,
  // when the cgroup was made anew under the same name) as needed.
  bool ReadKept(std::unique_ptr<FileHandle>* handle, const std::string& root, const std::string& cgroup,
                const char* file, std::string* text);
  std::shared_ptr<FileSystem> fs_;
  std::map<std::string, Open> open_;
  uint64_t samples_ = 0;
  SystemRoots roots_;
  CgroupSelection selection_;
};

// What a cgroup used since the ledger started, in machine energy (no PUE).
struct CgroupTotal {
  std::string path;
  Energy cpu, dram, gpu;
  bool present = true;  // seen at the last snapshot; a vanished one keeps what it used
  Energy Sum() const { return cpu + dram + gpu; }
};

// The machine energy the ledger's counted channels used since its start,
// by kind (a counted platform channel stands in for the CPU). Unchanged by
// coalescing, so two readings' difference is what was used between them.
struct KindEnergies {
  Energy cpu, dram, gpu;
  std::vector<std::pair<std::string, Energy>> gpus;  // each counted GPU channel's: (device id, energy)
};

// One GPU over an interval: the machine energy it used, and the processes
// that used it, each as (its cgroup, relative to the root; its share of
// the GPU, 0..1).
struct CgroupGpuUse {
  Energy energy;
  std::vector<std::pair<std::string, double>> processes;
};
KindEnergies CountedEnergyByKind(const Ledger& ledger);

class CgroupLedger {
 public:
  // At most max_series cgroups keep a total of their own; the energy of
  // vanished ones beyond it folds into one "(gone)" entry, so totals are
  // never lost and the state stays bounded.
  explicit CgroupLedger(size_t max_series = 4096);

  // Charges the interval between snapshots a and b, over which the machine
  // used these energies by kind (counted channels only), to the cgroups:
  //   cpu share  = (usage_usec at b - at a) / ((b.t - a.t) x online CPUs)
  //   dram share = max(memory at a, at b) / MemTotal
  // each clamped to [0, 1]; a cgroup absent at a was born in the interval
  // (its usage at a counts as 0); one absent at b gets nothing more. When
  // the shares of an interval add up to more than 1 (cgroup files and
  // /proc read microseconds apart), they are scaled to 1.
  // GPU energy: each GPU's goes to the followed cgroups its processes are
  // in (a process in a cgroup below a followed one counts for that one),
  // by their shares, scaled to 1 where they add up to more. The rest of
  // `gpu` (idle, processes outside the followed cgroups, GPUs NVML has no
  // per-process data for) stays unattributed.
  void AddInterval(const CgroupSnapshot& a, const CgroupSnapshot& b, Energy cpu, Energy dram, Energy gpu,
                   const std::vector<CgroupGpuUse>& gpus = {});

  std::vector<CgroupTotal> totals() const;  // sorted by path
  // Each total in path order, without a copy (the exporter, every poll).
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& kv : totals_) f(kv.second);
  }
  // The machine energy no cgroup was charged with, by kind.
  Energy unattributed_cpu() const { return rest_cpu_; }
  Energy unattributed_dram() const { return rest_dram_; }
  Energy unattributed_gpu() const { return rest_gpu_; }
  Energy unattributed() const { return rest_cpu_ + rest_dram_ + rest_gpu_; }
  // Cgroups that were not followed (over the samplers' cap), summed over
  // snapshots.
  size_t dropped() const { return dropped_; }

 private:
  void Bound();
  std::map<std::string, CgroupTotal> totals_;
  size_t max_series_;
  Energy rest_cpu_, rest_dram_, rest_gpu_;
  size_t dropped_ = 0;
};

}  // namespace wattprint
