// Per-vCPU idle and full-load power of CPU families, and the matching of
// /proc/cpuinfo to a family, for the CPU estimation model (estimate_cpu.cpp).
//
// The figures are Cloud Carbon Footprint's per-vCPU minimum and maximum watts
// by microarchitecture, derived from SPECpower_ssj2008 results (see
// docs/sources/estimate.md). Families CCF publishes no figures for (Ice Lake,
// Sapphire Rapids, EPYC 4th gen, Neoverse V1/V2, Apple) are recognised and
// named, and use CCF's AWS cross-architecture average, which is also used
// for CPUs that are not recognised at all.
//
// Private header: not part of the public API.
#pragma once

#include <string>
#include <string_view>

namespace wattprint::sources {

struct CpuCoefficients {
  const char* name;        // "Cascade Lake", ... or "average"
  double idle_w_per_vcpu;  // watts per vCPU at 0 % utilisation
  double max_w_per_vcpu;   // watts per vCPU at 100 % utilisation
};

inline constexpr const char* kCcfSource =
    "Cloud Carbon Footprint, methodology (cloudcarbonfootprint.org/docs/methodology) and "
    "packages/core/src/compute/ComputeProcessorTypes.ts, 2021-2023 (from SPECpower_ssj2008)";

// CCF's "AWS average" min/max watts per vCPU: the average over the
// microarchitectures AWS uses. Used when the family is unknown or has no CCF
// figures.
inline constexpr CpuCoefficients kAverageCpu{"average", 0.74, 3.5};

// What /proc/cpuinfo says about the CPU. Fields absent from the file keep
// their defaults.
struct CpuInfoSummary {
  std::string model_name;  // "model name" of the first processor
  std::string vendor;      // "vendor_id" (x86)
  int family = -1;         // "cpu family" (x86)
  int model = -1;          // "model" (x86)
  int stepping = -1;       // "stepping" (x86)
  int implementer = -1;    // "CPU implementer" (arm64), e.g. 0x41 Arm
  int part = -1;           // "CPU part" (arm64), e.g. 0xd0c Neoverse N1
  int processors = 0;      // number of "processor" entries (logical CPUs)
};

CpuInfoSummary ParseCpuInfo(std::string_view text);

struct CpuModelChoice {
  std::string family;  // the recognised family, e.g. "Intel Xeon Cascade Lake"; empty if unknown
  CpuCoefficients coefficients = kAverageCpu;  // the row used
  bool family_has_figures = false;  // false: the average row is used
  std::string match;                // how the family was recognised, or why not
};

// The rows of CCF's table with the lowest and the highest per-vCPU figures
// (idle and max taken separately), for the model's bounds.
CpuCoefficients LowestCpuRow();
CpuCoefficients HighestCpuRow();

// Recognises the family from the model name first, then from the x86
// family/model numbers or the arm64 implementer/part.
CpuModelChoice ChooseCpuModel(const CpuInfoSummary& cpu);

}  // namespace wattprint::sources
