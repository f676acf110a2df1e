// What the GPU sources share: the per-process share of a device's activity
// (and, from wattprint/gpu_ids.h, the GPU lists).
//
// Private header: not part of the public API. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/gpu_ids.h"
#include "wattprint/status.h"

namespace wattprint::sources {

// The parsed lists are public (wattprint/gpu_ids.h): Config and
// SourceOptions hold them parsed.
using wattprint::GpuSelector;
using wattprint::ParseCudaVisibleDevices;
using wattprint::ParseGpuIds;

// The tracked tree's share (0..1) of a GPU's capacity over an interval,
// following the CPU's rule (docs/ATTRIBUTION.md): the tree is charged the
// part of the device it kept busy, and idle stays unattributed.
//
// SM method, from nvmlDeviceGetProcessUtilization's per-process samples
// (pid, SM utilisation percent): each tree process's mean SM utilisation
// over its samples, summed, capped at 1. A process alone at 5 % SM gets
// 0.05, not the whole GPU.
// Each process's mean SM busy fraction (0..1) over its samples, by pid.
std::vector<std::pair<int, double>> ProcessSmShares(const std::vector<std::pair<int, double>>& samples);
double TreeSmShare(const std::vector<std::pair<int, double>>& samples, const std::vector<int>& tree_pids);
// Memory method, from the running compute processes (pid, used bytes): the
// tree's GPU memory over the device's total memory (as RSS over MemTotal
// for DRAM). nullopt when the total, or a tree process's memory, is unknown
// (NVML_VALUE_NOT_AVAILABLE).
std::optional<double> TreeMemoryShare(const std::vector<std::pair<int, double>>& processes,
                                      const std::vector<int>& tree_pids, double total_bytes);

}  // namespace wattprint::sources
