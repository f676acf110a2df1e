// One poll's samples: a Reading per channel and the ActivitySnapshot (procfs
// CPU time, memory, the tracked tree) taken at the same instant. Sources
// fill them; the ledger turns consecutive ones into energy.
//
// Thread safety: value types (PidList copies share one immutable list).
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "wattprint/status.h"

namespace wattprint {

struct Reading {
  bool ok = false;
  // Joules for kEnergyCounter, watts for kPower. Meaningless when !ok.
  double value = 0.0;
  Status error;  // why it is unavailable when !ok
  // The tracked process tree's share (0..1) of this device's activity over
  // the interval ending now, when the source itself knows it (GPU
  // per-process accounting). Negative: not provided; the ledger then uses
  // the procfs CPU-time or RSS share for the channel's kind.
  double process_share = -1.0;
  // Live device facts that some sources know (GPUs); negative = not
  // provided. Utilisation is the device's busy fraction (0..1) over the
  // driver's last sample period; memory is bytes in use at this poll. They
  // are plain fields rather than a key/value map because the ledger keeps
  // them per interval for every channel, and a map would allocate at
  // every poll.
  double utilization = -1.0;
  double memory_used_bytes = -1.0;
  // For estimated power channels: the model's low and high bounds on the
  // power (W) at this poll; negative = no bounds (a measurement).
  double low = -1.0;
  double high = -1.0;

  static Reading Of(double v) { return Reading{true, v, Status::Ok(), -1.0, -1.0, -1.0, -1.0, -1.0}; }
  static Reading Estimate(double v, double lo, double hi) {
    return Reading{true, v, Status::Ok(), -1.0, -1.0, -1.0, lo, hi};
  }
  static Reading Unavailable(Status s) { return Reading{false, 0.0, std::move(s), -1.0, -1.0, -1.0, -1.0, -1.0}; }
};

// An immutable list of PIDs that copies share: a snapshot is copied at
// every sample (by the ledger), and the tree's membership changes only at a
// procfs walk, so the copies cost a reference count, not an allocation.
class PidList {
 public:
  PidList() = default;
  PidList(std::vector<int> pids)  // NOLINT: implicit, a list is its PIDs
      : pids_(std::make_shared<const std::vector<int>>(std::move(pids))) {}
  PidList(std::initializer_list<int> pids) : PidList(std::vector<int>(pids)) {}
  const std::vector<int>& get() const { return pids_ ? *pids_ : Empty(); }
  operator const std::vector<int>&() const { return get(); }  // NOLINT
  std::vector<int>::const_iterator begin() const { return get().begin(); }
  std::vector<int>::const_iterator end() const { return get().end(); }
  size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  int front() const { return get().front(); }

 private:
  static const std::vector<int>& Empty() {
    static const std::vector<int> kEmpty;
    return kEmpty;
  }
  std::shared_ptr<const std::vector<int>> pids_;
};

// What the process-scope attribution needs to know about activity in the
// interval that ends at a poll. Filled by the tracker from procfs; sources
// that estimate power from utilisation read it too.
struct ActivitySnapshot {
  bool ok = false;
  Status error;
  // Machine CPU time (all CPUs, busy and idle) in clock ticks.
  unsigned long long machine_total_ticks = 0;
  unsigned long long machine_busy_ticks = 0;
  int online_cpus = 0;
  // The tracked process tree (0 when no process is tracked).
  bool tree_ok = false;
  unsigned long long tree_ticks = 0;  // utime+stime+cutime+cstime summed over the tree
  // The tree's CPU time in nanoseconds from a kernel counter (TreeCpuClock)
  // when one follows the tree; tree_ticks is then derived from it.
  bool tree_cpu_ns_ok = false;
  unsigned long long tree_cpu_ns = 0;
  long ticks_per_second = 100;  // length of a machine tick (sysconf(_SC_CLK_TCK))
  unsigned long long tree_rss_bytes = 0;
  int tree_processes = 0;
  // PIDs of the tree's members at this sample (the root first), for sources
  // that attribute a device per process (GPU per-process accounting).
  PidList tree_pids;
  unsigned long long mem_total_bytes = 0;
  unsigned long long mem_available_bytes = 0;
};

}  // namespace wattprint
