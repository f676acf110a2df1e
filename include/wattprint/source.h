// The source interface: anything that can report the energy or power of a
// device (RAPL, hwmon, a GPU library, or an estimation model).
//
// A source exposes a fixed list of channels, discovered once when it is
// created. Each poll fills one Reading per channel, taken at the steady-clock
// time the caller passes. A channel that cannot be read reports unavailable
// with the reason; it never reports 0.
//
// Units: an energy counter reports cumulative joules since an arbitrary
// origin, wrapping to 0 after ChannelInfo::wrap_range (0 = range unknown). A
// power channel reports instantaneous (or device-averaged) watts.
//
// Thread safety: a Source is polled by one thread at a time (the tracker's
// sampler holds a lock around polls); it need not be internally synchronised.
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

enum class DeviceKind { kCpu, kDram, kGpu, kPlatform };
enum class ChannelType { kEnergyCounter, kPower };
// How a channel's figure is obtained. Reported next to every number.
enum class Method {
  kMeasuredCounter,  // hardware cumulative energy counter, differenced
  kMeasuredPower,    // hardware power reading, integrated (trapezoid)
  kEstimated,        // a documented model (see ChannelInfo::model)
};

const char* ToString(DeviceKind k);     // "cpu", "dram", "gpu", "platform"
const char* ToString(ChannelType t);    // "energy_counter", "power"
const char* ToString(Method m);         // "measured_counter", "measured_power", "estimated"

struct ChannelInfo {
  std::string id;         // unique within a tracker, e.g. "powercap:package-0"
  std::string device_id;  // the physical device, e.g. "package-0", "gpu-0"
  std::string label;      // human name, e.g. "CPU package 0 (intel-rapl:0)"
  DeviceKind kind = DeviceKind::kCpu;
  ChannelType type = ChannelType::kEnergyCounter;
  Method method = Method::kMeasuredCounter;
  // Counter range: after reaching it the counter restarts at 0. Zero means
  // the range is unknown and a decrease cannot be told from a reset.
  Energy wrap_range;
  // The most power the device can plausibly draw, from the hardware where
  // it says so (RAPL constraint limits, the NVML power limit, an hwmon
  // cap, with headroom); zero = the kind's documented default
  // (DefaultPowerCeiling in ledger.h). The ledger books no interval over
  // it: a decrease that would need more is a reset, not a wrap.
  Power power_ceiling;
  std::string power_ceiling_source;  // where power_ceiling comes from; "" = the default
  // For estimated channels: the model's name, source and other text facts
  // (and a GPU's name, UUID, energy source, attribution note), as key/value
  // pairs that end up in the JSON record.
  std::map<std::string, std::string> model;
  // The model's (or device's) numeric inputs, as numbers: watts, counts,
  // bytes. The JSON record writes them as numbers, next to `model`.
  std::map<std::string, double> model_inputs;
  // Where the figure comes from, e.g. "/sys/class/powercap/intel-rapl:0".
  std::string path;
};

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

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;  // "powercap", "perf_rapl", "hwmon", "estimate_cpu", ...
  virtual const std::vector<ChannelInfo>& channels() const = 0;
  // Fills out[i] for channels()[i]; out.size() == channels().size().
  // `activity` is the snapshot taken at the same instant (may be !ok).
  virtual void Poll(SteadyTime now, const ActivitySnapshot& activity, std::span<Reading> out) = 0;
};

}  // namespace wattprint
