// RAPL energy counters through the powercap sysfs interface
// (/sys/class/powercap/intel-rapl:*, Linux >= 3.13; AMD Zen since 5.8).
//
// Domain policy (why): RAPL domains nest. `package-N` already contains
// `core` (PP0) and `uncore` (PP1), so those are never added on top of it.
// `psys` (platform, Skylake+) covers the package and more, so it is used
// only when no package domain exists. `intel-rapl-mmio:N` is a second
// interface (MMIO registers, Tiger Lake+) to the same package counter, so a
// package already seen through the MSR interface is counted once.
#include <algorithm>
#include <map>
#include <set>

#include "sources/probes.h"
#include "sources/source_util.h"

namespace wattprint {
namespace {

using sources::SysfsChannel;

constexpr const char* kMsrPrefix = "intel-rapl:";
constexpr const char* kMmioPrefix = "intel-rapl-mmio:";

// Debian/Ubuntu kernels since the PLATYPUS fix (CVE-2020-8694, Nov 2020)
// make energy_uj readable by root only.
constexpr const char* kDeniedFix =
    "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*:*/energy_uj\n"
    "To keep it across reboots, add to /etc/udev/rules.d/99-powercap.rules:\n"
    "ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", "
    "RUN+=\"/bin/chmod o+r /sys%p/energy_uj\"";

struct Zone {
  std::string dir_name;      // "intel-rapl:0:1"
  std::string path;          // <sysfs>/class/powercap/intel-rapl:0:1
  std::string domain;        // contents of `name`: "package-0", "dram", ...
  std::vector<int> indices;  // {0, 1}
  bool mmio = false;
};

enum class Role { kPackage, kDram, kPsys, kNested, kUnknown };

Role RoleOf(const std::string& domain) {
  if (domain.starts_with("package-")) return Role::kPackage;
  if (domain == "dram") return Role::kDram;
  if (domain == "psys") return Role::kPsys;
  if (domain == "core" || domain == "uncore") return Role::kNested;
  return Role::kUnknown;
}

// Zones found under class/powercap, MSR interface first, then by index, so
// channel order is stable and "intel-rapl:10" follows "intel-rapl:2".
std::vector<Zone> ListZones(const FileSystem& fs, const std::string& dir,
                            const std::vector<std::string>& names, std::vector<std::string>* notes) {
  std::vector<Zone> zones;
  for (const std::string& n : names) {
    Zone z{n, SystemRoots::Join(dir, n), "", {}, false};
    z.indices = sources::IndicesAfter(n, kMsrPrefix);
    if (z.indices.empty()) {
      z.indices = sources::IndicesAfter(n, kMmioPrefix);
      z.mmio = true;
    }
    if (z.indices.empty()) continue;  // "intel-rapl" itself is the control type, not a zone
    Result<std::string> domain = sources::ReadTrimmed(fs, z.path + "/name");
    if (!domain.ok() || domain->empty()) {
      notes->push_back(n + ": no readable domain name (" +
                       (domain.ok() ? std::string("empty") : domain.status().message()) + "), skipped");
      continue;
    }
    z.domain = *domain;
    zones.push_back(std::move(z));
  }
  std::sort(zones.begin(), zones.end(), [](const Zone& a, const Zone& b) {
    return std::tie(a.mmio, a.indices) < std::tie(b.mmio, b.indices);
  });
  return zones;
}

// Picks the zones that become channels and explains every zone left out.
std::vector<const Zone*> ChooseZones(const std::vector<Zone>& zones, std::vector<std::string>* notes) {
  bool has_package = std::any_of(zones.begin(), zones.end(),
                                 [](const Zone& z) { return RoleOf(z.domain) == Role::kPackage; });
  std::map<std::string, std::string> packages_seen;  // "package-0" -> zone dir name
  std::vector<const Zone*> chosen;
  for (const Zone& z : zones) {
    std::string id = z.domain + " (" + z.dir_name + ")";
    Role role = RoleOf(z.domain);
    if (role == Role::kNested) {
      notes->push_back(id + " not used: already included in its package");
    } else if (role == Role::kUnknown) {
      notes->push_back(id + " not used: unknown domain");
    } else if (role == Role::kPsys && has_package) {
      notes->push_back(id + " not used: covers the packages, which are measured");
    } else if (role == Role::kPackage && packages_seen.count(z.domain)) {
      notes->push_back(id + " not used: same counter as " + packages_seen[z.domain]);
    } else {
      if (role == Role::kPackage) packages_seen[z.domain] = z.dir_name;
      chosen.push_back(&z);
    }
  }
  return chosen;
}

DeviceKind KindOf(Role r) {
  if (r == Role::kDram) return DeviceKind::kDram;
  if (r == Role::kPsys) return DeviceKind::kPlatform;
  return DeviceKind::kCpu;
}

// "package-0", "dram-0" (the socket is the zone's first index), "psys".
std::string DeviceIdOf(const Zone& z) {
  Role r = RoleOf(z.domain);
  if (r == Role::kDram) return "dram-" + std::to_string(z.indices.front());
  if (r == Role::kPsys && z.indices.front() != 0) return "psys-" + std::to_string(z.indices.front());
  return z.domain;
}

std::string LabelOf(const Zone& z, const std::string& device_id) {
  Role r = RoleOf(z.domain);
  std::string what = r == Role::kDram   ? "DRAM socket " + std::to_string(z.indices.front())
                     : r == Role::kPsys ? std::string("Platform (psys)")
                                        : "CPU package " + device_id.substr(std::string("package-").size());
  return what + " (" + z.dir_name + ")";
}

// Reads max_energy_range_uj; 0 (unknown) with a note when it cannot be read.
Energy WrapRangeOf(const FileSystem& fs, const Zone& z, std::vector<std::string>* notes) {
  std::string file = z.path + "/max_energy_range_uj";
  Result<std::string> text = fs.ReadFile(file);
  Result<unsigned long long> uj = text.ok() ? ParseUnsigned(*text, file) : Result<unsigned long long>(text.status());
  if (uj.ok() && *uj > 0) return Energy::Microjoules(static_cast<double>(*uj));
  notes->push_back(z.dir_name + ": counter range unknown, wraps cannot be told from resets (" +
                   (uj.ok() ? std::string("max_energy_range_uj is 0") : uj.status().message()) + ")");
  return Energy(0.0);
}

// The zone's power ceiling: twice the largest figure its constraints state
// (constraint_N_max_power_uw, and constraint_N_power_limit_uw, since a
// package runs at its short-term limit for a while), so turbo overshoot and
// counter steps stay under it. Zero (the kind's default) when none is
// readable.
void SetCeiling(const FileSystem& fs, const Zone& z, ChannelInfo* info) {
  std::vector<std::string> files;
  for (int n = 0; n < 4; ++n) {
    for (const char* what : {"max_power_uw", "power_limit_uw"}) {
      files.push_back(z.path + "/constraint_" + std::to_string(n) + "_" + what);
    }
  }
  sources::SetCeilingFromMicrowatts(fs, files, info);
}

struct Opened {
  std::vector<SysfsChannel> channels;
  std::vector<std::string> denied;  // files that could not be opened for permission
};

Opened OpenChannels(const FileSystem& fs, const std::vector<const Zone*>& chosen,
                    const std::set<DeviceKind>& covered, std::vector<std::string>* notes) {
  Opened out;
  for (const Zone* z : chosen) {
    DeviceKind kind = KindOf(RoleOf(z->domain));
    if (covered.count(kind)) {
      notes->push_back(z->domain + " (" + z->dir_name + ") not used: " + ToString(kind) +
                       " already measured by an earlier source");
      continue;
    }
    std::string file = z->path + "/energy_uj";
    Result<std::unique_ptr<FileHandle>> h = fs.Open(file);
    if (!h.ok() && h.status().code() == Status::Code::kPermissionDenied) {
      out.denied.push_back(file);
      continue;
    }
    if (!h.ok()) {
      notes->push_back(z->dir_name + ": " + h.status().message() + ", skipped");
      continue;
    }
    // A counter that cannot be read now is not "found": it would disable
    // the estimate and leave the kind unknown. The next source fills in.
    if (Status first = sources::FirstReadParses(**h, file); !first.ok()) {
      notes->push_back(z->dir_name + ": " + first.message() + ", skipped");
      continue;
    }
    SysfsChannel c;
    std::string device_id = DeviceIdOf(*z);
    c.info.id = "powercap:" + device_id;
    c.info.device_id = device_id;
    c.info.label = LabelOf(*z, device_id);
    c.info.kind = kind;
    c.info.type = ChannelType::kEnergyCounter;
    c.info.method = Method::kMeasuredCounter;
    c.info.wrap_range = WrapRangeOf(fs, *z, notes);
    SetCeiling(fs, *z, &c.info);
    c.info.path = z->path;
    c.handle = std::move(h).value();
    c.file = file;
    c.scale = 1e-6;  // µJ -> J
    out.channels.push_back(std::move(c));
  }
  return out;
}

std::string Describe(const std::vector<SysfsChannel>& channels) {
  std::vector<std::string> parts;
  for (const SysfsChannel& c : channels) parts.push_back(c.info.label);
  return sources::Join(parts, ", ");
}

}  // namespace

ProbeResult ProbePowercap(const SourceOptions& opts, const std::set<DeviceKind>& covered) {
  const FileSystem& fs = *opts.fs;
  std::string dir = opts.roots.Sys("class/powercap");
  ProbeResult r;
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) {
    r.reason = "no powercap interface: " + names.status().message();
    return r;
  }
  std::vector<std::string> notes;
  std::vector<Zone> zones = ListZones(fs, dir, *names, &notes);
  if (zones.empty()) {
    r.reason = "no RAPL zones (intel-rapl:*) under " + dir;
    if (!notes.empty()) r.reason += "; " + sources::Join(notes, "; ");
    return r;
  }
  std::vector<const Zone*> chosen = ChooseZones(zones, &notes);
  Opened opened = OpenChannels(fs, chosen, covered, &notes);
  if (!opened.denied.empty()) {
    r.state = ProbeState::kDenied;
    r.reason = "RAPL zones exist but energy_uj is readable by root only (since the PLATYPUS fix, "
               "CVE-2020-8694): " + sources::Join(opened.denied, ", ");
    r.fix = kDeniedFix;
    return r;
  }
  if (opened.channels.empty()) {
    r.reason = "no usable RAPL domain; " + sources::Join(notes, "; ");
    return r;
  }
  r.state = ProbeState::kFound;
  r.reason = "RAPL: " + Describe(opened.channels);
  if (!notes.empty()) r.reason += "; " + sources::Join(notes, "; ");
  r.source = std::make_unique<sources::SysfsSource>("powercap", std::move(opened.channels), opts.fs);
  return r;
}

}  // namespace wattprint
