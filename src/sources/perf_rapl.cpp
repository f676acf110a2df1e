// RAPL energy counters through the perf `power` PMU (perf_event_open(2),
// Linux >= 3.14; AMD since 5.8). Used when powercap is denied or absent:
// perf is governed by kernel.perf_event_paranoid / CAP_PERFMON instead of
// file modes, which some sites allow when they keep energy_uj root-only.
//
// The PMU describes itself in /sys/bus/event_source/devices/power:
//   type                 PMU number for perf_event_attr.type
//   cpumask              one CPU per package, e.g. "0,28" on two sockets
//   events/energy-pkg    "event=0x02"; .scale (J per count), .unit "Joules"
// Counts are 64-bit values the kernel accumulates from the 32-bit hardware
// register, so the channel is treated as non-wrapping: its range is
// 2^64 counts x scale.
#include <algorithm>
#include <charconv>

#include "sources/perf_event_api.h"
#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

constexpr const char* kPmuDir = "bus/event_source/devices/power";
constexpr double kTwoTo64 = 18446744073709551616.0;

constexpr const char* kDeniedFix =
    "sudo sysctl kernel.perf_event_paranoid=0\n"
    "or, to allow only wattprint: sudo setcap cap_perfmon=ep $(command -v wattprint)";

// The RAPL events wattprint uses. energy-cores and energy-gpu are parts of
// the package and would double count.
struct EventSpec {
  const char* event;  // file name under events/
  const char* domain;  // device id stem: "package" -> "package-0"
  DeviceKind kind;
};
constexpr EventSpec kEvents[] = {
    {"energy-pkg", "package", DeviceKind::kCpu},
    {"energy-ram", "dram", DeviceKind::kDram},
    {"energy-psys", "psys", DeviceKind::kPlatform},
};

struct PerfChannel {
  ChannelInfo info;
  int fd = -1;
  double scale = 0.0;  // joules per count
};

class PerfRaplSource final : public Source {
 public:
  PerfRaplSource(std::shared_ptr<PerfEventApi> api, std::vector<PerfChannel> chans)
      : api_(std::move(api)), chans_(std::move(chans)) {
    for (const PerfChannel& c : chans_) infos_.push_back(c.info);
  }
  ~PerfRaplSource() override {
    for (const PerfChannel& c : chans_) api_->Close(c.fd);
  }
  std::string name() const override { return "perf_rapl"; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) override {
    for (size_t i = 0; i < chans_.size() && i < out.size(); ++i) {
      Result<uint64_t> n = api_->ReadCounter(chans_[i].fd);
      out[i] = n.ok() ? Reading::Of(static_cast<double>(*n) * chans_[i].scale)
                      : Reading::Unavailable(n.status());
    }
  }

 private:
  std::shared_ptr<PerfEventApi> api_;
  std::vector<PerfChannel> chans_;
  std::vector<ChannelInfo> infos_;
};

// "event=0x02" -> 2. Terms other than event= would need the PMU's format
// files; the power PMU has none, so they are rejected.
Result<uint64_t> ParseEventConfig(std::string_view text, const std::string& what) {
  std::string_view t = Trim(text);
  if (!t.starts_with("event=")) return Status::Corrupt(what + ": expected event=0x.., got \"" + std::string(t) + "\"");
  t.remove_prefix(6);
  int base = 10;
  if (t.starts_with("0x") || t.starts_with("0X")) {
    t.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    return Status::Corrupt(what + ": cannot parse event code \"" + std::string(Trim(text)) + "\"");
  return v;
}

struct EventInfo {
  uint64_t config = 0;
  double scale = 0.0;
};

Result<EventInfo> ReadEvent(const FileSystem& fs, const std::string& events_dir, const char* name) {
  std::string base = SystemRoots::Join(events_dir, name);
  Result<std::string> code = fs.ReadFile(base);
  if (!code.ok()) return code.status();
  Result<uint64_t> config = ParseEventConfig(*code, base);
  if (!config.ok()) return config.status();
  Result<std::string> scale_text = fs.ReadFile(base + ".scale");
  if (!scale_text.ok()) return scale_text.status();
  Result<double> scale = ParseDouble(*scale_text, base + ".scale");
  if (!scale.ok()) return scale.status();
  if (*scale <= 0) return Status::Corrupt(base + ".scale: not positive");
  Result<std::string> unit = sources::ReadTrimmed(fs, base + ".unit");
  if (unit.ok() && *unit != "Joules") return Status::NotSupported(base + ".unit is \"" + *unit + "\", not Joules");
  return EventInfo{*config, *scale};
}

std::string ParanoidNote(const SourceOptions& opts) {
  std::string file = opts.roots.Proc("sys/kernel/perf_event_paranoid");
  Result<std::string> text = sources::ReadTrimmed(*opts.fs, file);
  if (!text.ok()) return "kernel.perf_event_paranoid could not be read (" + text.status().message() + ")";
  return "kernel.perf_event_paranoid is " + *text +
         "; system-wide events need it to be <= 0, or the CAP_PERFMON capability (Linux >= 5.8)";
}

struct Probe {
  const SourceOptions& opts;
  PerfEventApi& api;
  uint32_t type = 0;
  std::vector<int> cpus;  // one per package
  std::vector<PerfChannel> chans;
  std::vector<std::string> notes;
  Status denied;

  void CloseAll() {
    for (const PerfChannel& c : chans) api.Close(c.fd);
    chans.clear();
  }

  // Opens `spec` on every package CPU. Returns false on permission denial.
  bool OpenEvent(const EventSpec& spec, const EventInfo& ev, const std::string& path) {
    for (size_t socket = 0; socket < cpus.size(); ++socket) {
      Result<int> fd = api.Open(type, ev.config, cpus[socket]);
      if (!fd.ok() && fd.status().code() == Status::Code::kPermissionDenied) {
        denied = fd.status();
        return false;
      }
      if (!fd.ok()) {
        notes.push_back(std::string(spec.event) + " on cpu " + std::to_string(cpus[socket]) + ": " +
                        fd.status().message());
        continue;
      }
      PerfChannel c;
      bool single = spec.kind == DeviceKind::kPlatform;
      c.info.device_id = single && socket == 0 ? spec.domain : std::string(spec.domain) + "-" + std::to_string(socket);
      c.info.id = "perf_rapl:" + c.info.device_id;
      c.info.label = std::string(spec.kind == DeviceKind::kCpu    ? "CPU package "
                                 : spec.kind == DeviceKind::kDram ? "DRAM socket "
                                                                  : "Platform (psys) ") +
                     std::to_string(socket) + " (perf power/" + spec.event + ", cpu " +
                     std::to_string(cpus[socket]) + ")";
      c.info.kind = spec.kind;
      c.info.type = ChannelType::kEnergyCounter;
      c.info.method = Method::kMeasuredCounter;
      c.info.wrap_range = Energy::Joules(kTwoTo64 * ev.scale);
      c.info.path = path;
      c.fd = *fd;
      c.scale = ev.scale;
      chans.push_back(std::move(c));
      // psys is one counter for the whole platform: open it once.
      if (single) break;
    }
    return true;
  }
};

}  // namespace

ProbeResult ProbePerfRapl(const SourceOptions& opts, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  const FileSystem& fs = *opts.fs;
  std::string pmu = opts.roots.Sys(kPmuDir);
  Result<std::string> type_text = fs.ReadFile(pmu + "/type");
  if (!type_text.ok()) {
    r.reason = "no RAPL perf PMU: " + type_text.status().message();
    return r;
  }
  Result<unsigned long long> type = ParseUnsigned(*type_text, pmu + "/type");
  Result<std::string> mask_text = fs.ReadFile(pmu + "/cpumask");
  Result<std::vector<int>> cpus = mask_text.ok() ? sources::ParseCpuList(*mask_text, pmu + "/cpumask")
                                                 : Result<std::vector<int>>(mask_text.status());
  if (!type.ok() || !cpus.ok()) {
    r.reason = "RAPL perf PMU unusable: " + (type.ok() ? cpus.status() : type.status()).message();
    return r;
  }
  std::shared_ptr<PerfEventApi> api = opts.perf ? opts.perf : RealPerfEventApi();
  Probe p{opts, *api, static_cast<uint32_t>(*type), *cpus, {}, {}, Status::Ok()};
  bool have_package = false;
  for (const EventSpec& spec : kEvents) {
    std::string path = pmu + "/events/" + spec.event;
    if (covered.count(spec.kind)) {
      p.notes.push_back(std::string(spec.event) + " not used: " + ToString(spec.kind) +
                        " already measured by an earlier source");
      if (spec.kind == DeviceKind::kCpu) have_package = true;
      continue;
    }
    Result<EventInfo> ev = ReadEvent(fs, pmu + "/events", spec.event);
    if (!ev.ok()) {
      if (ev.status().code() != Status::Code::kNotFound) p.notes.push_back(ev.status().message());
      continue;
    }
    if (spec.kind == DeviceKind::kPlatform && have_package) {
      p.notes.push_back("energy-psys not used: covers the packages, which are measured");
      continue;
    }
    size_t before = p.chans.size();
    if (!p.OpenEvent(spec, *ev, path)) {
      p.CloseAll();
      r.state = ProbeState::kDenied;
      r.reason = p.denied.message() + "; " + ParanoidNote(opts);
      r.fix = kDeniedFix;
      return r;
    }
    if (spec.kind == DeviceKind::kCpu && p.chans.size() > before) have_package = true;
  }
  if (p.chans.empty()) {
    r.reason = "no usable RAPL perf event";
    if (!p.notes.empty()) r.reason += ": " + sources::Join(p.notes, "; ");
    return r;
  }
  std::vector<std::string> labels;
  for (const PerfChannel& c : p.chans) labels.push_back(c.info.label);
  r.state = ProbeState::kFound;
  r.reason = "perf RAPL: " + sources::Join(labels, ", ");
  if (!p.notes.empty()) r.reason += "; " + sources::Join(p.notes, "; ");
  r.source = std::make_unique<PerfRaplSource>(std::move(api), std::move(p.chans));
  return r;
}

}  // namespace wattprint
