// The probe function of every source in kSourceTable (registry.cpp).
//
// Each probe looks for its hardware through opts.fs rooted at opts.roots and
// returns what it found. `covered` holds the device kinds that earlier
// sources in the table already measure; a probe must not create channels of
// those kinds (the registry enforces this as well).
//
// Private header: not part of the public API.
#pragma once

#include <set>

#include "wattprint/sources.h"

namespace wattprint {

ProbeResult ProbePowercap(const SourceOptions& opts, const std::set<DeviceKind>& covered);
ProbeResult ProbePerfRapl(const SourceOptions& opts, const std::set<DeviceKind>& covered);
// NVIDIA GPUs through NVML (nvml.cpp) and AMD GPUs through ROCm SMI (rocm_smi.cpp).
ProbeResult ProbeNvml(const SourceOptions& opts, const std::set<DeviceKind>& covered);
ProbeResult ProbeRocmSmi(const SourceOptions& opts, const std::set<DeviceKind>& covered);
ProbeResult ProbeHwmon(const SourceOptions& opts, const std::set<DeviceKind>& covered);
// Defined in estimate_cpu.cpp / estimate_ram.cpp.
ProbeResult ProbeEstimateCpu(const SourceOptions& opts, const std::set<DeviceKind>& covered);
ProbeResult ProbeEstimateRam(const SourceOptions& opts, const std::set<DeviceKind>& covered);

// DiscoverSources() over any table (tests use tables of fake probes):
// probes each entry in order with the kinds covered so far, and keeps from
// each source only the channels of kinds no earlier source covered.
DiscoveredSources DiscoverFrom(std::span<const SourceEntry> table, const SourceOptions& opts);

}  // namespace wattprint
