// The source interface: anything that can report the energy or power of a
// device (RAPL, hwmon, a GPU library, or an estimation model).
//
// A source exposes a fixed list of channels, discovered once when it is
// created. Each poll fills one Reading per channel, taken at the steady-clock
// time the caller passes. A channel that cannot be read reports unavailable
// with the reason; it never reports 0.
//
// Units: an energy counter reports cumulative joules since an arbitrary
// origin, wrapping to 0 after ChannelInfo::wrap_range (0 = range unknown). A
// power channel reports instantaneous (or device-averaged) watts.
//
// Thread safety: a Source is polled by one thread at a time (the tracker's
// sampler holds a lock around polls); it need not be internally synchronised.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "wattprint/channel.h"
#include "wattprint/sample.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;  // "powercap", "perf_rapl", "hwmon", "estimate_cpu", ...
  virtual const std::vector<ChannelInfo>& channels() const = 0;
  // Fills out[i] for channels()[i]; out.size() == channels().size().
  // `activity` is the snapshot taken at the same instant (may be !ok).
  virtual void Poll(SteadyTime now, const ActivitySnapshot& activity, std::span<Reading> out) = 0;
};

}  // namespace wattprint
