// The cgroup v2 hierarchy at a poll: which cgroups are followed, and their
// CPU time and memory, read through the FileSystem under the roots.
#include <algorithm>
#include <charconv>
#include <string_view>

#include "wattprint/cgroups.h"

#include "wattprint/activity.h"

namespace wattprint {

namespace {

constexpr std::string_view kRoot = "fs/cgroup";

std::optional<uint64_t> Number(std::string_view text) {
  text = Trim(text);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// "usage_usec 1234" from cpu.stat.
std::optional<uint64_t> UsageUsec(std::string_view stat) {
  size_t at = 0;
  while (at < stat.size()) {
    size_t nl = stat.find('\n', at);
    if (nl == std::string_view::npos) nl = stat.size();
    std::string_view line = stat.substr(at, nl - at);
    if (line.starts_with("usage_usec ")) return Number(line.substr(11));
    at = nl + 1;
  }
  return std::nullopt;
}

int OnlineCpus(std::string_view stat) {
  int n = 0;
  size_t at = 0;
  while (at < stat.size()) {
    size_t nl = stat.find('\n', at);
    if (nl == std::string_view::npos) nl = stat.size();
    std::string_view line = stat.substr(at, nl - at);
    if (line.size() > 3 && line.starts_with("cpu") && line[3] >= '0' && line[3] <= '9') ++n;
    at = nl + 1;
  }
  return n;
}

std::optional<uint64_t> MemTotalBytes(std::string_view meminfo) {
  const size_t at = meminfo.find("MemTotal:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = meminfo.substr(at + 9);
  rest = rest.substr(0, rest.find('\n'));
  rest = Trim(rest);
  if (!rest.ends_with(" kB")) return std::nullopt;
  auto kb = Number(rest.substr(0, rest.size() - 3));
  if (!kb || *kb == 0 || *kb > (uint64_t{1} << 44)) return std::nullopt;
  return *kb * 1024;
}

}  // namespace

CgroupSampler::CgroupSampler(std::shared_ptr<FileSystem> fs, SystemRoots roots, CgroupSelection selection)
    : fs_(std::move(fs)), roots_(std::move(roots)), selection_(std::move(selection)) {}

void CgroupSampler::Find(const std::string& rel, int depth_left, std::vector<std::string>* out) const {
  if (depth_left == 0) {
    out->push_back(rel);
    return;
  }
  auto subdirs = fs_->ListSubdirs(roots_.Sys(std::string(kRoot) + (rel.empty() ? "" : "/" + rel)));
  if (!subdirs.ok()) return;  // vanished meanwhile
  for (const std::string& name : *subdirs) Find(rel.empty() ? name : rel + "/" + name, depth_left - 1, out);
}

bool CgroupSampler::ReadKept(std::unique_ptr<FileHandle>* handle, const std::string& root, const std::string& cgroup,
                             const char* file, std::string* text) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!*handle) {
      auto h = fs_->Open(root + "/" + cgroup + "/" + file);
      if (!h.ok()) return false;
      *handle = std::move(h).value();
    }
    if ((*handle)->Read(text).ok()) return true;
    handle->reset();  // a removed cgroup's file: try the path once more
  }
  return false;
}

Result<CgroupSnapshot> CgroupSampler::Sample(SteadyTime now) {
  const std::string root = roots_.Sys(kRoot);
  if (auto c = fs_->ReadFile(root + "/cgroup.controllers"); !c.ok()) {
    return Status::IOError(root + " is not a cgroup v2 hierarchy (" + c.status().message() +
                           "): mount cgroup2 there, or point --sysfs-root at the host's /sys");
  }
  CgroupSnapshot snap;
  snap.t = now;
  auto stat = fs_->ReadFile(roots_.Proc("stat"));
  if (!stat.ok()) return stat.status();
  snap.online_cpus = OnlineCpus(*stat);
  auto meminfo = fs_->ReadFile(roots_.Proc("meminfo"));
  if (!meminfo.ok()) return meminfo.status();
  snap.mem_total_bytes = MemTotalBytes(*meminfo).value_or(0);
  if (snap.online_cpus == 0) return Status::Corrupt(roots_.Proc("stat") + ": no cpuN line");
  std::vector<std::string> paths;
  if (selection_.parents.empty()) {
    Find("", std::max(1, selection_.depth), &paths);
  } else {
    for (const std::string& parent : selection_.parents) Find(parent, 1, &paths);
  }
  // One parent's listing comes sorted; sorting is only needed across
  // parents and levels.
  if (!std::is_sorted(paths.begin(), paths.end())) std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  if (paths.size() > selection_.max_cgroups) {
    snap.dropped = paths.size() - selection_.max_cgroups;
    paths.resize(selection_.max_cgroups);
  }
  snap.cgroups.reserve(paths.size());
  ++samples_;
  std::string text;
  // Both the listing and the open files are in path order: one walk
  // through them finds each cgroup's files, and closes those of the
  // cgroups that went.
  auto kept = open_.begin();
  for (std::string& p : paths) {
    int order = 1;
    while (kept != open_.end() && (order = kept->first.compare(p)) < 0) kept = open_.erase(kept);
    if (kept == open_.end() || order != 0) kept = open_.emplace_hint(kept, p, Open{});
    Open& files = kept->second;
    ++kept;
    const bool fresh = files.seen == 0;
    files.seen = samples_;
    CgroupReading r;
    if (ReadKept(&files.cpu, root, p, "cpu.stat", &text)) r.usage_usec = UsageUsec(text);
    if (fresh || now - files.memory_read >= (files.memory_missing ? kMissingFileRetry : kTreeWalkPeriod)) {
      files.memory_bytes.reset();
      files.memory_missing = !ReadKept(&files.memory, root, p, "memory.current", &text);
      if (!files.memory_missing) files.memory_bytes = Number(text);
      files.memory_read = now;
    }
    r.memory_bytes = files.memory_bytes;
    if (!r.usage_usec && !r.memory_bytes) continue;  // gone between the listing and the read
    r.path = std::move(p);
    snap.cgroups.push_back(std::move(r));
  }
  open_.erase(kept, open_.end());
  return snap;
}

std::optional<std::string> CgroupSampler::CgroupOf(int pid) const {
  auto text = fs_->ReadFile(roots_.Proc(std::to_string(pid) + "/cgroup"));
  if (!text.ok()) return std::nullopt;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.starts_with("0::")) continue;
    line.remove_prefix(3);
    while (line.starts_with('/')) line.remove_prefix(1);
    while (line.ends_with('/')) line.remove_suffix(1);
    // " (deleted)" follows the path of a cgroup removed while the process
    // is still in it: not one that is followed.
    if (line.ends_with(" (deleted)")) return std::nullopt;
    return std::string(line);
  }
  return std::nullopt;
}

}  // namespace wattprint
