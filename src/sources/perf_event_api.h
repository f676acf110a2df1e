// A thin seam around perf_event_open(2), so the perf RAPL source can be
// tested with a fake and run without privileges in CI.
//
// Only what the RAPL `power` PMU needs: open one system-wide counting event
// on one CPU (pid = -1), read its 64-bit count, close it.
//
// Thread safety: the real implementation is stateless and may be shared;
// fakes used in tests need not be thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "wattprint/status.h"

namespace wattprint {

class PerfEventApi {
 public:
  virtual ~PerfEventApi() = default;
  // Opens a counting event of PMU `type` (the number in
  // /sys/bus/event_source/devices/<pmu>/type) with attr.config = `config`,
  // for all processes on `cpu`. Returns the file descriptor. EACCES/EPERM
  // map to PermissionDenied (perf_event_paranoid > 0 without CAP_PERFMON).
  virtual Result<int> Open(uint32_t type, uint64_t config, int cpu) = 0;
  // The event's raw 64-bit count since Open(). Raw units: multiply by the
  // event's .scale file to get the event's .unit (joules for RAPL). The
  // kernel accumulates the hardware's 32-bit register into this 64-bit
  // value, so it does not wrap in practice.
  virtual Result<uint64_t> ReadCounter(int fd) = 0;
  virtual void Close(int fd) = 0;
};

// The real perf_event_open(2). Stateless; one instance may be shared.
std::shared_ptr<PerfEventApi> RealPerfEventApi();

}  // namespace wattprint
