// RAM power model, used when no hardware counter covers DRAM: a constant
//
//   P = 0.392 W/GiB x MemTotal
//
// Cloud Carbon Footprint's memory coefficient (0.000392 kWh per GB-hour,
// methodology 2021-2023: the mean of Crucial's "3 W per 8 GB" and Micron's
// DDR4 power model, 0.408 W/GB). DRAM draws refresh and background power
// whether or not the memory is in use, so the machine figure is that of the
// memory installed; the ledger gives the process tree its RSS share of it.
// See docs/sources/estimate.md.
#include <fmt/format.h>

#include <memory>

#include "sources/probes.h"

namespace wattprint {
namespace {

constexpr double kWattsPerGiB = 0.392;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

class EstimateRamSource final : public Source {
 public:
  EstimateRamSource(double watts, ChannelInfo info) : watts_(watts), infos_{std::move(info)} {}
  std::string name() const override { return "estimate_ram"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  // Constant: installed memory does not change during a run.
  void Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) override {
    if (!out.empty()) out[0] = Reading::Of(watts_);
  }

 private:
  double watts_;
  std::vector<ChannelInfo> infos_;
};

// MemTotal from /proc/meminfo, in bytes.
Result<unsigned long long> MemTotalBytes(const SourceOptions& opts) {
  const std::string path = opts.roots.Proc("meminfo");
  auto text = opts.fs->ReadFile(path);
  if (!text.ok()) return text.status();
  std::string_view t = *text;
  const size_t p = t.find("MemTotal:");
  if (p == std::string_view::npos) return Status::Corrupt(path + ": no MemTotal");
  std::string_view v = t.substr(p + 9);
  v = v.substr(0, v.find('\n'));
  if (v.size() >= 2 && v.substr(v.size() - 2) == "kB") v.remove_suffix(2);
  auto kb = ParseUnsigned(v, path + " MemTotal");
  if (!kb.ok()) return kb.status();
  if (*kb == 0) return Status::Corrupt(path + ": MemTotal is 0");
  return *kb * 1024;
}

}  // namespace

ProbeResult ProbeEstimateRam(const SourceOptions& in, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  if (in.disable_estimation) {
    r.reason = "estimation disabled";
    return r;
  }
  if (covered.count(DeviceKind::kDram)) {
    r.reason = "DRAM already measured by an earlier source";
    return r;
  }
  SourceOptions opts = in;
  if (!opts.fs) opts.fs = PosixFileSystem();

  ChannelInfo info;
  info.id = "estimate_ram:machine";
  info.device_id = "dram";
  info.kind = DeviceKind::kDram;
  info.type = ChannelType::kPower;
  info.method = Method::kEstimated;
  info.path = opts.roots.Proc("meminfo");

  double watts = 0.0;
  if (in.ram_power_override) {
    watts = in.ram_power_override->watts();
    info.model["model"] = "constant";
    info.model["source"] = "user-set constant RAM power (SourceOptions::ram_power_override)";
  } else {
    auto bytes = MemTotalBytes(opts);
    if (!bytes.ok()) {
      r.reason = "cannot read installed memory: " + bytes.status().ToString();
      return r;
    }
    const double gib = static_cast<double>(*bytes) / kGiB;
    watts = kWattsPerGiB * gib;
    info.model["model"] = "w_per_gb x mem_total_gb";
    info.model["source"] =
        "Cloud Carbon Footprint, methodology, 2021-2023: 0.000392 kWh/GB-h (mean of Crucial 0.375 W/GB "
        "and Micron DDR4 0.408 W/GB)";
    info.model["w_per_gb"] = fmt::format("{:g}", kWattsPerGiB);
    info.model["mem_total_gb"] = fmt::format("{:.3f}", gib);
  }
  info.model["watts"] = fmt::format("{:g}", watts);
  info.label = fmt::format("RAM power model ({:.3g} W)", watts);

  r.state = ProbeState::kFound;
  r.reason = in.ram_power_override ? fmt::format("constant {:g} W set by the user", watts)
                                   : fmt::format("{} GiB installed x {:g} W/GiB = {:.3g} W",
                                                 info.model["mem_total_gb"], kWattsPerGiB, watts);
  r.source = std::make_unique<EstimateRamSource>(watts, std::move(info));
  return r;
}

}  // namespace wattprint
