// RAM power model, used when no hardware counter covers DRAM:
//
//   P = dimms x (idle_w + (stream_w - idle_w) x activity)
//
// DRAM power is set by the number of modules (each draws background and
// refresh power) and by memory traffic, not by installed capacity: Green
// Algorithms calculator issue #14 measured under 1.5 W for four more 16 GB
// DDR4 modules at idle. The per-module figures are McCalpin's RAPL DRAM
// measurements of DDR4-2133 RDIMMs checked against Micron's power
// calculator (TACC HPCPerfStats issue #9): 0.92-1.07 W per DIMM idle,
// 3.37-4.52 W per DIMM running STREAM.
//
// - dimms: the modules EDAC lists (/sys/devices/system/edac/mc/mc*/dimm*),
//   else a guess from MemTotal with the module sizes servers and laptops
//   use (8 GiB modules up to 32 GiB, 16 up to 128, 32 up to 512, 64 above).
// - activity: the machine's CPU busy fraction since the previous poll, a
//   proxy for memory traffic (the cores make it); no bandwidth counter is
//   read.
// - bounds: low = every module idle at the lowest measured figure; high =
//   every module at the highest STREAM figure, or 0.089 W/GiB of installed
//   memory for large modules (91 W for 1 TiB, MICRO'21 via HPE), whichever
//   is larger. Reported with every reading.
// See docs/sources/estimate.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

constexpr double kIdleWPerDimm = 1.0;      // mean of 0.92 and 1.07
constexpr double kStreamWPerDimm = 3.95;   // mean of 3.37 and 4.52
constexpr double kLowWPerDimm = 0.92;
constexpr double kHighWPerDimm = 4.52;
constexpr double kHighWPerGiB = 91.0 / 1024.0;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct RamModel {
  double dimms = 0;
  double gib = 0;
  bool constant = false;  // user-set watts
  double watts = 0;       // when constant
  double Low() const { return constant ? watts : dimms * kLowWPerDimm; }
  double High() const { return constant ? watts : std::max(dimms * kHighWPerDimm, gib * kHighWPerGiB); }
  double At(double activity) const {
    return constant ? watts : dimms * (kIdleWPerDimm + (kStreamWPerDimm - kIdleWPerDimm) * activity);
  }
};

class EstimateRamSource final : public Source {
 public:
  EstimateRamSource(RamModel model, ChannelInfo info) : model_(model), infos_{std::move(info)} {}
  std::string name() const override { return "estimate_ram"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime, const ActivitySnapshot& a, std::span<Reading> out) override {
    if (out.empty()) return;
    const double activity = a.ok ? busy_.Update(a) : busy_.last();
    out[0] = Reading::Estimate(model_.At(activity), model_.Low(), model_.High());
  }

 private:
  RamModel model_;
  std::vector<ChannelInfo> infos_;
  sources::BusyFraction busy_;
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

// Populated modules as EDAC lists them (dimmN/size in MiB, 0 = empty slot).
int EdacDimms(const SourceOptions& opts) {
  const std::string base = opts.roots.Sys("devices/system/edac/mc");
  Result<std::vector<std::string>> mcs = opts.fs->ListDir(base);
  if (!mcs.ok()) return 0;
  int n = 0;
  for (const std::string& mc : *mcs) {
    if (!mc.starts_with("mc")) continue;
    Result<std::vector<std::string>> dimms = opts.fs->ListDir(base + "/" + mc);
    if (!dimms.ok()) continue;
    for (const std::string& d : *dimms) {
      if (!d.starts_with("dimm") && !d.starts_with("rank")) continue;
      Result<std::string> size = opts.fs->ReadFile(base + "/" + mc + "/" + d + "/size");
      if (!size.ok()) continue;
      Result<unsigned long long> mib = ParseUnsigned(*size, "size");
      if (mib.ok() && *mib > 0) ++n;
    }
  }
  return n;
}

// Modules of the size machines with this much memory usually carry.
double GuessDimms(double gib) {
  const double module = gib <= 32 ? 8 : gib <= 128 ? 16 : gib <= 512 ? 32 : 64;
  return std::clamp(std::round(gib / module), 1.0, 48.0);
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

  RamModel m;
  if (in.ram_power_override) {
    m.constant = true;
    m.watts = in.ram_power_override->watts();
    info.model["model"] = "constant";
    info.model["source"] = "user-set constant RAM power (SourceOptions::ram_power_override)";
    info.model_inputs["watts"] = m.watts;
    info.label = fmt::format("RAM power (user-set {:g} W)", m.watts);
    r.reason = fmt::format("constant {:g} W set by the user", m.watts);
  } else {
    auto bytes = MemTotalBytes(opts);
    if (!bytes.ok()) {
      r.reason = "cannot read installed memory: " + bytes.status().ToString();
      return r;
    }
    m.gib = static_cast<double>(*bytes) / kGiB;
    const int edac = EdacDimms(opts);
    m.dimms = edac > 0 ? edac : GuessDimms(m.gib);
    info.model["model"] = "dimms x (idle + (stream - idle) x activity)";
    info.model["activity"] = "the machine's CPU busy fraction, a proxy for memory traffic";
    info.model["source"] =
        "McCalpin, RAPL DRAM of DDR4-2133 RDIMMs vs Micron's power calculator (TACC HPCPerfStats issue 9): "
        "0.92-1.07 W/DIMM idle, 3.37-4.52 W/DIMM under STREAM; high bound also 91 W per TiB (MICRO'21)";
    info.model["dimms_from"] = edac > 0 ? "EDAC (" + opts.roots.Sys("devices/system/edac/mc") + ")"
                                        : "guessed from MemTotal (module size by memory size)";
    info.model_inputs["dimms"] = m.dimms;
    info.model_inputs["mem_total_gib"] = m.gib;
    info.model_inputs["idle_w_per_dimm"] = kIdleWPerDimm;
    info.model_inputs["stream_w_per_dimm"] = kStreamWPerDimm;
    info.label = fmt::format("RAM power model ({:g} DIMMs, {:.3g}-{:.3g} W)", m.dimms, m.At(0), m.At(1));
    r.reason = fmt::format("{:g} DIMMs ({}) of {:.3f} GiB: {:.3g} W idle to {:.3g} W busy, bounds {:.3g}-{:.3g} W",
                           m.dimms, edac > 0 ? "EDAC" : "guessed", m.gib, m.At(0), m.At(1), m.Low(), m.High());
  }
  info.model_inputs["low_w"] = m.Low();
  info.model_inputs["high_w"] = m.High();
  // A model cannot exceed its own high bound; the DRAM default would wrongly
  // cut a large machine's (or a user's constant) figure.
  info.power_ceiling = Power::Watts(2.0 * std::max(m.High(), m.At(1.0)));
  info.power_ceiling_source = "2 x the model's highest figure";
  r.state = ProbeState::kFound;
  r.source = std::make_unique<EstimateRamSource>(m, std::move(info));
  return r;
}

}  // namespace wattprint
