// AMD GPUs through ROCm SMI (librocm_smi64, loaded at run time).
//
// One channel per GPU. Energy is rsmi_dev_energy_count_get's accumulator
// times its resolution (µJ per count) where supported; otherwise the
// average power of rsmi_dev_power_ave_get (µW), integrated by the ledger,
// and the channel's model says why. Utilisation (busy percent) and VRAM in
// use ride along with each reading. ROCm SMI has no per-process GPU
// activity, so the tree's share is unknown: the device figure is given, the
// process figure is not (never the whole device charged to the tree).
// Without the library, hwmon's amdgpu power sensors take over (hwmon.cpp).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "sources/gpu_ids.h"
#include "wattprint/ledger.h"
#include "sources/probes.h"
#include "sources/rocm_smi_api.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

using rsmi::Return;

struct AmdGpu {
  uint32_t index = 0;
  bool counter = false;
};

class RocmSmiSource final : public Source {
 public:
  RocmSmiSource(std::shared_ptr<rsmi::Library> lib, std::vector<AmdGpu> gpus, std::vector<ChannelInfo> infos)
      : lib_(std::move(lib)), gpus_(std::move(gpus)), infos_(std::move(infos)) {}
  std::string name() const override { return "rocm_smi"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) override {
    for (size_t i = 0; i < gpus_.size() && i < out.size(); ++i) out[i] = Read(gpus_[i]);
  }

 private:
  Reading Read(const AmdGpu& g) const {
    const rsmi::Api& a = lib_->api();
    Reading r;
    if (g.counter) {
      uint64_t count = 0, ts = 0;
      float res = 0;
      const Return rc = a.energy_count(g.index, &count, &res, &ts);
      if (rc != rsmi::kSuccess) return Reading::Unavailable(lib_->ToStatus(rc, "rsmi_dev_energy_count_get"));
      r = Reading::Of(static_cast<double>(count) * static_cast<double>(res) * 1e-6);  // µJ -> J
    } else {
      uint64_t uw = 0;
      const Return rc = a.power_ave(g.index, 0, &uw);
      if (rc != rsmi::kSuccess) return Reading::Unavailable(lib_->ToStatus(rc, "rsmi_dev_power_ave_get"));
      r = Reading::Of(static_cast<double>(uw) * 1e-6);  // µW -> W
    }
    uint32_t busy = 0;
    if (a.busy_percent && a.busy_percent(g.index, &busy) == rsmi::kSuccess) r.utilization = busy / 100.0;
    uint64_t used = 0;
    if (a.memory_usage && a.memory_usage(g.index, rsmi::kMemTypeVram, &used) == rsmi::kSuccess) {
      r.memory_used_bytes = static_cast<double>(used);
    }
    // No per-process data: the tree's share is unknown (never the whole GPU).
    return r;
  }

  std::shared_ptr<rsmi::Library> lib_;
  std::vector<AmdGpu> gpus_;
  std::vector<ChannelInfo> infos_;
};

struct Scan {
  std::vector<std::string> notes;
  bool denied = false;
};

bool ChooseEnergy(const rsmi::Library& lib, AmdGpu* g, ChannelInfo* info, Scan* s) {
  const rsmi::Api& a = lib.api();
  std::string no_counter = "rsmi_dev_energy_count_get missing from " + lib.path();
  if (a.energy_count) {
    uint64_t count = 0, ts = 0;
    float res = 0;
    const Return rc = a.energy_count(g->index, &count, &res, &ts);
    if (rc == rsmi::kSuccess && res > 0) {
      g->counter = true;
      info->type = ChannelType::kEnergyCounter;
      info->method = Method::kMeasuredCounter;
      info->model["energy"] = fmt::format("rsmi_dev_energy_count_get x {} µJ per count", res);
      return true;
    }
    s->denied = s->denied || rc == rsmi::kPermission;
    no_counter = rc == rsmi::kSuccess ? "rsmi_dev_energy_count_get: resolution 0"
                                      : "rsmi_dev_energy_count_get: " + lib.ErrorText(rc);
  }
  std::string no_power = "rsmi_dev_power_ave_get missing";
  if (a.power_ave) {
    uint64_t uw = 0;
    const Return rc = a.power_ave(g->index, 0, &uw);
    if (rc == rsmi::kSuccess) {
      info->type = ChannelType::kPower;
      info->method = Method::kMeasuredPower;
      info->model["energy"] = "rsmi_dev_power_ave_get (µW) integrated over each interval; " + no_counter;
      return true;
    }
    s->denied = s->denied || rc == rsmi::kPermission;
    no_power = "rsmi_dev_power_ave_get: " + lib.ErrorText(rc);
  }
  s->notes.push_back(fmt::format("GPU {} not measured: {}; {}", g->index, no_counter, no_power));
  return false;
}

ChannelInfo MakeInfo(const rsmi::Library& lib, uint32_t i) {
  const rsmi::Api& a = lib.api();
  ChannelInfo info;
  info.device_id = fmt::format("gpu-{}", i);
  info.id = "rocm_smi:" + info.device_id;
  info.kind = DeviceKind::kGpu;
  info.path = lib.path();
  char name[256] = {};
  std::string n = a.name && a.name(i, name, sizeof name - 1) == rsmi::kSuccess ? std::string(name) : "";
  info.label = fmt::format("GPU {} {}", i, n.empty() ? std::string("(unnamed)") : n);
  info.model["name"] = n;
  info.model_inputs["index"] = i;
  uint64_t v = 0;
  if (a.unique_id && a.unique_id(i, &v) == rsmi::kSuccess) info.model["uuid"] = fmt::format("0x{:x}", v);
  if (a.power_cap && a.power_cap(i, 0, &v) == rsmi::kSuccess && v > 0) {
    info.model_inputs["power_limit_w"] = v * 1e-6;
    // The cap can be raised during a run: twice it, never below the default.
    const Power twice = Power::Microwatts(2.0 * static_cast<double>(v));
    const Power floor = DefaultPowerCeiling(DeviceKind::kGpu);
    info.power_ceiling = twice > floor ? twice : floor;
    info.power_ceiling_source = twice > floor ? "2 x the ROCm SMI power cap" : "default for the kind";
  }
  if (a.memory_total && a.memory_total(i, rsmi::kMemTypeVram, &v) == rsmi::kSuccess) {
    info.model_inputs["memory_total_bytes"] = static_cast<double>(v);
  }
  info.model["process_attribution"] =
      "unknown: ROCm SMI has no per-process GPU activity; the device figure is given, the process figure is not";
  return info;
}

// The indices --gpu-ids selects (UUIDs are NVIDIA's and are skipped).
std::vector<uint32_t> Select(const SourceOptions& opts, uint32_t count, Scan* s) {
  std::vector<uint32_t> out;
  if (opts.gpu_ids.empty()) {
    for (uint32_t i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  for (const GpuSelector& g : opts.gpu_ids) {
    if (g.kind != sources::GpuSelector::Kind::kIndex || g.index >= count) {
      s->notes.push_back(g.text + ": no such AMD GPU");
    } else if (std::find(out.begin(), out.end(), g.index) == out.end()) {
      out.push_back(g.index);
    }
  }
  return out;
}

ProbeResult Denied(std::string reason) {
  ProbeResult r;
  r.state = ProbeState::kDenied;
  r.unmeasured = {DeviceKind::kGpu};
  r.reason = std::move(reason);
  r.fix = "run as a user in the video and render groups (sudo usermod -aG video,render $USER)";
  return r;
}

}  // namespace

ProbeResult ProbeRocmSmi(const SourceOptions& opts, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  if (covered.count(DeviceKind::kGpu)) {
    r.reason = "gpu already measured by an earlier source";
    return r;
  }
  // No amdgpu kernel driver, no GPU for ROCm SMI: skip the library search
  // (see ProbeNvml). A configured library path is always tried.
  if (opts.rocm_smi_library.empty()) {
    const std::shared_ptr<FileSystem> fs = opts.fs ? opts.fs : PosixFileSystem();
    const std::string driver = opts.roots.Sys("module/amdgpu/initstate");
    if (!fs->ReadFile(driver).ok()) {
      r.reason = "no amdgpu kernel driver (" + driver + " unreadable); ROCm SMI not loaded";
      return r;
    }
  }
  Result<std::shared_ptr<rsmi::Library>> lib = rsmi::Load(opts.rocm_smi_library);
  if (!lib.ok()) {
    if (lib.status().code() == Status::Code::kPermissionDenied) return Denied(lib.status().message());
    r.reason = lib.status().message();
    return r;
  }
  uint32_t count = 0;
  const Return rc = (*lib)->api().num_devices(&count);
  if (rc != rsmi::kSuccess || count == 0) {
    r.reason = rc != rsmi::kSuccess ? "rsmi_num_monitor_devices: " + (*lib)->ErrorText(rc)
                                    : "ROCm SMI loaded (" + (*lib)->path() + ") but it reports no GPU";
    return r;
  }
  Scan s;
  std::vector<AmdGpu> gpus;
  std::vector<ChannelInfo> infos;
  std::vector<std::string> found;
  for (uint32_t i : Select(opts, count, &s)) {
    AmdGpu g{i, false};
    ChannelInfo info = MakeInfo(**lib, i);
    if (!ChooseEnergy(**lib, &g, &info, &s)) continue;
    found.push_back(fmt::format("{} ({})", info.label, g.counter ? "energy counter" : "power only"));
    gpus.push_back(g);
    infos.push_back(std::move(info));
  }
  const std::string notes = s.notes.empty() ? "" : "; " + sources::Join(s.notes, "; ");
  if (gpus.empty()) {
    std::string why = fmt::format("ROCm SMI: {} GPU(s), none measurable{}", count, notes);
    if (s.denied) return Denied(why);
    r.reason = why;
    r.unmeasured = {DeviceKind::kGpu};
    return r;
  }
  r.state = ProbeState::kFound;
  r.reason = "ROCm SMI (" + (*lib)->path() + "): " + sources::Join(found, ", ") + notes;
  r.source = std::make_unique<RocmSmiSource>(*lib, std::move(gpus), std::move(infos));
  return r;
}

}  // namespace wattprint
