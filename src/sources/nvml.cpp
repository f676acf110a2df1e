// NVIDIA GPUs through NVML (libnvidia-ml, loaded at run time).
//
// One channel per physical GPU. Energy comes from
// nvmlDeviceGetTotalEnergyConsumption (mJ since the driver was loaded,
// Volta and later) where the device supports it; otherwise from
// nvmlDeviceGetPowerUsage (mW), which the ledger integrates with the
// trapezoid rule, and the channel's model says why. Per poll the channel
// also carries the device's utilisation and memory in use, and the
// tracked process tree's share of the GPU (nvmlDeviceGetProcessUtilization
// and the running compute processes), or the whole device with a labelled
// note where NVML has no per-process data (MIG, permissions).
//
// A GPU that falls off the bus (NVML_ERROR_GPU_IS_LOST) makes its channel
// unavailable with that reason; the energy measured before stays in the
// ledger.
#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "sources/gpu_ids.h"
#include "wattprint/ledger.h"
#include "sources/nvml_api.h"
#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

using nvml::Return;

// How the tree's share of a GPU is found, for the whole run.
enum class ShareMethod { kNone, kSm, kMemory };

// NVML returns only the per-process samples newer than the last poll's
// timestamp, and its sample period can be longer than ours: a poll with no
// fresh sample keeps the last share for this long, then takes the GPU as
// idle for everybody (NOT_FOUND means no process was busy).
constexpr auto kShareCarry = std::chrono::seconds(5);

struct Gpu {
  nvml::Device handle = nullptr;
  unsigned int index = 0;
  std::string name;
  std::string uuid;
  std::vector<std::string> mig_uuids;  // selected MIG instances on this GPU
  bool counter = false;                // energy counter usable, else power
  ShareMethod share = ShareMethod::kNone;
  double memory_total_bytes = 0.0;
  unsigned long long last_sample_us = 0;
  double last_share = -1.0;  // the last share from fresh samples; < 0 = none yet
  SteadyTime last_fresh;
};

std::string Text(const char* buf) { return std::string(buf, strnlen(buf, nvml::kNameBufferSize)); }

class NvmlSource final : public Source {
 public:
  NvmlSource(std::shared_ptr<nvml::Library> lib, std::vector<Gpu> gpus, std::vector<ChannelInfo> infos)
      : lib_(std::move(lib)), gpus_(std::move(gpus)), infos_(std::move(infos)) {}
  std::string name() const override { return "nvml"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime now, const ActivitySnapshot& activity, std::span<Reading> out) override {
    for (size_t i = 0; i < gpus_.size() && i < out.size(); ++i) out[i] = Read(gpus_[i], now, activity);
  }

 private:
  Reading Read(Gpu& g, SteadyTime now, const ActivitySnapshot& activity);
  // The tree's share by the GPU's method; negative when unknown.
  double Share(Gpu& g, SteadyTime now, const ActivitySnapshot& activity);

  std::shared_ptr<nvml::Library> lib_;
  std::vector<Gpu> gpus_;
  std::vector<ChannelInfo> infos_;
};

Reading NvmlSource::Read(Gpu& g, SteadyTime now, const ActivitySnapshot& activity) {
  const nvml::Api& a = lib_->api();
  Reading r;
  if (g.counter) {
    unsigned long long mj = 0;
    const Return rc = a.get_total_energy(g.handle, &mj);
    if (rc != nvml::kSuccess) return Reading::Unavailable(lib_->ToStatus(rc, "nvmlDeviceGetTotalEnergyConsumption"));
    r = Reading::Of(static_cast<double>(mj) * 1e-3);  // mJ -> J
  } else {
    unsigned int mw = 0;
    const Return rc = a.get_power_usage(g.handle, &mw);
    if (rc != nvml::kSuccess) return Reading::Unavailable(lib_->ToStatus(rc, "nvmlDeviceGetPowerUsage"));
    r = Reading::Of(static_cast<double>(mw) * 1e-3);  // mW -> W
  }
  nvml::Utilization u{};
  if (a.get_utilization && a.get_utilization(g.handle, &u) == nvml::kSuccess) r.utilization = u.gpu / 100.0;
  nvml::Memory m{};
  if (a.get_memory_info && a.get_memory_info(g.handle, &m) == nvml::kSuccess) {
    r.memory_used_bytes = static_cast<double>(m.used);
  }
  if (activity.tree_ok) r.process_share = Share(g, now, activity);
  return r;
}

double NvmlSource::Share(Gpu& g, SteadyTime now, const ActivitySnapshot& activity) {
  const nvml::Api& a = lib_->api();
  bool ok = false;
  if (g.share == ShareMethod::kSm) {
    const std::vector<std::pair<int, double>> samples = nvml::ProcessSmSamples(a, g.handle, &g.last_sample_us, &ok);
    if (!ok) return -1.0;  // the query failed: unknown, not another method
    if (!samples.empty()) {
      g.last_share = sources::TreeSmShare(samples, activity.tree_pids);
      g.last_fresh = now;
      return g.last_share;
    }
    if (g.last_share >= 0.0 && now - g.last_fresh <= kShareCarry) return g.last_share;
    return 0.0;  // no process busy on the GPU: idle, unattributed
  }
  if (g.share == ShareMethod::kMemory) {
    const std::vector<std::pair<int, double>> procs = nvml::ComputeProcesses(a, g.handle, &ok);
    if (!ok) return -1.0;
    return sources::TreeMemoryShare(procs, activity.tree_pids, g.memory_total_bytes).value_or(-1.0);
  }
  return -1.0;
}

// ---- Discovery ------------------------------------------------------------

struct Scan {
  std::shared_ptr<nvml::Library> lib;
  unsigned int count = 0;
  std::vector<Gpu> all;  // every GPU NVML enumerates, by index
  std::vector<std::string> notes;
  bool denied = false;
};

Gpu Describe(const nvml::Library& lib, nvml::Device d, unsigned int index) {
  const nvml::Api& a = lib.api();
  Gpu g;
  g.handle = d;
  g.index = index;
  char buf[nvml::kNameBufferSize] = {};
  if (a.get_name && a.get_name(d, buf, sizeof buf) == nvml::kSuccess) g.name = Text(buf);
  std::memset(buf, 0, sizeof buf);
  if (a.get_uuid && a.get_uuid(d, buf, sizeof buf) == nvml::kSuccess) g.uuid = Text(buf);
  return g;
}

void Enumerate(Scan* s) {
  const nvml::Api& a = s->lib->api();
  for (unsigned int i = 0; i < s->count; ++i) {
    nvml::Device d = nullptr;
    const Return rc = a.get_handle_by_index(i, &d);
    if (rc != nvml::kSuccess) {
      s->denied = s->denied || rc == nvml::kErrorNoPermission;
      s->notes.push_back(fmt::format("GPU {}: {}", i, s->lib->ErrorText(rc)));
      continue;
    }
    s->all.push_back(Describe(*s->lib, d, i));
  }
}

// The GPU a MIG UUID lives on, or nullptr with a note.
Gpu* ResolveMig(Scan* s, const sources::GpuSelector& sel) {
  const nvml::Api& a = s->lib->api();
  nvml::Device mig = nullptr, parent = nullptr;
  if (!a.get_handle_by_uuid || !a.get_parent_of_mig) {
    s->notes.push_back(sel.text + ": this NVML cannot resolve MIG UUIDs");
    return nullptr;
  }
  Return rc = a.get_handle_by_uuid(sel.uuid.c_str(), &mig);
  if (rc == nvml::kSuccess) rc = a.get_parent_of_mig(mig, &parent);
  if (rc != nvml::kSuccess) {
    s->notes.push_back(sel.text + ": " + s->lib->ErrorText(rc));
    return nullptr;
  }
  for (Gpu& g : s->all) {
    if (g.handle == parent) return &g;
  }
  s->notes.push_back(sel.text + ": its GPU is not enumerated");
  return nullptr;
}

Gpu* Resolve(Scan* s, const sources::GpuSelector& sel) {
  using K = sources::GpuSelector::Kind;
  if (sel.kind == K::kMigUuid) return ResolveMig(s, sel);
  std::vector<Gpu*> hits;
  for (Gpu& g : s->all) {
    if (sel.kind == K::kIndex ? g.index == sel.index : g.uuid.starts_with(sel.uuid)) hits.push_back(&g);
  }
  if (hits.size() == 1) return hits[0];
  s->notes.push_back(sel.text + (hits.empty() ? ": no such GPU" : ": matches several GPUs"));
  return nullptr;
}

// The GPUs the options select, in selection order, each once.
std::vector<Gpu> Select(Scan* s, const SourceOptions& opts, std::string* origin) {
  std::vector<sources::GpuSelector> sel;
  if (!opts.gpu_ids.empty()) {
    *origin = "--gpu-ids " + opts.gpu_ids_text;
    sel = opts.gpu_ids;
  } else if (opts.cuda_visible_devices) {
    *origin = "CUDA_VISIBLE_DEVICES=" + *opts.cuda_visible_devices;
    sel = sources::ParseCudaVisibleDevices(*opts.cuda_visible_devices);
  } else {
    return s->all;
  }
  std::vector<Gpu> out;
  for (const sources::GpuSelector& one : sel) {
    Gpu* g = Resolve(s, one);
    if (!g) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Gpu& o) { return o.index == g->index; });
    if (it == out.end()) {
      out.push_back(*g);
      it = out.end() - 1;
    }
    if (one.kind == sources::GpuSelector::Kind::kMigUuid) it->mig_uuids.push_back(one.uuid);
  }
  return out;
}

// How the GPU's energy can be read; false (with a note) when not at all.
bool ChooseEnergy(const nvml::Library& lib, Gpu* g, ChannelInfo* info, Scan* s) {
  const nvml::Api& a = lib.api();
  std::string why_not_counter = "nvmlDeviceGetTotalEnergyConsumption missing from " + lib.path();
  if (a.get_total_energy) {
    unsigned long long mj = 0;
    const Return rc = a.get_total_energy(g->handle, &mj);
    if (rc == nvml::kSuccess) {
      g->counter = true;
      info->type = ChannelType::kEnergyCounter;
      info->method = Method::kMeasuredCounter;
      info->model["energy"] = "nvmlDeviceGetTotalEnergyConsumption (mJ counter)";
      return true;
    }
    s->denied = s->denied || rc == nvml::kErrorNoPermission;
    why_not_counter = "nvmlDeviceGetTotalEnergyConsumption: " + lib.ErrorText(rc);
  }
  std::string why_not_power = "nvmlDeviceGetPowerUsage missing";
  if (a.get_power_usage) {
    unsigned int mw = 0;
    const Return rc = a.get_power_usage(g->handle, &mw);
    if (rc == nvml::kSuccess) {
      info->type = ChannelType::kPower;
      info->method = Method::kMeasuredPower;
      info->model["energy"] = "nvmlDeviceGetPowerUsage (mW) integrated over each interval; " + why_not_counter;
      return true;
    }
    s->denied = s->denied || rc == nvml::kErrorNoPermission;
    why_not_power = "nvmlDeviceGetPowerUsage: " + lib.ErrorText(rc);
  }
  s->notes.push_back(fmt::format("GPU {} not measured: {}; {}", g->index, why_not_counter, why_not_power));
  return false;
}

// The one method that finds the tree's share for the whole run, and the
// note that says which (or why the share is unknown).
void ChooseAttribution(const nvml::Library& lib, Gpu* g, ChannelInfo* info) {
  const nvml::Api& a = lib.api();
  std::string& note = info->model["process_attribution"];
  if (!g->mig_uuids.empty()) {
    note = "unknown: NVML gives no per-process utilisation on MIG instances; the device figure "
           "(other instances' work included) is given, the process figure is not";
    return;
  }
  std::string why_not_sm = "nvmlDeviceGetProcessUtilization missing";
  if (a.get_process_utilization) {
    nvml::ProcessUtilizationSample one{};
    unsigned int n = 1;
    const Return rc = a.get_process_utilization(g->handle, &one, &n, 0);
    if (rc != nvml::kErrorNoPermission && rc != nvml::kErrorNotSupported) {
      g->share = ShareMethod::kSm;
      note = "SM utilisation: each tree process's mean SM busy fraction "
             "(nvmlDeviceGetProcessUtilization), summed; idle unattributed";
      return;
    }
    why_not_sm = "nvmlDeviceGetProcessUtilization: " + lib.ErrorText(rc);
  }
  if (!a.compute_processes_symbol.empty() && g->memory_total_bytes > 0.0) {
    g->share = ShareMethod::kMemory;
    note = "GPU memory: the tree's memory of the running compute processes (" + a.compute_processes_symbol +
           ") over the GPU's total; " + why_not_sm;
    return;
  }
  note = "unknown: " + why_not_sm + ", and no running-process list with the GPU's memory size; the "
         "device figure is given, the process figure is not";
}

void AddFacts(const nvml::Library& lib, const Gpu& g, ChannelInfo* info) {
  const nvml::Api& a = lib.api();
  info->model["name"] = g.name;
  info->model["uuid"] = g.uuid;
  info->model_inputs["index"] = g.index;
  unsigned int mw = 0;
  if (a.get_power_limit && a.get_power_limit(g.handle, &mw) == nvml::kSuccess) {
    info->model_inputs["power_limit_w"] = mw * 1e-3;
    if (mw > 0) {
      // The enforced limit can be raised during a run (nvidia-smi -pl), so
      // the ceiling is twice it but never below the GPU default; the energy
      // counter has no range, so the ceiling only guards against jumps.
      const Power twice = Power::Milliwatts(2.0 * mw);
      const Power floor = DefaultPowerCeiling(DeviceKind::kGpu);
      info->power_ceiling = twice > floor ? twice : floor;
      info->power_ceiling_source = twice > floor ? "2 x the NVML power limit" : "default for the kind (2 x the NVML power limit is lower)";
    }
  }
  nvml::Memory m{};
  if (a.get_memory_info && a.get_memory_info(g.handle, &m) == nvml::kSuccess) {
    info->model_inputs["memory_total_bytes"] = static_cast<double>(m.total);
  }
  if (!g.mig_uuids.empty()) info->model["mig_instances"] = sources::Join(g.mig_uuids, ",");
}

ChannelInfo MakeInfo(const nvml::Library& lib, const Gpu& g) {
  ChannelInfo info;
  info.device_id = fmt::format("gpu-{}", g.index);
  info.id = "nvml:" + info.device_id;
  info.label = fmt::format("GPU {} {}", g.index, g.name.empty() ? std::string("(unnamed)") : g.name);
  info.kind = DeviceKind::kGpu;
  info.path = lib.path();
  AddFacts(lib, g, &info);
  return info;
}

ProbeResult Denied(std::string reason) {
  ProbeResult r;
  r.state = ProbeState::kDenied;
  r.unmeasured = {DeviceKind::kGpu};
  r.reason = std::move(reason);
  r.fix = "run as a user that can open /dev/nvidia* (the video group on most distributions), or "
          "ask the administrator to lift the NVML restriction (nvidia-smi -acp UNRESTRICTED)";
  return r;
}

}  // namespace

ProbeResult ProbeNvml(const SourceOptions& opts, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  if (covered.count(DeviceKind::kGpu)) {
    r.reason = "gpu already measured by an earlier source";
    return r;
  }
  // No kernel driver, no GPU for NVML to find: skip the library search,
  // which costs dozens of failed opens along the loader's paths at every
  // start. A configured library path is always tried (tests, odd installs).
  if (opts.nvml_library.empty()) {
    const std::shared_ptr<FileSystem> fs = opts.fs ? opts.fs : PosixFileSystem();
    const std::string driver = opts.roots.Proc("driver/nvidia/version");
    if (!fs->ReadFile(driver).ok()) {
      r.reason = "no NVIDIA kernel driver (" + driver + " unreadable); NVML not loaded";
      return r;
    }
  }
  Result<std::shared_ptr<nvml::Library>> lib = nvml::Load(opts.nvml_library);
  if (!lib.ok()) {
    if (lib.status().code() == Status::Code::kPermissionDenied) return Denied(lib.status().message());
    r.reason = lib.status().message();
    return r;
  }
  Scan s;
  s.lib = *lib;
  const Return rc = s.lib->api().get_count(&s.count);
  if (rc != nvml::kSuccess) {
    if (rc == nvml::kErrorNoPermission) return Denied("nvmlDeviceGetCount: " + s.lib->ErrorText(rc));
    r.reason = "nvmlDeviceGetCount: " + s.lib->ErrorText(rc);
    return r;
  }
  if (s.count == 0) {
    r.reason = "NVML loaded (" + s.lib->path() + ") but it reports no GPU";
    return r;
  }
  Enumerate(&s);
  std::string origin;
  std::vector<Gpu> chosen = Select(&s, opts, &origin);
  std::vector<Gpu> gpus;
  std::vector<ChannelInfo> infos;
  std::vector<std::string> found;
  for (Gpu& g : chosen) {
    nvml::Memory mem{};
    const nvml::Api& api = s.lib->api();
    if (api.get_memory_info && api.get_memory_info(g.handle, &mem) == nvml::kSuccess) {
      g.memory_total_bytes = static_cast<double>(mem.total);
    }
    ChannelInfo info = MakeInfo(*s.lib, g);
    if (!ChooseEnergy(*s.lib, &g, &info, &s)) continue;
    ChooseAttribution(*s.lib, &g, &info);
    found.push_back(fmt::format("{} ({})", info.label, g.counter ? "energy counter" : "power only"));
    gpus.push_back(g);
    infos.push_back(std::move(info));
  }
  std::string notes = s.notes.empty() ? "" : "; " + sources::Join(s.notes, "; ");
  std::string selected = origin.empty() ? "" : "; selected by " + origin;
  if (gpus.empty()) {
    std::string why = fmt::format("NVML: {} GPU(s), none measurable{}{}", s.count, selected, notes);
    if (s.denied) return Denied(why);
    r.reason = why;
    // A selection that names no GPU (CUDA_VISIBLE_DEVICES="") measures none:
    // 0, not unknown. GPUs chosen but unreadable are unknown.
    if (!chosen.empty() || !s.notes.empty()) r.unmeasured = {DeviceKind::kGpu};
    return r;
  }
  r.state = ProbeState::kFound;
  if (gpus.size() < chosen.size()) r.unmeasured = {DeviceKind::kGpu};  // some selected GPU unreadable
  r.reason = "NVML (" + s.lib->path() + "): " + sources::Join(found, ", ") + selected + notes;
  r.source = std::make_unique<NvmlSource>(s.lib, std::move(gpus), std::move(infos));
  return r;
}

}  // namespace wattprint
