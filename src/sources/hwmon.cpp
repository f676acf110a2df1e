// Energy and power sensors under /sys/class/hwmon for the drivers whose
// meaning is known:
//   amd_energy   AMD Zen RAPL (out-of-tree after Linux 5.13): energyN_input
//                µJ, labels "Esocket0" (package) and "Ecore000" (per core).
//   ibmpowernv   IBM POWER OCC sensors: labels "System", "Proc 0", "Mem 0",
//                "GPU 0" on powerN_input (µW) and energyN_input (µJ).
//   NVIDIA Grace ACPI power meters ("power_meter", attributes under
//                device/) labelled "Module|Grace|CPU|SysIO Power Socket N".
//   i915, xe     Intel discrete GPUs: energy1_input µJ, label "card"/"pkg".
//   amdgpu       AMD GPUs: power1_average (µW, the SMU's average) or, on
//                newer kernels, power1_input, label "PPT" ("slowPPT" /
//                "fastPPT" on APUs); no energy attribute. The fallback
//                when ROCm SMI, earlier in the source table, is absent.
// Other drivers are ignored: their sensors (fans, temperatures, PSU rails)
// cannot be mapped to a device without guessing.
//
// Per device the energy counter is preferred to a power reading: a counter
// loses nothing between polls, a power reading is a sample.
#include <algorithm>
#include <map>
#include <optional>

#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

using sources::SysfsChannel;

// amd_energy reports energy_ctr * 1e6 / 2^ESU computed in u64 (kernel
// drivers/hwmon/amd_energy.c, 2020), so the µJ value wraps at 2^64 / 2^ESU.
// ESU is 16 on Zen/Zen2/Zen3 (RAPL_PWR_UNIT, AMD PPR 17h/19h): 2^48 µJ.
constexpr double kAmdEnergyWrapUj = 281474976710656.0;  // 2^48

struct Sensor {
  bool energy = false;  // energyN_input (µJ) vs powerN_input/average (µW)
  std::string file;     // full path of the value file
  std::string label;    // from *_label or *_oem_info; may be empty
};

// What a sensor measures, once its driver's naming is understood.
struct Mapping {
  DeviceKind kind;
  std::string device_id;
  std::string what;  // label prefix: "CPU socket 0"
  int rank = 0;      // lower wins among sensors of one device
};

struct Device {
  std::string dir_name;  // "hwmon3"
  std::string dir;
  std::string driver;
  std::vector<Sensor> sensors;
};

bool Contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

std::string Slug(std::string_view s) {
  std::string out;
  for (char c : s) out += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Esocket0" -> package-0; "Ecore007" -> nothing (cores are inside sockets).
std::optional<Mapping> MapAmdEnergy(const Sensor& s) {
  std::vector<int> socket = sources::IndicesAfter(s.label, "Esocket");
  if (!s.energy || socket.size() != 1) return std::nullopt;
  std::string n = std::to_string(socket[0]);
  return Mapping{DeviceKind::kCpu, "package-" + n, "CPU package " + n, 0};
}

std::optional<Mapping> MapIbmPowerNv(const Sensor& s) {
  const std::string& l = s.label;
  std::string id = "powernv-" + Slug(l);
  if (Contains(l, "System")) return Mapping{DeviceKind::kPlatform, id, "Platform " + l, 0};
  if (Contains(l, "Proc") || Contains(l, "Chip")) return Mapping{DeviceKind::kCpu, id, "CPU " + l, 0};
  if (Contains(l, "Mem")) return Mapping{DeviceKind::kDram, id, "Memory " + l, 0};
  if (Contains(l, "GPU")) return Mapping{DeviceKind::kGpu, id, "GPU " + l, 0};
  return std::nullopt;
}

// "Grace Power Socket 1": the whole Grace socket; "CPU Power Socket 1": its
// CPU rail only, used when the socket total is missing. SysIO is part of the
// Grace socket figure and is skipped.
std::optional<Mapping> MapGrace(const Sensor& s) {
  const std::string& l = s.label;
  size_t at = l.rfind("Power Socket ");
  if (at == std::string::npos) return std::nullopt;
  std::vector<int> sock = sources::IndicesAfter(std::string_view(l).substr(at), "Power Socket ");
  if (sock.size() != 1) return std::nullopt;
  std::string n = std::to_string(sock[0]);
  if (l.starts_with("Module")) return Mapping{DeviceKind::kPlatform, "module-" + n, "Module socket " + n, 0};
  if (l.starts_with("Grace")) return Mapping{DeviceKind::kCpu, "package-" + n, "Grace socket " + n, 0};
  if (l.starts_with("CPU")) return Mapping{DeviceKind::kCpu, "package-" + n, "Grace CPU rail socket " + n, 1};
  return std::nullopt;
}

std::optional<Mapping> MapIntelGpu(const Device& d, const Sensor& s) {
  if (!s.energy) return std::nullopt;
  int rank = s.label == "card" ? 0 : s.label == "pkg" ? 1 : s.label.empty() ? 2 : -1;
  if (rank < 0) return std::nullopt;
  return Mapping{DeviceKind::kGpu, "gpu-" + d.dir_name, "GPU " + d.driver + (s.label.empty() ? "" : " " + s.label), rank};
}

// Package power tracking: "PPT" on discrete GPUs; "slowPPT" is the APU's
// averaged figure and preferred to the instantaneous "fastPPT".
std::optional<Mapping> MapAmdGpu(const Device& d, const Sensor& s) {
  if (s.energy) return std::nullopt;
  const int rank = s.label.empty() || s.label == "PPT" ? 0 : s.label == "slowPPT" ? 1 : s.label == "fastPPT" ? 2 : -1;
  if (rank < 0) return std::nullopt;
  return Mapping{DeviceKind::kGpu, "gpu-" + d.dir_name, "GPU amdgpu" + (s.label.empty() ? "" : " " + s.label), rank};
}

bool IsGrace(const Device& d) {
  if (d.driver == "grace") return true;
  return std::any_of(d.sensors.begin(), d.sensors.end(),
                     [](const Sensor& s) { return Contains(s.label, "Power Socket "); });
}

bool KnownDriver(const Device& d) {
  return d.driver == "amd_energy" || d.driver == "ibmpowernv" || d.driver == "i915" || d.driver == "xe" ||
         d.driver == "amdgpu" || IsGrace(d);
}

std::optional<Mapping> MapSensor(const Device& d, const Sensor& s) {
  if (d.driver == "amd_energy") return MapAmdEnergy(s);
  if (d.driver == "ibmpowernv") return MapIbmPowerNv(s);
  if (d.driver == "i915" || d.driver == "xe") return MapIntelGpu(d, s);
  if (d.driver == "amdgpu") return MapAmdGpu(d, s);
  if (IsGrace(d)) return MapGrace(s);
  return std::nullopt;
}

// Label of `stem` ("energy1") from stem_label, else stem_oem_info (ACPI).
std::string LabelOf(const FileSystem& fs, const std::string& dir, const std::string& stem) {
  Result<std::string> l = sources::ReadTrimmed(fs, dir + "/" + stem + "_label");
  if (!l.ok()) l = sources::ReadTrimmed(fs, dir + "/" + stem + "_oem_info");
  return l.ok() ? *l : std::string();
}

// Sensors in `dir`. powerN_input is preferred to powerN_average.
void CollectSensors(const FileSystem& fs, const std::string& dir, std::vector<Sensor>* out) {
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return;
  std::set<std::string> files(names->begin(), names->end());
  for (const std::string& f : files) {
    bool energy = f.starts_with("energy") && f.ends_with("_input");
    bool power = f.starts_with("power") && (f.ends_with("_input") || f.ends_with("_average"));
    if (!energy && !power) continue;
    std::string stem = f.substr(0, f.find('_'));
    if (f.ends_with("_average") && files.count(stem + "_input")) continue;
    out->push_back(Sensor{energy, dir + "/" + f, LabelOf(fs, dir, stem)});
  }
}

std::optional<Device> ReadDevice(const FileSystem& fs, const std::string& root, const std::string& name) {
  Device d{name, SystemRoots::Join(root, name), "", {}};
  Result<std::string> driver = sources::ReadTrimmed(fs, d.dir + "/name");
  if (!driver.ok()) driver = sources::ReadTrimmed(fs, d.dir + "/device/name");
  if (!driver.ok()) return std::nullopt;
  d.driver = *driver;
  CollectSensors(fs, d.dir, &d.sensors);
  // Older drivers (acpi_power_meter) keep their attributes on the device.
  if (d.sensors.empty()) CollectSensors(fs, d.dir + "/device", &d.sensors);
  return d;
}

struct Candidate {
  Mapping map;
  const Device* device;
  const Sensor* sensor;
  int priority;  // energy counters before power readings, then the driver's rank
};

// Every sensor of a known driver whose meaning is known. Explains unknown
// drivers and skipped per-core counters in `notes`.
void AddCandidates(const Device& d, std::vector<Candidate>* out, std::vector<std::string>* notes) {
  if (!KnownDriver(d)) {
    if (!d.sensors.empty()) notes->push_back(d.driver + " (" + d.dir_name + ") ignored: unknown driver");
    return;
  }
  size_t cores = 0;
  for (const Sensor& s : d.sensors) {
    cores += d.driver == "amd_energy" && Contains(s.label, "Ecore");
    std::optional<Mapping> m = MapSensor(d, s);
    if (m) out->push_back(Candidate{*m, &d, &s, (s.energy ? 0 : 100) + m->rank});
  }
  if (cores) notes->push_back(std::to_string(cores) + " amd_energy per-core counters not used (inside the sockets)");
}

// The best sensor per device id, in first-seen order. Grace publishes each
// rail as its own hwmon device, so this looks across devices.
std::vector<Candidate> BestPerDevice(const std::vector<Candidate>& all) {
  std::vector<Candidate> best;
  for (const Candidate& c : all) {
    auto it = std::find_if(best.begin(), best.end(),
                           [&](const Candidate& b) { return b.map.device_id == c.map.device_id; });
    if (it == best.end()) {
      best.push_back(c);
    } else if (c.priority < it->priority) {
      *it = c;
    }
  }
  return best;
}

struct Scan {
  std::vector<SysfsChannel> channels;
  std::vector<std::string> notes;
  std::vector<std::string> denied;
};

// Twice the largest power cap the device states (powerN_cap_max, else
// powerN_cap, in µW), as the channel's ceiling; none readable leaves the
// kind's default.
void SetCeiling(const FileSystem& fs, const Device& d, ChannelInfo* info) {
  std::vector<std::string> files;
  for (int n = 1; n <= 8; ++n) {
    for (const char* what : {"_cap_max", "_cap"}) files.push_back(d.dir + "/power" + std::to_string(n) + what);
  }
  sources::SetCeilingFromMicrowatts(fs, files, info);
}

void AddChannel(const FileSystem& fs, const Candidate& c, Scan* scan) {
  const Sensor& s = *c.sensor;
  const Device& d = *c.device;
  Result<std::unique_ptr<FileHandle>> h = fs.Open(s.file);
  if (!h.ok()) {
    if (h.status().code() == Status::Code::kPermissionDenied) scan->denied.push_back(s.file);
    scan->notes.push_back(h.status().message());
    return;
  }
  // Found only if it reads now; otherwise the next source fills in.
  if (Status first = sources::FirstReadParses(**h, s.file); !first.ok()) {
    scan->notes.push_back(first.message() + ", skipped");
    return;
  }
  SysfsChannel ch;
  ch.info.device_id = c.map.device_id;
  ch.info.id = "hwmon:" + c.map.device_id;
  ch.info.label = c.map.what + " (" + d.driver + ", " + d.dir_name + ")";
  ch.info.kind = c.map.kind;
  ch.info.type = s.energy ? ChannelType::kEnergyCounter : ChannelType::kPower;
  ch.info.method = s.energy ? Method::kMeasuredCounter : Method::kMeasuredPower;
  // No hwmon energy attribute publishes its range; only amd_energy's is
  // known from the driver's arithmetic (see kAmdEnergyWrapUj).
  if (s.energy && d.driver == "amd_energy") ch.info.wrap_range = Energy::Microjoules(kAmdEnergyWrapUj);
  ch.info.path = s.file;
  SetCeiling(fs, d, &ch.info);
  ch.handle = std::move(h).value();
  ch.file = s.file;
  ch.scale = 1e-6;  // µJ -> J, µW -> W
  scan->channels.push_back(std::move(ch));
}

void OpenBest(const FileSystem& fs, const std::vector<Candidate>& all, const std::set<DeviceKind>& covered,
              Scan* scan) {
  for (const Candidate& c : BestPerDevice(all)) {
    if (covered.count(c.map.kind)) {
      scan->notes.push_back(c.map.what + " (" + c.device->driver + ") not used: " + ToString(c.map.kind) +
                            " already measured by an earlier source");
      continue;
    }
    AddChannel(fs, c, scan);
  }
}

// hwmon0, hwmon1, ..., hwmon10 in numeric order.
std::vector<std::string> HwmonDirs(const std::vector<std::string>& names) {
  std::vector<std::pair<int, std::string>> dirs;
  for (const std::string& n : names) {
    std::vector<int> idx = sources::IndicesAfter(n, "hwmon");
    if (idx.size() == 1) dirs.emplace_back(idx[0], n);
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<std::string> out;
  for (auto& [i, n] : dirs) out.push_back(n);
  return out;
}

}  // namespace

ProbeResult ProbeHwmon(const SourceOptions& opts, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  const FileSystem& fs = *opts.fs;
  std::string root = opts.roots.Sys("class/hwmon");
  Result<std::vector<std::string>> names = fs.ListDir(root);
  if (!names.ok()) {
    r.reason = "no hwmon devices: " + names.status().message();
    return r;
  }
  std::vector<Device> devices;
  for (const std::string& n : HwmonDirs(*names)) {
    std::optional<Device> d = ReadDevice(fs, root, n);
    if (d) devices.push_back(std::move(*d));
  }
  Scan scan;
  std::vector<Candidate> candidates;  // points into `devices`, which no longer changes
  for (const Device& d : devices) AddCandidates(d, &candidates, &scan.notes);
  OpenBest(fs, candidates, covered, &scan);
  if (scan.channels.empty() && !scan.denied.empty()) {
    r.state = ProbeState::kDenied;
    r.reason = "hwmon energy/power sensors exist but cannot be read: " + sources::Join(scan.denied, ", ");
    r.fix = "sudo chmod o+r " + sources::Join(scan.denied, " ");
    return r;
  }
  if (scan.channels.empty()) {
    r.reason = "no known energy or power sensor";
    if (!scan.notes.empty()) r.reason += "; " + sources::Join(scan.notes, "; ");
    return r;
  }
  std::vector<std::string> labels;
  for (const SysfsChannel& c : scan.channels) labels.push_back(c.info.label);
  r.state = ProbeState::kFound;
  r.reason = "hwmon: " + sources::Join(labels, ", ");
  if (!scan.notes.empty()) r.reason += "; " + sources::Join(scan.notes, "; ");
  r.source = std::make_unique<sources::SysfsSource>("hwmon", std::move(scan.channels), opts.fs);
  return r;
}

}  // namespace wattprint
