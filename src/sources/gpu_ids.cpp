// GPU lists and per-process shares; see gpu_ids.h.
#include "sources/gpu_ids.h"

#include <algorithm>
#include <map>
#include <charconv>

namespace wattprint {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t c = text.find(',');
    out.push_back(TrimSpaces(text.substr(0, c)));
    if (c == std::string_view::npos) return out;
    text.remove_prefix(c + 1);
  }
}

std::optional<GpuSelector> ParseOne(std::string_view t) {
  GpuSelector s;
  s.text = std::string(t);
  if (t.starts_with("GPU-") && t.size() > 4) {
    s.kind = GpuSelector::Kind::kGpuUuid;
    s.uuid = s.text;
    return s;
  }
  if (t.starts_with("MIG-") && t.size() > 4) {
    s.kind = GpuSelector::Kind::kMigUuid;
    s.uuid = s.text;
    return s;
  }
  unsigned int v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  s.index = v;
  return s;
}

}  // namespace

Result<std::vector<GpuSelector>> ParseGpuIds(std::string_view text) {
  std::vector<GpuSelector> out;
  for (std::string_view t : SplitCommas(text)) {
    std::optional<GpuSelector> s = ParseOne(t);
    if (!s) {
      return Status::InvalidArgument("'" + std::string(t) +
                                     "' is not a GPU index, GPU-<uuid> or MIG-<uuid>");
    }
    out.push_back(std::move(*s));
  }
  return out;
}

std::vector<GpuSelector> ParseCudaVisibleDevices(std::string_view text) {
  std::vector<GpuSelector> out;
  if (TrimSpaces(text).empty()) return out;
  for (std::string_view t : SplitCommas(text)) {
    std::optional<GpuSelector> s = ParseOne(t);
    if (!s) break;
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace wattprint

namespace wattprint::sources {
namespace {

bool InTree(int pid, const std::vector<int>& tree) {
  return std::find(tree.begin(), tree.end(), pid) != tree.end();
}

}  // namespace

std::vector<std::pair<int, double>> ProcessSmShares(const std::vector<std::pair<int, double>>& samples) {
  std::map<int, std::pair<double, int>> per_pid;  // pid -> (sum of SM %, samples)
  for (const auto& [pid, sm] : samples) {
    auto& [sum, n] = per_pid[pid];
    sum += sm > 0.0 ? sm : 0.0;
    ++n;
  }
  std::vector<std::pair<int, double>> out;
  out.reserve(per_pid.size());
  for (const auto& [pid, acc] : per_pid) out.emplace_back(pid, std::min(1.0, acc.first / acc.second / 100.0));
  return out;
}

double TreeSmShare(const std::vector<std::pair<int, double>>& samples, const std::vector<int>& tree_pids) {
  double busy = 0.0;
  for (const auto& [pid, share] : ProcessSmShares(samples)) {
    if (InTree(pid, tree_pids)) busy += share;
  }
  return std::min(1.0, busy);
}

std::optional<double> TreeMemoryShare(const std::vector<std::pair<int, double>>& processes,
                                      const std::vector<int>& tree_pids, double total_bytes) {
  if (total_bytes <= 0.0) return std::nullopt;
  double mine = 0.0;
  for (const auto& [pid, bytes] : processes) {
    if (!InTree(pid, tree_pids)) continue;
    // NVML_VALUE_NOT_AVAILABLE (all ones; always under WDDM) or a value
    // beyond the device: the tree's memory is unknown, never the whole GPU.
    if (!(bytes >= 0.0) || bytes > total_bytes) return std::nullopt;
    mine += bytes;
  }
  return std::min(1.0, mine / total_bytes);
}

}  // namespace wattprint::sources
