// The clocks the tracker reads, behind an interface so that tests can move
// time by hand (leveldb's Env::NowMicros is the model): no test sleeps to
// make an interval pass, and a suspend can be staged.
//
// Thread safety: RealClock() is safe from any thread; a test clock is
// whatever its test makes it.
#pragma once

#include <memory>

#include "wattprint/units.h"

namespace wattprint {

class Clock {
 public:
  virtual ~Clock() = default;
  // CLOCK_MONOTONIC (std::chrono::steady_clock): stops while suspended.
  virtual SteadyTime Now() const = 0;
  virtual SystemTime WallNow() const = 0;
  // CLOCK_BOOTTIME - CLOCK_MONOTONIC: the time the machine has spent
  // suspended since it booted. It grows only across a suspend.
  virtual Duration SuspendedSinceBoot() const = 0;
};

// The machine's clocks.
std::shared_ptr<Clock> RealClock();

}  // namespace wattprint
