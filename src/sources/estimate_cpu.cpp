// CPU power model, used when no hardware counter covers the CPU:
//
//   P = vcpus x (idle_w + (max_w - idle_w) x utilisation)
//
// with per-vCPU idle/max watts by CPU family (cpu_models.cpp) and the
// machine utilisation from consecutive activity snapshots. See
// docs/sources/estimate.md.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "sources/cpu_models.h"
#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

// Machine-level figures of the model, in watts, with the bounds: the same
// formula with the lowest and the highest family row CCF publishes, since
// the family (or CCF's average) may not fit this machine. A user-set
// --cpu-power has no spread.
struct CpuModel {
  double idle_w = 0.0;  // all vCPUs idle
  double max_w = 0.0;   // all vCPUs busy
  double low_idle_w = 0.0, low_max_w = 0.0;
  double high_idle_w = 0.0, high_max_w = 0.0;
};

class EstimateCpuSource final : public Source {
 public:
  EstimateCpuSource(CpuModel model, ChannelInfo info) : model_(model), infos_{std::move(info)} {}
  std::string name() const override { return "estimate_cpu"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }

  void Poll(SteadyTime, const ActivitySnapshot& a, std::span<Reading> out) override {
    if (out.empty()) return;
    if (!a.ok) {
      out[0] = Reading::Unavailable(a.error.ok() ? Status::IOError("no CPU activity snapshot") : a.error);
      return;
    }
    const double u = busy_.Update(a);
    auto at = [u](double idle, double max) { return idle + (max - idle) * u; };
    const CpuModel& m = model_;
    out[0] = Reading::Estimate(at(m.idle_w, m.max_w), at(m.low_idle_w, m.low_max_w), at(m.high_idle_w, m.high_max_w));
  }

 private:
  CpuModel model_;
  std::vector<ChannelInfo> infos_;
  sources::BusyFraction busy_;
};

// The number of logical CPUs: /proc/cpuinfo "processor" entries, else the
// cpuN lines of /proc/stat.
int CountVcpus(const SourceOptions& opts, const sources::CpuInfoSummary& cpu) {
  if (cpu.processors > 0) return cpu.processors;
  auto stat = opts.fs->ReadFile(opts.roots.Proc("stat"));
  if (!stat.ok()) return 0;
  int n = 0;
  size_t pos = 0;
  while ((pos = stat->find("\ncpu", pos)) != std::string::npos) {
    pos += 4;
    if (pos < stat->size() && (*stat)[pos] >= '0' && (*stat)[pos] <= '9') ++n;
  }
  return n;
}

ChannelInfo MakeChannel(const SourceOptions& opts) {
  ChannelInfo info;
  info.id = "estimate_cpu:machine";
  info.device_id = "cpu";
  info.kind = DeviceKind::kCpu;
  info.type = ChannelType::kPower;
  info.method = Method::kEstimated;
  info.path = opts.roots.Proc("cpuinfo");
  return info;
}

}  // namespace

ProbeResult ProbeEstimateCpu(const SourceOptions& in, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  if (in.disable_estimation) {
    r.reason = "estimation disabled";
    return r;
  }
  if (covered.count(DeviceKind::kCpu)) {
    r.reason = "CPU already measured by an earlier source";
    return r;
  }
  SourceOptions opts = in;
  if (!opts.fs) opts.fs = PosixFileSystem();

  ChannelInfo info = MakeChannel(opts);
  auto text = opts.fs->ReadFile(opts.roots.Proc("cpuinfo"));
  sources::CpuInfoSummary cpu;
  sources::CpuModelChoice choice;
  if (text.ok()) {
    cpu = sources::ParseCpuInfo(*text);
    choice = sources::ChooseCpuModel(cpu);
  } else {
    choice.match = opts.roots.Proc("cpuinfo") + " unreadable (" + text.status().ToString() + "); CCF average used";
  }
  const int vcpus = CountVcpus(opts, cpu);
  if (vcpus <= 0) {
    r.reason = "cannot count CPUs: " + opts.roots.Proc("cpuinfo") + " and " + opts.roots.Proc("stat") +
               " list no processor";
    return r;
  }

  const sources::CpuCoefficients& k = choice.coefficients;
  const sources::CpuCoefficients lo = sources::LowestCpuRow(), hi = sources::HighestCpuRow();
  CpuModel m{vcpus * k.idle_w_per_vcpu, vcpus * k.max_w_per_vcpu,
             vcpus * lo.idle_w_per_vcpu, vcpus * lo.max_w_per_vcpu,
             vcpus * hi.idle_w_per_vcpu, vcpus * hi.max_w_per_vcpu};
  auto& mm = info.model;
  mm["cpu_model_name"] = cpu.model_name;
  mm["family"] = choice.family.empty() ? "unknown" : choice.family;
  if (in.cpu_power_override) {
    // The user's full-load figure; idle keeps the model's idle:max ratio.
    const double ratio = k.idle_w_per_vcpu / k.max_w_per_vcpu;
    m.max_w = in.cpu_power_override->watts();
    m.idle_w = m.max_w * ratio;
    m.low_idle_w = m.high_idle_w = m.idle_w;  // the user's own figure: no model spread
    m.low_max_w = m.high_max_w = m.max_w;
    mm["model"] = "vcpus x (idle + (max - idle) x utilisation), max from --cpu-power";
    mm["source"] = std::string("user --cpu-power; idle:max ratio from ") + sources::kCcfSource;
    mm["family_match"] = "user --cpu-power (idle ratio from " + std::string(k.name) + ": " + choice.match + ")";
  } else {
    mm["model"] = "vcpus x (idle + (max - idle) x utilisation), CCF " + std::string(k.name);
    mm["source"] = sources::kCcfSource;
    mm["family_match"] = choice.match;
  }
  auto& num = info.model_inputs;
  num["vcpus"] = vcpus;
  num["idle_w_per_vcpu"] = m.idle_w / vcpus;
  num["max_w_per_vcpu"] = m.max_w / vcpus;
  num["idle_w"] = m.idle_w;
  num["max_w"] = m.max_w;
  num["low_idle_w"] = m.low_idle_w;
  num["low_max_w"] = m.low_max_w;
  num["high_idle_w"] = m.high_idle_w;
  num["high_max_w"] = m.high_max_w;
  info.label = fmt::format("CPU power model ({} vCPUs, {:g}-{:g} W)", vcpus, m.idle_w, m.max_w);
  // The model covers every package of the machine, so the per-package
  // default ceiling does not apply; it can never exceed its own high bound.
  info.power_ceiling = Power::Watts(2.0 * std::max(m.max_w, m.high_max_w));
  info.power_ceiling_source = "2 x the model's highest figure";

  r.state = ProbeState::kFound;
  r.reason = fmt::format("{} vCPUs, {}, {:g} W idle to {:g} W full load", vcpus,
                         in.cpu_power_override ? std::string("--cpu-power") : "CCF " + std::string(k.name),
                         m.idle_w, m.max_w);
  r.source = std::make_unique<EstimateCpuSource>(m, std::move(info));
  return r;
}

}  // namespace wattprint
