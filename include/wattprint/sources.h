// Source discovery: the explicit table of every source wattprint knows, the
// probe of each one, and the choice of which channels feed a run.
//
// Adding a source = one file under src/sources/ plus one line in
// kSourceTable (src/sources/registry.cpp). No static initialisers.
//
// Selection policy: sources are probed in table order; a later source only
// contributes channels of device kinds no earlier source covered. Hardware
// counters come first, estimation models last, so a model only fills in
// what could not be measured.
//
// Thread safety: Discover() is a pure function of its options.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "wattprint/fs.h"
#include "wattprint/gpu_ids.h"
#include "wattprint/source.h"

namespace wattprint {

class PerfEventApi;  // src/sources/perf_event_api.h

struct SourceOptions {
  SystemRoots roots;
  std::shared_ptr<FileSystem> fs;             // null = PosixFileSystem()
  std::shared_ptr<PerfEventApi> perf;         // null = the real perf_event_open
  std::optional<Power> cpu_power_override;    // --cpu-power: full-load machine CPU watts
  std::optional<Power> ram_power_override;    // constant RAM watts
  bool disable_estimation = false;
  // GPU libraries: a path for dlopen; empty = the library's usual sonames.
  std::string nvml_library;
  std::string rocm_smi_library;
  // --gpu-ids, parsed (wattprint/gpu_ids.h); empty = cuda_visible_devices
  // for NVIDIA GPUs, else every GPU. gpu_ids_text is as the user wrote it.
  std::vector<GpuSelector> gpu_ids;
  std::string gpu_ids_text;
  // The CUDA_VISIBLE_DEVICES of the environment (nullopt = unset), passed
  // in rather than read here so probes stay pure functions of their options.
  std::optional<std::string> cuda_visible_devices;
};

enum class ProbeState { kFound, kAbsent, kDenied };
const char* ToString(ProbeState s);  // "found", "absent", "denied"

struct ProbeResult {
  ProbeState state = ProbeState::kAbsent;
  std::string reason;  // what was found, or why not
  std::string fix;     // for kDenied: the exact command or rule that fixes it
  std::unique_ptr<Source> source;  // set when kFound and it has channels
  // Kinds of device the probe saw but could not (all) measure: a GPU that
  // is denied or has neither counter nor power reading. Outputs then show
  // that kind as unknown, never as a measured 0.
  std::vector<DeviceKind> unmeasured;
};

using SourceProbe = ProbeResult (*)(const SourceOptions& opts, const std::set<DeviceKind>& covered);

struct SourceEntry {
  const char* name;
  const char* description;
  SourceProbe probe;
};

std::span<const SourceEntry> SourceTable();

struct ProbeReport {
  std::string name;
  std::string description;
  ProbeState state;
  std::string reason;
  std::string fix;
  std::vector<ChannelInfo> channels;  // channels it contributes
  std::vector<DeviceKind> unmeasured;  // ProbeResult::unmeasured
};

struct DiscoveredSources {
  std::vector<std::unique_ptr<Source>> sources;
  std::vector<ProbeReport> reports;  // one per table entry, in table order
};

DiscoveredSources DiscoverSources(const SourceOptions& opts);

}  // namespace wattprint
