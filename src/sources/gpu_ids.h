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

// What the per-process accounting of one GPU saw in one interval.
struct GpuProcessView {
  bool samples_ok = false;  // nvmlDeviceGetProcessUtilization answered (none = idle)
  std::vector<std::pair<int, double>> samples;  // pid, SM utilisation percent
  bool processes_ok = false;  // the running compute processes are known
  std::vector<std::pair<int, double>> processes;  // pid, used GPU memory bytes
};

// The tracked tree's share (0..1) of a GPU's activity: its part of the
// per-process SM utilisation when any was sampled; else, from the running
// compute processes, 0 when none of them is in the tree, or its part of
// their GPU memory (of their count when no memory is reported); nullopt
// when neither is known. Never above 1.
std::optional<double> TreeShareOfGpu(const GpuProcessView& view, const std::vector<int>& tree_pids);

}  // namespace wattprint::sources
