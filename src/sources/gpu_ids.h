// GPU selection shared by the GPU sources: parsing --gpu-ids and
// CUDA_VISIBLE_DEVICES, and the per-process share of a device's activity.
//
// Private header: not part of the public API. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::sources {

// One entry of a GPU list: an index ("0"), a GPU UUID or unique prefix of
// one ("GPU-5d1d8b2e"), or a MIG device UUID ("MIG-...", or the older
// "MIG-GPU-<uuid>/<gi>/<ci>" form).
struct GpuSelector {
  enum class Kind { kIndex, kGpuUuid, kMigUuid } kind = Kind::kIndex;
  unsigned int index = 0;
  std::string uuid;
  std::string text;  // as written
};

// --gpu-ids: comma-separated entries, spaces around them ignored. Any
// entry that is not an index, GPU-... or MIG-... is InvalidArgument.
Result<std::vector<GpuSelector>> ParseGpuIds(std::string_view text);

// CUDA_VISIBLE_DEVICES as the CUDA runtime reads it: entries up to the
// first invalid one ("-1" included) are used and the rest ignored, so ""
// and "-1" select no GPU (CUDA C Programming Guide, "CUDA Environment
// Variables", 2024).
std::vector<GpuSelector> ParseCudaVisibleDevices(std::string_view text);

// The tracked tree's share (0..1) of a GPU's capacity over an interval,
// following the CPU's rule (docs/ATTRIBUTION.md): the tree is charged the
// part of the device it kept busy, and idle stays unattributed.
//
// SM method, from nvmlDeviceGetProcessUtilization's per-process samples
// (pid, SM utilisation percent): each tree process's mean SM utilisation
// over its samples, summed, capped at 1. A process alone at 5 % SM gets
// 0.05, not the whole GPU.
double TreeSmShare(const std::vector<std::pair<int, double>>& samples, const std::vector<int>& tree_pids);
// Memory method, from the running compute processes (pid, used bytes): the
// tree's GPU memory over the device's total memory (as RSS over MemTotal
// for DRAM). nullopt when the total is unknown.
std::optional<double> TreeMemoryShare(const std::vector<std::pair<int, double>>& processes,
                                      const std::vector<int>& tree_pids, double total_bytes);

}  // namespace wattprint::sources
