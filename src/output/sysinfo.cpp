// System facts for run metadata (see sysinfo.h).
#include "output/sysinfo.h"

#include <gnu/libc-version.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <random>
#include <vector>

#include <fmt/format.h>

#ifndef WATTPRINT_VERSION
#define WATTPRINT_VERSION "0.0.0"
#endif

namespace wattprint {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls fn(key, value) for each "key : value" line of a procfs text file.
template <typename Fn>
void ForEachKeyValue(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!fn(TrimSpace(line.substr(0, colon)), TrimSpace(line.substr(colon + 1)))) return;
  }
}

}  // namespace

std::string FormatPlatform(std::string_view sysname, std::string_view release,
                           std::string_view machine, std::string_view libc_version) {
  std::string out = fmt::format("{}-{}-{}", sysname, release, machine);
  if (!libc_version.empty()) out += fmt::format("-with-glibc{}", libc_version);
  return out;
}

std::string PlatformString() {
  struct utsname u {};
  if (uname(&u) != 0) return "";
  return FormatPlatform(u.sysname, u.release, u.machine, gnu_get_libc_version());
}

std::string ParseCpuModel(std::string_view cpuinfo) {
  std::string model;
  std::string fallback;
  ForEachKeyValue(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key == "model name") {
      model = std::string(value);
      return false;
    }
    // ARM kernels have no "model name" on older releases; "Hardware" or
    // "Model" names the board instead.
    if (fallback.empty() && (key == "Hardware" || key == "Model")) fallback = std::string(value);
    return true;
  });
  return model.empty() ? fallback : model;
}

int ParseCpuCount(std::string_view cpuinfo) {
  int n = 0;
  ForEachKeyValue(cpuinfo, [&](std::string_view key, std::string_view) {
    if (key == "processor") ++n;
    return true;
  });
  return n;
}

int ParseCpuSockets(std::string_view cpuinfo) {
  std::vector<std::string_view> ids;
  ForEachKeyValue(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key == "physical id" && std::find(ids.begin(), ids.end(), value) == ids.end()) ids.push_back(value);
    return true;
  });
  return static_cast<int>(ids.size());
}

std::optional<unsigned long long> ParseMemTotalBytes(std::string_view meminfo) {
  std::optional<unsigned long long> bytes;
  ForEachKeyValue(meminfo, [&](std::string_view key, std::string_view value) {
    if (key != "MemTotal") return true;
    // The kernel writes "16314368 kB" where kB means KiB.
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB") {
      std::string_view digits = value.substr(0, value.size() - 3);
      unsigned long long kib = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), kib);
      if (ec == std::errc() && end == digits.data() + digits.size()) bytes = kib * 1024ULL;
    }
    return false;
  });
  return bytes;
}

std::string NewRunId() {
  std::array<uint8_t, 16> b{};
  // getrandom(2): one system call from the kernel's pool (std::random_device
  // first probes the CPU for RDRAND, which traps to the hypervisor in VMs).
  if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) {
    std::random_device rd;
    for (size_t i = 0; i < b.size(); i += 4) {
      const uint32_t r = rd();
      for (size_t k = 0; k < 4; ++k) b[i + k] = static_cast<uint8_t>(r >> (8 * k));
    }
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC variant
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0F];
  }
  return out;
}

std::optional<SelfCost> MeasureSelfCost() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return std::nullopt;
  SelfCost c;
  c.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  c.peak_rss_kib = ru.ru_maxrss;
  return c;
}

RunMetadata CollectMetadata(const SystemRoots& roots, const FileSystem& fs) {
  RunMetadata m;
  m.run_id = NewRunId();
  m.os = PlatformString();
  m.tool_version = WATTPRINT_VERSION;
  if (auto cpuinfo = fs.ReadFile(roots.Proc("cpuinfo")); cpuinfo.ok()) {
    m.cpu_model = ParseCpuModel(*cpuinfo);
    m.cpu_count = ParseCpuCount(*cpuinfo);
    m.cpu_sockets = ParseCpuSockets(*cpuinfo);
  }
  if (auto meminfo = fs.ReadFile(roots.Proc("meminfo")); meminfo.ok()) {
    m.ram_total_bytes = ParseMemTotalBytes(*meminfo).value_or(0);
  }
  return m;
}

void AddGpuMetadata(const std::vector<ProbeReport>& reports, RunMetadata* meta) {
  std::vector<std::string> seen;
  std::vector<std::pair<std::string, int>> models;  // in first-seen order
  for (const ProbeReport& r : reports) {
    for (const ChannelInfo& c : r.channels) {
      if (c.kind != DeviceKind::kGpu) continue;
      if (std::find(seen.begin(), seen.end(), c.device_id) != seen.end()) continue;
      seen.push_back(c.device_id);
      auto it = c.model.find("name");
      const std::string name = it != c.model.end() && !it->second.empty() ? it->second : c.label;
      auto m = std::find_if(models.begin(), models.end(), [&](const auto& p) { return p.first == name; });
      if (m == models.end()) {
        models.emplace_back(name, 1);
      } else {
        ++m->second;
      }
    }
  }
  meta->gpu_count = static_cast<int>(seen.size());
  meta->gpu_model.clear();
  for (const auto& [name, n] : models) {
    meta->gpu_model += fmt::format("{}{} x {}", meta->gpu_model.empty() ? "" : ", ", n, name);
  }
}

}  // namespace wattprint
