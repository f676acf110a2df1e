// The explicit table of sources, and discovery: probe each in table order,
// keep only channels of device kinds no earlier source covers.
#include <array>

#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

// One line per source. Order is the selection priority: hardware counters
// first, then measured power, estimation models last. The GPU libraries
// come before hwmon: the first source of a kind wins, and hwmon's GPU
// sensors (amdgpu power, i915/xe, POWER "GPU n") are the fallback for
// machines without them, not a reason to ignore an NVIDIA GPU beside an
// AMD integrated one.
constexpr std::array<SourceEntry, 7> kSourceTable = {{
    {"powercap", "RAPL energy counters via /sys/class/powercap (Intel, AMD Zen)", &ProbePowercap},
    {"perf_rapl", "RAPL energy counters via the perf power PMU (perf_event_open)", &ProbePerfRapl},
    {"nvml", "NVIDIA GPUs via NVML: energy counter or power, per-process share", &ProbeNvml},
    {"rocm_smi", "AMD GPUs via ROCm SMI: energy counter or average power", &ProbeRocmSmi},
    {"hwmon", "hwmon energy and power sensors (amd_energy, ibmpowernv, Grace, i915/xe)", &ProbeHwmon},
    {"estimate_cpu", "CPU power model: TDP x utilisation", &ProbeEstimateCpu},
    {"estimate_ram", "RAM power model: watts per GB installed", &ProbeEstimateRam},
}};

// Presents a subset of another source's channels, when a probe returned
// channels of kinds an earlier source already covers.
class ChannelSubset final : public Source {
 public:
  ChannelSubset(std::unique_ptr<Source> inner, std::vector<size_t> keep)
      : inner_(std::move(inner)), keep_(std::move(keep)), scratch_(inner_->channels().size()) {
    for (size_t i : keep_) infos_.push_back(inner_->channels()[i]);
  }
  std::string name() const override { return inner_->name(); }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime now, const ActivitySnapshot& activity, std::span<Reading> out) override {
    inner_->Poll(now, activity, scratch_);
    for (size_t j = 0; j < keep_.size() && j < out.size(); ++j) out[j] = scratch_[keep_[j]];
  }

 private:
  std::unique_ptr<Source> inner_;
  std::vector<size_t> keep_;
  std::vector<Reading> scratch_;
  std::vector<ChannelInfo> infos_;
};

// Drops channels whose kind is covered. Returns null when none is left.
std::unique_ptr<Source> KeepUncovered(std::unique_ptr<Source> src, const std::set<DeviceKind>& covered,
                                      std::set<DeviceKind>* dropped) {
  std::vector<size_t> keep;
  const std::vector<ChannelInfo>& ch = src->channels();
  for (size_t i = 0; i < ch.size(); ++i) {
    if (covered.count(ch[i].kind)) {
      dropped->insert(ch[i].kind);
    } else {
      keep.push_back(i);
    }
  }
  if (keep.empty()) return nullptr;
  if (keep.size() == ch.size()) return src;
  return std::make_unique<ChannelSubset>(std::move(src), std::move(keep));
}

}  // namespace

std::span<const SourceEntry> SourceTable() { return kSourceTable; }

DiscoveredSources DiscoverSources(const SourceOptions& opts) { return DiscoverFrom(SourceTable(), opts); }

DiscoveredSources DiscoverFrom(std::span<const SourceEntry> table, const SourceOptions& in) {
  SourceOptions opts = in;
  if (!opts.fs) opts.fs = PosixFileSystem();
  DiscoveredSources out;
  std::set<DeviceKind> covered;
  for (const SourceEntry& e : table) {
    ProbeResult r = e.probe(opts, covered);
    ProbeReport rep{e.name, e.description, r.state, std::move(r.reason), std::move(r.fix), {}, r.unmeasured};
    if (r.state == ProbeState::kFound && r.source) {
      std::set<DeviceKind> dropped;
      std::unique_ptr<Source> src = KeepUncovered(std::move(r.source), covered, &dropped);
      if (!dropped.empty()) {
        rep.reason += "; not used for " + sources::KindList(dropped) + " (measured by an earlier source)";
      }
      if (src) {
        rep.channels = src->channels();
        out.sources.push_back(std::move(src));
      }
    }
    for (const ChannelInfo& c : rep.channels) covered.insert(c.kind);
    out.reports.push_back(std::move(rep));
  }
  return out;
}

const char* ToString(ProbeState s) {
  switch (s) {
    case ProbeState::kFound: return "found";
    case ProbeState::kAbsent: return "absent";
    case ProbeState::kDenied: return "denied";
  }
  return "unknown";
}

const char* ToString(DeviceKind k) {
  switch (k) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kDram: return "dram";
    case DeviceKind::kGpu: return "gpu";
    case DeviceKind::kPlatform: return "platform";
  }
  return "unknown";
}

const char* ToString(ChannelType t) {
  switch (t) {
    case ChannelType::kEnergyCounter: return "energy_counter";
    case ChannelType::kPower: return "power";
  }
  return "unknown";
}

const char* ToString(Method m) {
  switch (m) {
    case Method::kMeasuredCounter: return "measured_counter";
    case Method::kMeasuredPower: return "measured_power";
    case Method::kEstimated: return "estimated";
  }
  return "unknown";
}

}  // namespace wattprint
