// What a channel is: the kind of device it measures, how its figure is
// obtained, its counter range and power ceiling, and the model behind an
// estimate. Discovered once per source; plain values.
//
// Thread safety: value types.
#pragma once

#include <map>
#include <string>

#include "wattprint/units.h"

namespace wattprint {

enum class DeviceKind { kCpu, kDram, kGpu, kPlatform };
enum class ChannelType { kEnergyCounter, kPower };
// How a channel's figure is obtained. Reported next to every number.
enum class Method {
  kMeasuredCounter,  // hardware cumulative energy counter, differenced
  kMeasuredPower,    // hardware power reading, integrated (trapezoid)
  kEstimated,        // a documented model (see ChannelInfo::model)
};

const char* ToString(DeviceKind k);     // "cpu", "dram", "gpu", "platform"
const char* ToString(ChannelType t);    // "energy_counter", "power"
const char* ToString(Method m);         // "measured_counter", "measured_power", "estimated"

struct ChannelInfo {
  std::string id;         // unique within a tracker, e.g. "powercap:package-0"
  std::string device_id;  // the physical device, e.g. "package-0", "gpu-0"
  std::string label;      // human name, e.g. "CPU package 0 (intel-rapl:0)"
  DeviceKind kind = DeviceKind::kCpu;
  ChannelType type = ChannelType::kEnergyCounter;
  Method method = Method::kMeasuredCounter;
  // Counter range: after reaching it the counter restarts at 0. Zero means
  // the range is unknown and a decrease cannot be told from a reset.
  Energy wrap_range;
  // The most power the device can plausibly draw, from the hardware where
  // it says so (RAPL constraint limits, the NVML power limit, an hwmon
  // cap, with headroom); zero = the kind's documented default
  // (DefaultPowerCeiling in ledger.h). The ledger books no interval over
  // it: a decrease that would need more is a reset, not a wrap.
  Power power_ceiling;
  std::string power_ceiling_source;  // where power_ceiling comes from; "" = the default
  // For estimated channels: the model's name, source and other text facts
  // (and a GPU's name, UUID, energy source, attribution note), as key/value
  // pairs that end up in the JSON record.
  std::map<std::string, std::string> model;
  // The model's (or device's) numeric inputs, as numbers: watts, counts,
  // bytes. The JSON record writes them as numbers, next to `model`.
  std::map<std::string, double> model_inputs;
  // Where the figure comes from, e.g. "/sys/class/powercap/intel-rapl:0".
  std::string path;
};

// Which energy feeds emissions: the whole device, or the tracked process
// tree's share of it (docs/ATTRIBUTION.md).
enum class Scope { kMachine, kProcess };
const char* ToString(Scope s);  // "machine", "process"

}  // namespace wattprint
